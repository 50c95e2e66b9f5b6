"""Forecasting windows over scaled series, with what the metrics need to work in the data's own units."""

from __future__ import annotations

import numpy as np


def seasonal_naive_mae(train: np.ndarray, season: int) -> np.ndarray:
    """Per feature, the in-sample MAE of ``y[t] = y[t - season]`` on the training range (MASE's denominator).

    Falls back to lag 1 when the range is shorter than a season plus one, and to 1.0 for a constant series
    (a zero denominator would make MASE infinite for any error).
    """
    lag = season if len(train) > season else 1
    if len(train) > lag:
        change = train[lag:] - train[:-lag]
        mae = np.abs(change, out=change).mean(axis=0)  # in place: one temporary the size of the range, not two
    else:
        mae = np.ones(train.shape[1])
    return np.where(mae > 0, mae, 1.0).astype(np.float32)


def make_windows(segment: np.ndarray, input_length: int, horizon: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``(input_length + horizon)``-long windows of a ``(T, F)`` segment, ``stride`` steps apart:
    inputs ``(N, input_length, F)`` and targets ``(N, horizon, F)``."""
    span = input_length + horizon
    starts = np.arange(0, len(segment) - span + 1, stride)
    idx = starts[:, None] + np.arange(span)[None, :]
    windows = segment[idx]
    return windows[:, :input_length], windows[:, input_length:]
