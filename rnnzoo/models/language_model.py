"""Character- or word-level language model: embedding, recurrent layer, softmax over the vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from rnnzoo.models.base import TaskModel
from rnnzoo.models.cells import build_layer


class LanguageModel(TaskModel):
    """Embedding -> recurrent layer -> linear to next-token logits, with optionally tied weights.

    Tying the output matrix to the embedding (Press & Wolf 2017; Inan et al. 2017) needs
    ``embedding_dim == hidden_size``; it saves ``vocab_size * hidden_size`` parameters.

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        vocab_size: number of tokens (characters or words); the vocabulary itself travels as preprocessing.
        embedding_dim: token embedding width.
        hidden_size, num_layers, dropout: of the recurrent layer; ``dropout`` is also applied to the
            embeddings and to the layer's output (Zaremba et al. 2014).
        tie_weights: share the embedding and output matrices.
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
        init_range: if set, every parameter (embedding, recurrent weights and biases, softmax) is drawn
            uniformly from ``[-init_range, init_range]`` instead of the layers' Xavier/orthogonal default, as in
            Zaremba et al. 2014 (0.1 for the small configuration); the LSTMs' forget bias is then uniform too.
    """

    task = "language_model"

    def __init__(
        self,
        cell: str = "lstm",
        vocab_size: int = 256,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.0,
        tie_weights: bool = False,
        cell_options: dict[str, Any] | None = None,
        init_range: float | None = None,
    ):
        super().__init__()
        if init_range is not None and not init_range > 0:
            raise ValueError(f"init_range must be a positive number (Zaremba et al. used 0.1), got {init_range}")
        if tie_weights and embedding_dim != hidden_size:
            raise ValueError(
                f"tie_weights=True needs embedding_dim == hidden_size, got {embedding_dim} and {hidden_size}"
            )
        self._store_config(
            cell=cell, vocab_size=vocab_size, embedding_dim=embedding_dim, hidden_size=hidden_size,
            num_layers=num_layers, dropout=dropout, tie_weights=tie_weights, cell_options=cell_options,
            **({"init_range": init_range} if init_range is not None else {}),
        )
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.drop = nn.Dropout(dropout)
        self.rnn = build_layer(cell, embedding_dim, hidden_size, num_layers, dropout, cell_options=cell_options)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight
        if init_range is not None:
            for param in self.parameters():
                nn.init.uniform_(param, -init_range, init_range)

    def forward(
        self,
        tokens: Tensor,
        hx=None,
        *,
        lengths: Tensor | Sequence[int] | None = None,
        return_state: bool = False,
    ):
        """``tokens`` (B, T) int64 -> next-token logits (B, T, vocab_size).

        ``hx`` is the layer's initial state; with ``return_state=True`` it returns ``(logits, state)`` so
        truncated backpropagation through time and generation can carry the state over (detach it first).
        """
        output, state = self.rnn(self.drop(self.embedding(tokens)), hx, lengths=lengths)
        logits = self.head(self.drop(output))
        return (logits, state) if return_state else logits
