"""What a piano-roll model must beat: each key on or off independently, at its training frequency.

    p(key k sounds in a frame) = (frames of the training split with k on + 1/2) / (training frames + 1)

(a Jeffreys-smoothed frequency, so a key never heard in training is not impossible). A frame's NLL is the sum of the
88 Bernoulli NLLs, the networks' loss; items are the pieces, read through the DataModule's own loaders.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NOTE_FREQUENCIES = "independent note frequencies"


def piano_roll_baselines(datamodule: Any) -> dict[str, dict[str, Any]]:
    """``{name: {"scores": {"nll"}, "items": {"nll": {"num", "den"}}, "val_scores", "val_items"}}``."""
    rolls = [datamodule.datasets["train"][i]["roll"].numpy() for i in range(len(datamodule.datasets["train"]))]
    frames = np.concatenate(rolls).astype(np.float64)  # (frames, keys)
    p = (frames.sum(0) + 0.5) / (len(frames) + 1.0)
    on, off = -np.log(p), -np.log1p(-p)  # per key: NLL of a sounding and of a silent key
    out: dict[str, Any] = {}
    for split, prefix in (("val", "val_"), ("test", "")):
        nll, count = [], []
        for batch in getattr(datamodule, f"{split}_dataloader")():
            roll, lengths = batch["roll"].double().numpy(), batch["lengths"].numpy()  # (B, T, keys), (B,)
            for piece, n in zip(roll, lengths):
                nll.append(float((piece[:n] @ on + (1 - piece[:n]) @ off).sum()))
                count.append(float(n))
        out[f"{prefix}scores"] = {"nll": float(np.sum(nll) / np.sum(count))}
        out[f"{prefix}items"] = {"nll": {"num": nll, "den": count}}
    out["state"] = {"p": p}  # what a saved baseline needs (rnnzoo.baselines.note_frequencies)
    return {NOTE_FREQUENCIES: out}
