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
    """Per baseline: ``{"scores": {"acc"}, "items": {"acc": {"num", "den"}}}`` on the test split,
    ``"val_scores"`` / ``"val_items"`` on the validation split (the verdict chooses there), and ``"state"``: the
    fitted numbers a saved baseline needs (:mod:`rnnzoo.baselines.classify`)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_x, train_y = _pooled(datamodule, "train")
    majority = int(np.bincount(train_y).argmax())
    pooled = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(train_x, train_y)
    out: dict[str, dict[str, Any]] = {MAJORITY: {"state": {"majority": np.array([majority])}},
                                      POOLED: {"state": _pooled_state(pooled, datamodule)}}
    for split, prefix in (("val", "val_"), ("test", "")):
        x, y = _pooled(datamodule, split)
        for name, predicted in ((MAJORITY, np.full_like(y, majority)), (POOLED, pooled.predict(x))):
            correct = (predicted == y).astype(np.float64)
            out[name][f"{prefix}scores"] = {"acc": float(correct.mean())}
            out[name][f"{prefix}items"] = {"acc": {"num": correct.tolist(), "den": [1.0] * len(correct)}}
    return out


def _pooled_state(pipeline: Any, datamodule: Any) -> dict[str, np.ndarray]:
    """The standardiser and the logistic regression as one softmax over every class of the data: a class absent
    from training gets a logit of -1e9; scikit-learn's binary case (one logit) becomes two rows, 0 and w."""
    scaler, model = pipeline[0], pipeline[-1]
    classes = int(getattr(datamodule, "num_classes", 0) or model.classes_.max() + 1)
    coef = np.zeros((classes, model.coef_.shape[1]))
    intercept = np.full(classes, -1e9)
    if len(model.classes_) == 2 and model.coef_.shape[0] == 1:
        coef[model.classes_[1]], intercept[model.classes_[1]] = model.coef_[0], model.intercept_[0]
        intercept[model.classes_[0]] = 0.0
    else:
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return {"mean": scaler.mean_.astype(np.float64), "scale": scaler.scale_.astype(np.float64), "coef": coef,
            "intercept": intercept}
