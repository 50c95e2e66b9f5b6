"""Polyphonic music: predict the next piano-roll frame as independent Bernoulli outputs (Boulanger-Lewandowski
et al. 2012; the music task of Chung et al. 2014)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from rnnzoo.models.base import TaskModel
from rnnzoo.models.cells import build_layer


class PianoRollModel(TaskModel):
    """Recurrent layer + a linear read-out to one logit per pitch.

    The logit at step t predicts frame t + 1: train with ``binary_cross_entropy_with_logits(logits[:, :-1],
    roll[:, 1:])``, masked by ``lengths``.

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        hidden_size, num_layers, dropout: of the recurrent layer (dropout between stacked layers).
        num_pitches: frame width, 88 piano keys by default (input and output).
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
    """

    task = "piano_roll"

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 36,
        num_layers: int = 1,
        dropout: float = 0.0,
        num_pitches: int = 88,
        cell_options: dict[str, Any] | None = None,
    ):
        super().__init__()
        self._store_config(
            cell=cell, hidden_size=hidden_size, num_layers=num_layers, dropout=dropout,
            num_pitches=num_pitches, cell_options=cell_options,
        )
        self.rnn = build_layer(cell, num_pitches, hidden_size, num_layers, dropout, cell_options=cell_options)
        self.head = nn.Linear(hidden_size, num_pitches)

    def forward(self, roll: Tensor, *, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """``roll`` (B, T, num_pitches) of 0/1 -> next-frame logits (B, T, num_pitches).

        Past a sequence's length the layer's output is zero, so the logits there are the head's bias: mask them
        out of the loss.
        """
        output, _ = self.rnn(roll, lengths=lengths)
        return self.head(output)
