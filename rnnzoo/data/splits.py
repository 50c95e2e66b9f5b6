"""Deterministic splits: seeded random for independent items (pieces, utterances), chronological for series."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def split_counts(n: int, proportions: Sequence[float]) -> list[int]:
    """Split ``n`` items in the given proportions (any positive numbers, e.g. 229/76/77), summing to ``n``.

    Largest-remainder rounding: each part gets floor(p * n) and the leftover items go to the parts with the largest
    fractional remainders (ties to the earlier part), so the counts are exact and reproducible.
    """
    weights = np.asarray(proportions, dtype=np.float64)
    if weights.ndim != 1 or len(weights) == 0 or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"proportions must be non-negative numbers with a positive sum, got {list(proportions)}")
    exact = weights / weights.sum() * n
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts.tolist()


def seeded_split(n: int, proportions: Sequence[float], seed: int = 0) -> list[np.ndarray]:
    """Indices ``0..n-1`` shuffled with ``seed`` and cut in the given proportions (one sorted index array per part).

    The same ``n``, proportions and seed give the same split on every machine (numpy's PCG64 is portable).
    """
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *split_counts(n, proportions)])
    return [np.sort(perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def chronological_split(length: int, proportions: Sequence[float]) -> list[slice]:
    """Consecutive time ranges of a series of ``length`` steps in the given proportions (no shuffling: the
    validation and test ranges lie strictly after the training range, as a forecast would)."""
    bounds = np.cumsum([0, *split_counts(length, proportions)])
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
