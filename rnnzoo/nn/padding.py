"""Helpers for padded batches: masks from lengths, and per-sequence time reversal.

Internally every direction of every layer runs in one canonical form: time-major and left-aligned
(each sequence starts at step 0 and its padding follows its last step). A reverse direction is the
forward direction run on each sequence reversed within its own length, so it starts at that sequence's end.
"""

from __future__ import annotations

import torch
from torch import Tensor


def step_mask(lengths: Tensor, seq_len: int, like: Tensor) -> Tensor:
    """Return a (T, B, 1) mask of ``like``'s dtype and device: 1 where step t < length, else 0."""
    steps = torch.arange(seq_len).unsqueeze(1)
    return (steps < lengths.unsqueeze(0)).unsqueeze(-1).to(like.device, like.dtype)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of a time-major (T, B, ...) tensor within its own length.

    Padding steps stay where they are, so the result is again left-aligned; the function is its own inverse.
    """
    if lengths is None:
        return x.flip(0)
    seq_len = x.shape[0]
    steps = torch.arange(seq_len).unsqueeze(1)
    last = lengths.unsqueeze(0) - 1
    index = torch.where(steps <= last, last - steps, steps).to(x.device)
    index = index.view(seq_len, -1, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, index)
