"""``TimeSeriesDataModule``: forecasting windows over one or many series, split chronologically."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from rnnzoo.data.base import SequenceDataModule
from rnnzoo.data.cache import content_hash
from rnnzoo.data.checks import check_finite
from rnnzoo.data.errors import DataError
from rnnzoo.data.splits import chronological_split, split_counts
from rnnzoo.data.timeseries.builtin_series import BUILTIN_SERIES, load_builtin_series
from rnnzoo.data.timeseries.read_table import frame_values, read_series_table
from rnnzoo.data.timeseries.window_dataset import (ScaledSeries, WindowCollate, WindowDataset, scale_series,
                                                     window_count)
from rnnzoo.data.timeseries.windows import seasonal_naive_mae

SeriesSource = str | os.PathLike | np.ndarray | Sequence[np.ndarray]


def _as_series_list(source: SeriesSource, columns: Sequence[str] | None) -> tuple[list[np.ndarray], list[str]]:
    """Normalise the accepted sources to a list of ``(T_i, F)`` float32 arrays and a name for each."""
    if isinstance(source, str) and source in BUILTIN_SERIES:
        return [load_builtin_series(source)], [source]
    if isinstance(source, (str, os.PathLike)):
        return [read_series_table(source, columns)], [str(source)]
    if hasattr(source, "select_dtypes") or hasattr(source, "to_frame"):  # a pandas DataFrame or Series
        return [frame_values(source, columns, "the DataFrame")], [str(getattr(source, "name", None) or "frame")]
    if isinstance(source, (list, tuple)) and source and all(np.isscalar(v) for v in source):
        source = np.asarray(source)  # a plain list of numbers is one series, not many one-step ones
    arrays = [source] if isinstance(source, np.ndarray) or torch.is_tensor(source) else list(source)
    out, names = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a, dtype=np.float32)
        a = a.reshape(-1, 1) if a.ndim == 1 else a
        if a.ndim != 2:
            raise DataError(f"series[{i}]: expected shape (T,) or (T, features), got {a.shape}")
        check_finite(a, f"series[{i}]")
        out.append(a)
        names.append(f"series[{i}]")
    if not out:
        raise DataError("no series given: pass an array, a list of arrays, a CSV/Parquet path or a built-in name")
    widths = {a.shape[1] for a in out}
    if len(widths) > 1:
        raise DataError(f"all series need the same number of features, got {sorted(widths)}")
    return out, names


class TimeSeriesDataModule(SequenceDataModule):
    """Windows of ``input_length`` steps -> the next ``horizon`` steps, batches ``{"window", "target", "series",
    "loc", "scale", "mase_scale"}`` and, with ``num_future``, ``"future"`` (window, target and future
    standardised; ``loc``/``scale`` undo it; ``series`` the index of the window's series).

    Each series is cut chronologically (``proportions`` of its length, default 70/15/15): validation and test
    targets lie strictly after the training range (their input windows may reach back into it, as a forecast
    made at that time would). Each series is standardised with the mean and std of its own training range only;
    those statistics are in ``preprocessing["scaler"]`` and travel with a saved model.

    The windows are not copied out: each split is a :class:`~rnnzoo.data.timeseries.window_dataset.WindowDataset`
    of index views into one float32 scaled copy of each series, so setup holds about the series' size once more
    (10 million steps: under a second), whatever the number of windows.

    Args:
        source: ``"co2"`` | ``"sunspots"`` (statsmodels' data, shipped in its wheel), a ``.csv``/``.parquet`` path,
            a pandas DataFrame or Series, an array ``(T,)``/``(T, F)`` (or a list of numbers), or a list of such
            arrays (many series, windows pooled).
        input_length, horizon, stride: window geometry (stride between window starts, all splits).
        columns: value columns of a CSV/Parquet file (None: all numeric columns); for arrays, the names of their
            features (they travel with the model, so ``forecast`` reads a DataFrame's columns by name).
        time_column, frequency: the date column the rows were read with and its pandas frequency (``"MS"``), when
            known; they travel with the model so that a dated history gives dated forecasts.
        season: seasonal period for MASE (default: the built-in's, else 1 = naive forecast).
        proportions: train/val/test fractions of each series.
        num_targets: the first ``num_targets`` features are forecast, the rest are past covariates (read in the
            window, not predicted); None: every feature is a target. ``target``, ``loc``, ``scale`` and
            ``mase_scale`` then hold the targets only.
        num_future: the last ``num_future`` features are future-known covariates (calendar features, a planned
            price, a weather forecast): read in the window like past covariates and also given for the horizon,
            as ``"future"`` (B, horizon, num_future), scaled like the window. Their values for validation and
            test horizons are taken from the series itself (rolling-origin evaluation: they are in the data, as
            they would be known at forecast time). 0 (default): none, and no ``"future"`` key.
        future_columns: names of those features (default ``future0``, ``future1`` ...; for a table source with
            ``columns=``, the last ``num_future`` of them); travel with the model, and errors name them.
        calendar: ``{"frequency": ..., "cycles": [...]}`` when the last of the future features are calendar
            features (:mod:`rnnzoo.data.timeseries.calendar`) of a time column; travels with the model so that
            :meth:`Forecaster.forecast <rnnzoo.tasks.forecaster.Forecaster.forecast>` derives them from dates.
    """

    def __init__(self, source: SeriesSource = "co2", input_length: int = 48, horizon: int = 12, stride: int = 1,
                 columns: Sequence[str] | None = None, season: int | None = None,
                 proportions: Sequence[float] = (0.7, 0.15, 0.15), num_targets: int | None = None,
                 num_future: int = 0, future_columns: Sequence[str] | None = None, calendar: dict | None = None,
                 time_column: str | None = None, frequency: str | None = None, **loader_args):
        super().__init__(**loader_args)
        self.time_column, self.frequency = time_column, frequency
        if num_future < 0:
            raise ValueError(f"num_future must be >= 0 (the count of future-known features at the end), got "
                             f"{num_future}")
        if future_columns is not None and len(future_columns) != num_future:
            raise ValueError(f"future_columns names {len(future_columns)} features ({list(future_columns)}) but "
                             f"num_future={num_future}; give one name per future-known feature")
        if num_future and future_columns is None and columns is not None and len(columns) >= num_future:
            future_columns = list(columns)[-num_future:]
        self.num_future = num_future
        self.future_columns = list(future_columns) if num_future and future_columns is not None else \
            [f"future{k}" for k in range(num_future)]
        self.calendar = dict(calendar) if calendar else None
        if min(input_length, horizon, stride) < 1:
            raise ValueError("input_length, horizon and stride must be >= 1")
        if num_targets is not None and num_targets < 1:
            raise ValueError(f"num_targets must be >= 1 (or None: every feature), got {num_targets}")
        self.num_targets = num_targets
        self.source, self.columns, self.proportions = source, columns, tuple(proportions)
        self.input_length, self.horizon, self.stride = input_length, horizon, stride
        default_season = BUILTIN_SERIES[source][1] if isinstance(source, str) and source in BUILTIN_SERIES else 1
        self.season = season or default_season
        self.collate = WindowCollate()  # takes the batches WindowDataset gathers at once

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        series, names = _as_series_list(self.source, self.columns)
        self.series_values = series  # raw, for baselines fitted on the same ranges (rnnzoo compare)
        # The identity of the raw values (before scaling and windowing), quoted by results and pretrained weights.
        self.info = {"content_sha256": content_hash({f"series{i:05d}": s for i, s in enumerate(series)})}
        means, stds = [], []
        targets = self.num_targets or series[0].shape[1] - self.num_future  # future-known ones are not forecast
        if targets > series[0].shape[1]:
            raise DataError(f"num_targets={targets} but the series have {series[0].shape[1]} features")
        if self.num_future and (self.num_targets or 1) + self.num_future > series[0].shape[1]:
            raise DataError(f"num_future={self.num_future} future-known features after num_targets="
                            f"{self.num_targets} target(s), but the series have {series[0].shape[1]} features; the "
                            f"future-known ones are the last features, after the targets")
        scaled_series: list[ScaledSeries] = []
        firsts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
        counts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
        span = self.input_length + self.horizon
        for index, (values, name) in enumerate(zip(series, names)):
            # Checked on the counts first: this message (the windows' needs) says more than the split's own refusal
            # of an empty range, which it implies.
            train_steps, val_steps, test_steps = split_counts(len(values), self.proportions)
            if train_steps < self.input_length + self.horizon or min(val_steps, test_steps) < self.horizon:
                raise DataError(
                    f"{name}: {len(values)} steps give a training range of {train_steps} and validation/test ranges "
                    f"of {val_steps}/{test_steps} steps, too short for windows of input_length={self.input_length} "
                    f"+ horizon={self.horizon}. Use a shorter input_length or horizon, or a longer series."
                )
            train_range, val_range, test_range = chronological_split(len(values), self.proportions, where=name)
            train = values[train_range]
            mean, std = train.mean(axis=0), train.std(axis=0)
            std = np.where(std > 0, std, 1.0)  # a constant training range: centre only
            means.append(mean.tolist())
            stds.append(std.tolist())
            mase = seasonal_naive_mae(train, self.season)
            scaled_series.append(ScaledSeries(
                scale_series(values, mean, std),
                index=torch.tensor(index),  # which series: per-series parameters (hybrid models)
                loc=torch.from_numpy(mean[:targets].astype(np.float32)),
                scale=torch.from_numpy(std[:targets].astype(np.float32)),
                mase_scale=torch.from_numpy(mase[:targets].copy())))
            # Each split's windows start stride apart from the start of its segment; validation and test segments
            # begin input_length before their range (their first inputs are the steps before it).
            segments = {"train": (train_range.start, train_range.stop),
                        "val": (val_range.start - self.input_length, val_range.stop),
                        "test": (test_range.start - self.input_length, test_range.stop)}
            for split, (start, stop) in segments.items():
                firsts[split].append(start)
                counts[split].append(window_count(stop - start, span, self.stride))
        for split in firsts:
            if not sum(counts[split]):
                raise DataError(f"{names}: the {split} split has no complete window; use a smaller stride or horizon")
            self.datasets[split] = WindowDataset(scaled_series, firsts[split], counts[split],
                                                 input_length=self.input_length, horizon=self.horizon,
                                                 stride=self.stride, num_targets=targets, num_future=self.num_future)
        self.num_features = series[0].shape[1]
        if self.columns is not None and len(self.columns) != self.num_features:
            raise DataError(f"columns names {len(self.columns)} features ({list(self.columns)}) but the series have "
                            f"{self.num_features}; give one name per feature, in order")
        self.preprocessing = {"timeseries": {
            "source": str(self.source) if not isinstance(self.source, (np.ndarray, list, tuple)) else "arrays",
            "input_length": self.input_length, "horizon": self.horizon, "stride": self.stride,
            "season": self.season, "proportions": list(self.proportions),
            "columns": list(self.columns) if self.columns is not None else None,
            "scaler": {"mean": means, "std": stds}, "series": names}}
        for key in ("time_column", "frequency"):  # only when known, as the optional fields below
            if getattr(self, key):
                self.preprocessing["timeseries"][key] = getattr(self, key)
        if self.num_future:  # only when used: a model without them keeps config.json as format 1 wrote it
            self.preprocessing["timeseries"]["future_columns"] = list(self.future_columns)
            if self.calendar:
                self.preprocessing["timeseries"]["calendar"] = dict(self.calendar)
