"""What a sequence classifier must beat: the majority class, and a strong non-recurrent classifier.

The non-recurrent one is logistic regression on each sequence pooled over its own steps (mean, std, min and max of
every feature: 4F numbers per sequence), scikit-learn's, fitted on the training split with its default
regularisation (C = 1) and standardised inputs. It sees the same normalised features as the networks, read through
the DataModule's own loaders, so its validation and test items are the networks' items in the same order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAJORITY = "majority class"
POOLED = "logistic regression on pooled features"


def _pooled(datamodule: Any, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 4F)`` pooled features and ``(N,)`` labels of ``split``, in its loader's order."""
    rows, labels = [], []
    for batch in getattr(datamodule, f"{split}_dataloader")():
        features, lengths = batch["features"].double().numpy(), batch["lengths"].numpy()  # (B, T, F), (B,)
        for x, n in zip(features, lengths):
            steps = x[:n]  # each sequence's own steps, not its padding
            rows.append(np.concatenate([steps.mean(0), steps.std(0), steps.min(0), steps.max(0)]))
        labels.append(batch["label"].numpy())
    return np.stack(rows), np.concatenate(labels)


def classification_baselines(datamodule: Any) -> dict[str, dict[str, Any]]:
    """Per baseline: ``{"scores": {"acc"}, "items": {"acc": {"num", "den"}}}`` on the test split and
    ``"val_scores"`` / ``"val_items"`` on the validation split (the verdict chooses there)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_x, train_y = _pooled(datamodule, "train")
    majority = int(np.bincount(train_y).argmax())
    pooled = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(train_x, train_y)
    out: dict[str, dict[str, Any]] = {MAJORITY: {}, POOLED: {}}
    for split, prefix in (("val", "val_"), ("test", "")):
        x, y = _pooled(datamodule, split)
        for name, predicted in ((MAJORITY, np.full_like(y, majority)), (POOLED, pooled.predict(x))):
            correct = (predicted == y).astype(np.float64)
            out[name][f"{prefix}scores"] = {"acc": float(correct.mean())}
            out[name][f"{prefix}items"] = {"acc": {"num": correct.tolist(), "den": [1.0] * len(correct)}}
    return out
