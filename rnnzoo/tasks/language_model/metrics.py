"""Language-model metrics from the mean token cross-entropy: perplexity and bits per token (bits per character
for a character-level model)."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchmetrics import Metric


class TokenNLL(Metric):
    """Mean cross-entropy in nats over all tokens seen; ``unit="perplexity"`` gives ``exp`` of it, ``"bits"``
    gives it divided by ln 2. ``update(nll_sum, num_tokens)``."""

    full_state_update = False

    def __init__(self, unit: str = "nats", **kwargs):
        super().__init__(**kwargs)
        if unit not in ("nats", "perplexity", "bits"):
            raise ValueError(f"unit must be 'nats', 'perplexity' or 'bits', got {unit!r}")
        self.unit = unit
        self.add_state("nll", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("tokens", torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, nll_sum: Tensor, num_tokens: int | Tensor) -> None:
        self.nll = self.nll + nll_sum.detach().double()
        self.tokens = self.tokens + int(num_tokens)

    def compute(self) -> Tensor:
        mean = self.nll / max(int(self.tokens), 1)
        if self.unit == "perplexity":
            return torch.exp(mean).float()
        if self.unit == "bits":
            return (mean / math.log(2)).float()
        return mean.float()
