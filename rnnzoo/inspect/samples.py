"""Seeded synthetic inputs of each task's kind, for looking inside a model when no data is at hand.

They are stand-ins, not data: every report made from one says so (``describe_sample``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnzoo.models.base import TaskModel

_TEXT = b"the forget gate decides what the cell keeps; the input gate what it writes. "


def sample_input(model: TaskModel, steps: int = 48, seed: int = 0) -> Tensor:
    """One synthetic model input with a batch dimension of 1, shaped for ``model``'s task.

    * piano roll: block chords of three or four keys in the middle register, changing every four steps;
    * sequence classifier: smooth random features (a random walk per feature, standardised);
    * language model: the bytes of a fixed English sentence for byte-level vocabularies, else random ids;
    * forecaster: a seasonal (period 12) sine with noise on every input channel, standardised.
    """
    gen = torch.Generator().manual_seed(seed)
    cfg = model.config
    if model.task == "piano_roll":
        keys = cfg.get("num_pitches", 88)
        roll = torch.zeros(steps, keys)
        for start in range(0, steps, 4):
            low = int(torch.randint(max(keys // 2 - 12, 0), max(keys // 2 + 6, 1), (1,), generator=gen))
            chord = [low, low + 4, low + 7] + ([low + 12] if torch.rand(1, generator=gen) < 0.5 else [])
            roll[start:start + 4, [k % keys for k in chord]] = 1.0
        return roll.unsqueeze(0)
    if model.task == "sequence_classifier":
        walk = torch.randn(steps, cfg["input_size"], generator=gen).cumsum(0)
        return ((walk - walk.mean(0)) / (walk.std(0) + 1e-6)).unsqueeze(0)
    if model.task == "language_model":
        if cfg["vocab_size"] >= 256:
            text = (_TEXT * (steps // len(_TEXT) + 1))[:steps]
            return torch.tensor(list(text), dtype=torch.int64).unsqueeze(0)
        return torch.randint(0, cfg["vocab_size"], (1, steps), generator=gen)
    if model.task == "forecaster":
        t = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
        series = torch.sin(2 * math.pi * t / 12) + 0.2 * torch.randn(steps, cfg["input_size"], generator=gen)
        return ((series - series.mean(0)) / series.std(0)).unsqueeze(0)
    raise ValueError(f"no synthetic input for task {model.task!r}")


def describe_sample(model: TaskModel, steps: int, seed: int) -> str:
    """The sentence a report carries when its input came from :func:`sample_input`."""
    return f"synthetic {model.task} input ({steps} steps, seed {seed}), not data"
