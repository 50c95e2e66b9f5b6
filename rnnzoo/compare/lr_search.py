"""Chung et al. 2014's learning-rate choice: the best of a few log-uniform samples, judged on validation only."""

from __future__ import annotations

import math

import numpy as np


def log_uniform_lrs(n: int, low: float, high: float, seed: int = 0) -> list[float]:
    """``n`` learning rates drawn log-uniformly from ``[low, high]`` with ``seed``, sorted ascending.

    Chung et al. drew 10 from ``[e^-12, e^-6]``; a small CPU budget draws fewer from a narrower range.
    """
    if n < 1 or not 0 < low <= high:
        raise ValueError(f"need n >= 1 and 0 < low <= high, got n={n}, low={low}, high={high}")
    rng = np.random.default_rng(seed)
    return sorted(float(math.exp(x)) for x in rng.uniform(math.log(low), math.log(high), size=n))


def pick_best(trials: list[tuple[float, float]], mode: str) -> float:
    """The learning rate of the best ``(lr, validation metric)`` trial; ``mode`` is ``"min"`` or ``"max"``."""
    finite = [t for t in trials if math.isfinite(t[1])]
    if not finite:
        raise RuntimeError("every learning-rate trial diverged (non-finite validation metric)")
    return (min if mode == "min" else max)(finite, key=lambda t: t[1])[0]
