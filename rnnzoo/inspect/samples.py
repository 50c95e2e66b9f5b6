"""Seeded synthetic inputs of each task's kind, for looking inside a model when no data is at hand.

They are stand-ins, not data: every report made from one says so (``describe_sample``). Each task model draws
its own (``TaskModel.synthetic_input``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnzoo.tasks.base import TaskModel


def sample_input(model: TaskModel, steps: int = 48, seed: int = 0) -> Tensor:
    """One synthetic model input with a batch dimension of 1, shaped for ``model``'s task."""
    return model.synthetic_input(steps, torch.Generator().manual_seed(seed))


def describe_sample(model: TaskModel, steps: int, seed: int) -> str:
    """The sentence a report carries when its input came from :func:`sample_input`."""
    return f"synthetic {model.task} input ({steps} steps, seed {seed}), not data"
