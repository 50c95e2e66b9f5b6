"""One forward pass of a task model's recurrent layer with ``return_gates=True``, laid out per layer/direction."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnzoo.inspect.layer_input import layer_input
from rnnzoo.tasks.base import TaskModel


@dataclass
class GateTrace:
    """Every step's gates and states of one batch.

    ``gates`` maps a name (``input``, ``forget``, ... ``h``; see :mod:`rnnzoo.nn`) to ``(S, B, T, H)`` where
    ``S = num_layers * num_directions`` indexes layer/direction slots like ``h_n``; ``slots`` names them
    (``"layer 0"``, ``"layer 0 reverse"``, ...). ``lengths`` is ``(B,)``; values past a length are zero.
    """

    gates: dict[str, Tensor]
    slots: list[str]
    lengths: Tensor

    def mask(self) -> Tensor:
        """``(B, T)`` bool, true on each sequence's real steps."""
        steps = next(iter(self.gates.values())).shape[2]
        return torch.arange(steps).unsqueeze(0) < self.lengths.unsqueeze(1)


def slot_names(num_layers: int, bidirectional: bool) -> list[str]:
    """Names of the ``h_n``-ordered slots: layer 0 forward, layer 0 reverse, layer 1 forward, ..."""
    directions = ["", " reverse"] if bidirectional else [""]
    return [f"layer {layer}{d}" for layer in range(num_layers) for d in directions]


@torch.no_grad()
def gate_trace(model: TaskModel, model_input: Tensor, lengths: Tensor | None = None) -> GateTrace:
    """Run ``model``'s recurrent layer over ``model_input`` (what ``model(...)`` takes, batched) and trace it.

    Args:
        model: a task model (put it in eval mode first; :func:`~rnnzoo.inspect.resolve_model` does).
        model_input: ``(B, T, F)`` rolls/features/windows or ``(B, T)`` token ids.
        lengths: true lengths of a padded batch; None means every sequence is ``T`` long.
    """
    rnn = model.rnn
    x = layer_input(model, model_input)
    if lengths is None:
        lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
    lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
    *_, gates = rnn(x, lengths=lengths, return_gates=True)
    # Task models are batch-first, so the layer's trace is (S, B, T, H) already.
    gates = {name: value.float().cpu() for name, value in gates.items()}
    return GateTrace(gates, slot_names(rnn.num_layers, rnn.bidirectional), lengths)
