"""What range each traced quantity lives in, and so what "saturated" means for it.

Sigmoid gates (input, forget, output, reset, update) lie in (0, 1): saturated below 0.1 or above 0.9, where the
sigmoid's slope is under 0.09 and the gate passes almost nothing or almost everything. tanh-valued quantities
(candidates, and h of the tanh RNN, LSTM and GRU) lie in (-1, 1): saturated where |v| > 0.9, the same
neighbourhood of the flat ends mapped through tanh = 2 sigmoid(2x) - 1. The LSTM cell state c and a relu RNN's
h are unbounded: no saturation is defined for them.
"""

from __future__ import annotations

from torch import Tensor

SIGMOID_GATES = frozenset({"input", "forget", "output", "reset", "update"})
LOW, HIGH = 0.1, 0.9


def gate_kind(name: str, nonlinearity: str = "tanh") -> str:
    """``"sigmoid"``, ``"tanh"`` or ``"unbounded"`` for a trace name (``nonlinearity``: the RNN's, for h)."""
    if name in SIGMOID_GATES:
        return "sigmoid"
    if name == "c" or (name == "h" and nonlinearity == "relu"):
        return "unbounded"
    return "tanh"


def saturated(values: Tensor, kind: str) -> tuple[Tensor, Tensor] | None:
    """Boolean masks ``(low_end, high_end)`` of saturated values, or None for an unbounded quantity.

    For sigmoid gates the ends are v < 0.1 and v > 0.9; for tanh-valued ones v < -0.9 and v > 0.9.
    """
    if kind == "sigmoid":
        return values < LOW, values > HIGH
    if kind == "tanh":
        return values < -HIGH, values > HIGH
    return None
