"""A statistical forecaster from a comparison, as a model: refitted on the history it is given, then forecasting.

The methods are those of :mod:`rnnzoo.compare.statistical_baselines` and compute the same numbers: the naive
forecast, the random walk with drift, the seasonal naive forecast, AutoETS, AutoARIMA, AutoTheta (statsforecast,
model selection included) and the median of those three. It reads a history as the comparison's networks do (the
same columns by name, the same dates and number format: the saved networks' :class:`SeriesScaler`), forecasts each
target column on its own, and dates the forecast when the history is dated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.tasks.base import PreprocessingError

SIMPLE = ("naive", "drift")


@dataclass
class StatisticalForecaster:
    """A saved statistical baseline (see module). ``method``: its name in the comparison (``"AutoARIMA"``,
    ``"seasonal naive (m=12)"``, ...); ``season``, ``horizon``, ``input_length``: the comparison's; ``num_targets``:
    the columns forecast (the first of the history's); ``preprocessing``: a SeriesScaler config (column names,
    time column, frequency, number format) or empty."""

    method: str
    season: int
    horizon: int
    input_length: int
    num_targets: int = 1
    input_size: int = 1
    preprocessing: dict[str, Any] = field(default_factory=dict)
    task = "forecaster"

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> "StatisticalForecaster":
        """From a baseline.json's contents."""
        return cls(**{k: spec[k] for k in ("method", "season", "horizon", "input_length", "num_targets",
                                           "input_size", "preprocessing") if k in spec})

    def to_spec(self) -> dict[str, Any]:
        """What baseline.json holds."""
        return {"kind": "forecast", "method": self.method, "season": self.season, "horizon": self.horizon,
                "input_length": self.input_length, "num_targets": self.num_targets, "input_size": self.input_size,
                "preprocessing": self.preprocessing,
                "refit": "on the history given, at every call (model selection included)"}

    @property
    def scaler(self):
        from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler

        return SeriesScaler.from_config(self.preprocessing) if self.preprocessing else None

    def forecast_values(self, history: np.ndarray, horizon: int | None = None) -> np.ndarray:
        """``(H, num_targets)`` forecasts from a ``(T,)``/``(T, F)`` history in raw units (the first
        ``num_targets`` columns are forecast)."""
        horizon = horizon or self.horizon
        # float32 first: the comparison read every series as float32 (as its networks do) and fitted on that, so
        # the saved baseline forecasts the very numbers the comparison scored
        values = np.asarray(history, dtype=np.float32).astype(np.float64)
        values = values.reshape(len(values), -1)[:, :self.num_targets]
        if len(values) < 2 or not np.isfinite(values).all():
            raise PreprocessingError(f"the history has {len(values)} rows" + (
                "" if np.isfinite(values).all() else " and missing or non-finite values") + f"; {self.method} needs "
                f"at least 2 finite values per column (fill gaps first, e.g. df.interpolate())")
        return np.stack([self._one(values[:, k], horizon) for k in range(values.shape[1])], axis=1)

    def _one(self, y: np.ndarray, horizon: int) -> np.ndarray:
        from rnnzoo.baselines.auto_models import AUTO_MODELS, MEDIAN, fit_or_fall_back

        steps = np.arange(horizon)
        if self.method == "naive":
            return np.full(horizon, y[-1])
        if self.method == "drift":  # the mean step of the whole history, carried on
            return y[-1] + (steps + 1) * (y[-1] - y[0]) / max(len(y) - 1, 1)
        if self.method.startswith("seasonal naive"):
            lag = self.season if self.season <= self.input_length else 1
            if len(y) < lag:
                raise PreprocessingError(f"the seasonal naive forecast repeats the last season ({lag} values); the "
                                         f"history has {len(y)}")
            return y[len(y) - lag + (steps % lag)]
        models = AUTO_MODELS if self.method == MEDIAN else (self.method,)
        if not set(models) <= set(AUTO_MODELS):
            raise PreprocessingError(f"unknown baseline method {self.method!r}")
        forecasts = [fit_or_fall_back((name, y, self.season, horizon, None))[0] for name in models]
        return np.median(np.stack(forecasts), axis=0)

    def forecast(self, history: Any, horizon: int | None = None) -> Any:
        """Forecast ``horizon`` (default the comparison's) steps after ``history``: an array ``(T,)``/``(T, F)``
        gives an array ``(H, targets)``; a DataFrame (columns read by name, dates from the time column or its
        DatetimeIndex) gives a dated DataFrame/Series, as a network's ``forecast`` does."""
        from rnnzoo.tasks.forecaster.tables import dated, forecast_dates, read_history, target_names

        scaler = self.scaler
        if scaler is None:
            return self.forecast_values(history, horizon)
        table = read_history(history, scaler, self.input_size)
        out = self.forecast_values(table.values, horizon)
        dates = forecast_dates(table, scaler, len(out))
        if dates is None:
            return out
        return dated(out, dates, target_names(scaler, self.num_targets))

    def predict_from_files(self, inputs: list[str], options: Any) -> str | None:
        """``rnnzoo predict <baseline folder> FILE``: a CSV table of the forecast (dated when the file is)."""
        from rnnzoo.tasks.forecaster.tables import forecast_csv, read_history_file, target_names
        from rnnzoo.tasks.raw_input import load_array, write_or_return

        if len(inputs) != 1:
            raise PreprocessingError(f"give one series file (CSV, Parquet or .npy), got {len(inputs)} inputs")
        path = inputs[0]
        if not Path(path).is_file():
            raise PreprocessingError(f"{path}: no such file; give the series as a CSV, Parquet or .npy file")
        for option in ("quantiles", "future"):
            if getattr(options, option, None):
                raise PreprocessingError(f"--{option}: the saved {self.method} baseline gives point forecasts only "
                                         f"and reads no covariates; leave --{option} out")
        scaler = self.scaler
        if path.lower().endswith(".npy"):
            history = load_array(path)
        elif scaler is not None:
            history = read_history_file(path, options.column, scaler, self.input_size)
        else:
            from rnnzoo.data.timeseries.read_table import frame_values, read_table

            history = frame_values(read_table(path, "a CSV or Parquet table of the series"), options.column, path)
        out = self.forecast(history, options.horizon)
        dates = getattr(out, "index", None)
        names = target_names(scaler, self.num_targets) if scaler is not None else \
            (["forecast"] if self.num_targets == 1 else [f"target{k}" for k in range(self.num_targets)])
        return write_or_return(forecast_csv(np.asarray(out), dates, names), options.out)

    def card(self, comparison: str, scores: dict[str, Any]) -> str:
        """The README.md of a saved baseline: what it is, how it was scored, how to run it."""
        lines = [f"# {self.method} (a statistical baseline)", "",
                 f"Saved by `rnnzoo compare` ({comparison}). Refitted on the history it is given at every call "
                 f"(model selection included), as it was at every validation and test origin of the comparison; "
                 f"forecasts {self.horizon} steps of the first {self.num_targets} column(s), season {self.season}.",
                 "", "Scores in the comparison:", ""]
        lines += [f"- {split}: " + ", ".join(f"{k} {v:.4g}" for k, v in s.items()) for split, s in scores.items()]
        lines += ["", "Use it:", "", "```", f"rnnzoo predict {comparison}/baselines/<this folder> history.csv",
                  "```", "", "or `rnnzoo.load(\"<this folder>\").forecast(df)` in Python."]
        return "\n".join(lines) + "\n"
