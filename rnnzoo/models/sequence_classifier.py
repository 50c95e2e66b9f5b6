"""Whole-sequence classification (spoken words from speech features, time-series classes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from rnnzoo.models.base import TaskModel
from rnnzoo.models.cells import build_layer, last_layer_state


class SequenceClassifier(TaskModel):
    """Recurrent layer, its last state per sequence (each at its own length), a linear layer to class logits.

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        input_size: features per step (e.g. 40 log-mel or MFCC coefficients).
        num_classes: number of classes.
        hidden_size, num_layers, dropout, bidirectional: of the recurrent layer. Bidirectional models pool the
            forward state at each sequence's end and the reverse state at its start.
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
    """

    task = "sequence_classifier"

    def __init__(
        self,
        cell: str = "lstm",
        input_size: int = 40,
        num_classes: int = 35,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        cell_options: dict[str, Any] | None = None,
    ):
        super().__init__()
        self._store_config(
            cell=cell, input_size=input_size, num_classes=num_classes, hidden_size=hidden_size,
            num_layers=num_layers, dropout=dropout, bidirectional=bidirectional, cell_options=cell_options,
        )
        self.num_directions = 2 if bidirectional else 1
        self.rnn = build_layer(cell, input_size, hidden_size, num_layers, dropout, bidirectional, cell_options)
        self.head = nn.Linear(self.num_directions * hidden_size, num_classes)

    def forward(self, features: Tensor, *, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """``features`` (B, T, input_size), padded -> class logits (B, num_classes)."""
        _, state = self.rnn(features, lengths=lengths)
        return self.head(last_layer_state(state, self.num_directions))
