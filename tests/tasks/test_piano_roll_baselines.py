"""The piano-roll baseline: independent note frequencies, against a hand computation on tiny rolls."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rnnzoo.tasks.piano_roll import PianoRollModel
from rnnzoo.tasks.piano_roll.baselines import NOTE_FREQUENCIES


def _roll(frames: list[list[int]], keys: int = 3) -> torch.Tensor:
    roll = torch.zeros(len(frames), keys)
    for t, notes in enumerate(frames):
        roll[t, notes] = 1.0
    return roll


def test_note_frequencies_by_hand():
    train = [{"roll": _roll([[0], [0, 1], []])}, {"roll": _roll([[0]])}]  # 4 frames: key 0 on in 3, key 1 in 1
    test = _roll([[1], [0, 2]])
    padded = torch.cat([test, torch.zeros(1, 3)])[None]  # one piece padded to 3 frames: padding is not scored
    batch = {"roll": padded, "lengths": torch.tensor([2])}
    datamodule = SimpleNamespace(datasets={"train": train}, val_dataloader=lambda: [batch],
                                 test_dataloader=lambda: [batch])
    p = [(3 + 0.5) / 5, (1 + 0.5) / 5, (0 + 0.5) / 5]  # (frames on + 1/2) / (frames + 1)
    frame1 = -math.log(1 - p[0]) - math.log(p[1]) - math.log(1 - p[2])
    frame2 = -math.log(p[0]) - math.log(1 - p[1]) - math.log(p[2])
    b = PianoRollModel.baselines(datamodule)[NOTE_FREQUENCIES]  # what rnnzoo compare asks the task for
    assert b["items"]["nll"] == {"num": [pytest.approx(frame1 + frame2, rel=1e-12)], "den": [2.0]}
    assert b["scores"]["nll"] == pytest.approx((frame1 + frame2) / 2, rel=1e-12) == b["val_scores"]["nll"]
    # Saved as a model, it scores a raw roll as the comparison scored it, and samples frames of its keys.
    from rnnzoo.baselines.note_frequencies import NoteFrequencies

    saved = NoteFrequencies(NOTE_FREQUENCIES, {}, b["state"])
    assert saved.nll(test.numpy()) == pytest.approx((frame1 + frame2) / 2, rel=1e-12)
    frames = saved.sample(2000, seed=0)
    assert frames.shape == (2000, 3) and np.allclose(frames.mean(0), p, atol=0.03)  # 3 sigma of 2000 draws
