"""Piano-roll metrics: NLL per frame (Boulanger-Lewandowski et al. 2012) and frame-level accuracy (Bay et al. 2009).

Both weigh every frame of every piece equally (sums over all frames, divided once at the end), not per batch or
per piece, so long pieces count in proportion to their length, as in the papers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric


class FrameNLL(Metric):
    """Negative log-likelihood in nats per frame: Bernoulli over the 88 keys, summed per frame, averaged over frames.

    ``update(logits, target, mask)``: ``(B, T, K)`` logits and 0/1 targets, ``mask`` ``(B, T)`` true on real frames.
    """

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_state("nll", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("frames", torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, logits: Tensor, target: Tensor, mask: Tensor) -> None:
        per_frame = F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none").sum(-1)
        self.nll = self.nll + (per_frame * mask).sum().double()
        self.frames = self.frames + mask.sum()

    def compute(self) -> Tensor:
        return (self.nll / self.frames.clamp(min=1)).float()


class FrameAccuracy(Metric):
    """Bay et al. (2009) frame-level accuracy ``TP / (TP + FP + FN)``, counts summed over all frames; a key is
    predicted on when its probability exceeds ``threshold``."""

    full_state_update = False

    def __init__(self, threshold: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.threshold = threshold
        for name in ("tp", "fp", "fn"):
            self.add_state(name, torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, logits: Tensor, target: Tensor, mask: Tensor) -> None:
        pred = torch.sigmoid(logits) > self.threshold
        true = target > 0.5
        m = mask.unsqueeze(-1)
        self.tp = self.tp + (pred & true & m).sum()
        self.fp = self.fp + (pred & ~true & m).sum()
        self.fn = self.fn + (~pred & true & m).sum()

    def compute(self) -> Tensor:
        return self.tp.float() / (self.tp + self.fp + self.fn).clamp(min=1).float()
