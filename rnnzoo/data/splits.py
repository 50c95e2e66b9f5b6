"""Deterministic splits: seeded random for independent items (pieces, utterances), chronological for series.

Neither ever returns an empty part: a run with an empty validation split has nothing to stop early on or to
pick its checkpoint by (Lightning then fails deep in training with "metric ... not available"), and one with an
empty test split reports no score. So a split that would leave a part empty is refused here, where every
DataModule makes its splits, with the counts and the number of items that would fill every part.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnzoo.data.errors import DataError


def split_counts(n: int, proportions: Sequence[float]) -> list[int]:
    """Split ``n`` items in the given proportions (any positive numbers, e.g. 229/76/77), summing to ``n``.

    Largest-remainder rounding: each part gets floor(p * n) and the leftover items go to the parts with the largest
    fractional remainders (ties to the earlier part), so the counts are exact and reproducible. Pure arithmetic:
    parts may be 0 here; :func:`seeded_split` and :func:`chronological_split` refuse that.
    """
    weights = np.asarray(proportions, dtype=np.float64)
    if weights.ndim != 1 or len(weights) == 0 or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"proportions must be non-negative numbers with a positive sum, got {list(proportions)}")
    exact = weights / weights.sum() * n
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts.tolist()


def part_names(parts: int) -> list[str]:
    """``train``, ``validation``, ``test`` (the order every DataModule gives its proportions in)."""
    return ["train", "validation", "test"][:parts] if parts <= 3 else [f"part {i}" for i in range(parts)]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def nonempty_split_counts(n: int, proportions: Sequence[float], what: str = "items", where: str = "the data",
                          detail: str = "") -> list[int]:
    """:func:`split_counts`, or a :class:`DataError` when a part would be empty: it names the source, the counts
    (``detail`` adds the caller's breakdown, e.g. recordings per label), and how many items fill every part."""
    counts = split_counts(n, proportions)
    names = part_names(len(counts))
    empty = [name for name, count in zip(names, counts) if count == 0]
    if not empty:
        return counts
    weights = np.asarray(proportions, dtype=np.float64)
    shares = "/".join(f"{w:.0%}" for w in weights / weights.sum())
    said = (f"{where}: {n} {what}{f' ({detail})' if detail else ''} cut {shares} into {'/'.join(names)} give "
            f"{'/'.join(map(str, counts))}: the {_join(empty)} split{'s' if len(empty) > 1 else ''} would be empty, "
            f"and every split needs at least one (validation picks the best epoch and stops training early; test "
            f"gives the score).")
    unshared = [name for name, w in zip(names, weights) if w == 0]
    if unshared:
        raise DataError(f"{said} The proportions {list(proportions)} give the {_join(unshared)} split no share: give "
                        f"every split a positive one, e.g. (0.8, 0.1, 0.1).")
    need = next(m for m in range(n + 1, n + 1 + len(counts) + int(np.ceil(weights.sum() / weights.min())))
                if min(split_counts(m, proportions)) > 0)
    raise DataError(f"{said} Add {what}: these proportions need at least {need} in all. Or give the small splits "
                    f"larger proportions.")


def seeded_split(n: int, proportions: Sequence[float], seed: int = 0, *, what: str = "items",
                 where: str = "the data", detail: str = "") -> list[np.ndarray]:
    """Indices ``0..n-1`` shuffled with ``seed`` and cut in the given proportions (one sorted index array per part).

    The same ``n``, proportions and seed give the same split on every machine (numpy's PCG64 is portable). A part
    that would be empty is a :class:`DataError` (see :func:`nonempty_split_counts`; ``what``, ``where`` and
    ``detail`` word it).
    """
    counts = nonempty_split_counts(n, proportions, what, where, detail)
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *counts])
    return [np.sort(perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def chronological_split(length: int, proportions: Sequence[float], *, what: str = "steps",
                        where: str = "the series") -> list[slice]:
    """Consecutive time ranges of a series of ``length`` steps in the given proportions (no shuffling: the
    validation and test ranges lie strictly after the training range, as a forecast would). A range that would be
    empty is a :class:`DataError`, as in :func:`seeded_split`."""
    bounds = np.cumsum([0, *nonempty_split_counts(length, proportions, what, where)])
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
