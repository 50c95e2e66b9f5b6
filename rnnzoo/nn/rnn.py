"""Vanilla (Elman) recurrent network: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), relu as an option."""

from __future__ import annotations

from torch import nn

from rnnzoo.nn.base import DirectionRun, RecurrentLayer
from rnnzoo.nn.fused import fused_direction
from rnnzoo.nn.init import init_recurrent_


class RNN(RecurrentLayer, nn.RNN):
    """Drop-in ``torch.nn.RNN`` (``nonlinearity="tanh"`` or ``"relu"``) with ``lengths=`` and ``return_gates=``.

    Parameters are torch.nn.RNN's, so a torch.nn.RNN state dict loads as is; it runs on torch's fused kernels.
    Weights are initialised Xavier-uniform (input) and orthogonal (recurrent), biases zero.
    A vanilla RNN has no gates: its trace (``return_gates=True``) holds only h.
    """

    gate_names = ("h",)

    def reset_parameters(self) -> None:
        """Xavier/orthogonal weights, zero biases."""
        init_recurrent_(self, num_gates=1)

    def _run_direction(self, x, h0, c0, suffix, lengths, mask, return_gates) -> DirectionRun:
        states, last_h, _ = fused_direction(self.mode, x, h0, None, self._weights(suffix), self.training, lengths)
        return DirectionRun(states, last_h, None, {"h": states.detach()} if return_gates else {})
