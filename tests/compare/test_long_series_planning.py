"""Planning a long series stays bounded where a rule of thumb allows it (column kinds judged on a sample, seasonal
strength on a recent tail), and gives the same answers as before on short series."""

import numpy as np
import pandas as pd
import pytest

from rnnzoo.codecs import numbers
from rnnzoo.compare import statistical_baselines
from rnnzoo.compare.statistical_baselines import SEASONAL_STRENGTH_STEPS, seasonal_strength


def _full_count_looks_numeric(values: pd.Series) -> bool:
    """looks_numeric's rule on every cell (what it does up to SAMPLED_CELLS)."""
    text, empty = numbers._cells(values)
    cells = text[~empty]
    return len(cells) > 0 and numbers._best_fit(cells)[1] >= 0.5 * len(cells)


def test_a_long_date_column_is_judged_on_a_sample_with_the_same_answer():
    n = numbers.SAMPLED_CELLS + 50_001
    dates = pd.Series(pd.date_range("2000-01-01", periods=n, freq="min").strftime("%Y-%m-%d %H:%M:%S"))
    assert not numbers.looks_numeric(dates)
    assert numbers.time_like(dates) == "dates"
    mixed = dates.copy()
    mixed.iloc[n // 2] = "soon"  # one cell no date: the cell-by-cell parse decides, as before
    assert numbers.time_like(mixed) is None


def test_a_long_text_column_of_numbers_is_judged_on_a_sample_with_the_same_answer():
    n = numbers.SAMPLED_CELLS + 20_000
    rng = np.random.default_rng(0)
    cells = pd.Series([f"{v:,.2f}" for v in rng.uniform(1000, 99999, n)])  # thousands separators: text to pandas
    cells.iloc[rng.choice(n, n // 10, replace=False)] = "n/a"  # a tenth not numbers: still a column of numbers
    assert numbers.looks_numeric(cells) is _full_count_looks_numeric(cells) is True
    cells.iloc[: int(n * 0.6)] = "n/a"  # most cells not numbers
    assert numbers.looks_numeric(cells) is _full_count_looks_numeric(cells) is False


def test_the_sample_spans_the_column_and_short_columns_are_read_whole():
    short = pd.Series([str(i) for i in range(numbers.SAMPLED_CELLS)])
    assert numbers._evenly_sampled(short) is short
    long = pd.Series(np.arange(3 * numbers.SAMPLED_CELLS + 7))
    sample = numbers._evenly_sampled(long)
    assert len(sample) == numbers.SAMPLED_CELLS and sample.iloc[0] == 0 and sample.iloc[-1] == long.iloc[-1]
    assert sample.is_monotonic_increasing and sample.is_unique


def test_seasonal_strength_is_unchanged_on_short_series_and_bounded_on_long_ones():
    from statsmodels.tsa.seasonal import STL

    rng = np.random.default_rng(1)
    t = np.arange(SEASONAL_STRENGTH_STEPS + 2_000)
    y = np.sin(2 * np.pi * t / 12) + 0.01 * t + rng.normal(0, 0.5, len(t))
    short = y[:400]
    fit = STL(short, period=12, robust=True).fit()
    assert seasonal_strength(short, 12) == float(max(0.0, 1 - np.var(fit.resid) / np.var(fit.seasonal + fit.resid)))
    assert seasonal_strength(y, 12) == seasonal_strength(y[-SEASONAL_STRENGTH_STEPS:], 12)


def test_a_season_longer_than_the_tail_keeps_three_seasons(monkeypatch):
    monkeypatch.setattr(statistical_baselines, "SEASONAL_STRENGTH_STEPS", 50)
    y = np.sin(2 * np.pi * np.arange(400) / 40)
    assert seasonal_strength(y, 40) == pytest.approx(seasonal_strength(y[-120:], 40))
    assert seasonal_strength(y, 40) > 0.9
