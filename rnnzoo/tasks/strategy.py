"""What a task strategy provides to :class:`~rnnzoo.tasks.module.RecurrentTask`: the loss of one batch (updating
metrics on the way), the metrics to track, and what ``predict`` returns. One small class per task model."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric


class TaskStrategy:
    """Base class. ``task`` matches the task model's ``task`` (``rnnzoo.models.TASK_MODELS`` key)."""

    task: str = ""
    #: the metric ``ModelCheckpoint``/early stopping should watch, and whether lower is better
    monitor: tuple[str, str] = ("val/loss", "min")

    def metrics(self, model: nn.Module) -> dict[str, Metric]:
        """Fresh metric objects for one stage (val or test), by short name."""
        return {}

    def step(self, model: nn.Module, batch: dict[str, Tensor], metrics: dict[str, Metric] | None,
             stage: str) -> tuple[Tensor, int]:
        """Loss of ``batch`` (mean over its items) and the number of items it averages over; updates ``metrics``."""
        raise NotImplementedError

    def predict(self, model: nn.Module, batch: dict[str, Tensor]) -> dict[str, Any]:
        """Useful outputs for one batch (probabilities, labels, forecasts in the data's units)."""
        raise NotImplementedError

    def reset_state(self, stage: str) -> None:
        """Forget any state carried across batches (language models' truncated BPTT)."""


def length_mask(lengths: Tensor, seq_len: int, device: torch.device) -> Tensor:
    """``(B, seq_len)`` bool, true on each sequence's real steps (``t < lengths[b]``)."""
    return torch.arange(seq_len, device=device).unsqueeze(0) < lengths.to(device).unsqueeze(1)
