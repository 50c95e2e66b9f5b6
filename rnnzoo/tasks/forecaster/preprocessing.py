"""A forecaster's preprocessing: each series' training-range scaler and the window geometry it was trained on."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from rnnzoo.tasks.base import Preprocessing, PreprocessingError


@dataclasses.dataclass
class SeriesScaler(Preprocessing):
    """Standardisation with each series' training-range mean and std (``scaled = (x - mean) / std``), and the
    windows the model was trained on. Written by :class:`~rnnzoo.data.TimeSeriesDataModule` (for a user's table
    ``rnnzoo compare`` builds that DataModule with the table's column names, time column and frequency).

    ``mean`` and ``std`` are ``[series][feature]``; ``series`` names them (a file, a built-in, ``series[i]``).
    ``columns`` names the window's features in order (targets, past covariates, future covariates, calendar
    features) when they were known; ``time_column`` and ``frequency`` the dates the rows had.

    A model with future-known covariates (``Forecaster(num_future=...)``) also carries ``future_columns``, the
    names of the last features of the window, which are given for the horizon too, and, when the last of them
    are calendar features, ``calendar = {"frequency", "cycles"}`` (:mod:`rnnzoo.data.timeseries.calendar`). Both
    are written to config.json only when set.
    """

    key: ClassVar[str] = "timeseries"

    mean: list[list[float]]
    std: list[list[float]]
    input_length: int
    horizon: int
    season: int = 1
    series: list[str] = dataclasses.field(default_factory=list)
    columns: list[str] | None = None
    source: str = ""
    stride: int = 1
    proportions: list[float] | None = None
    future_columns: list[str] | None = None
    calendar: dict[str, Any] | None = None
    time_column: str | None = None
    frequency: str | None = None

    #: fields written to config.json only when set (older files lack them; their defaults reproduce them)
    optional_fields: ClassVar[tuple[str, ...]] = ("future_columns", "calendar", "time_column", "frequency")

    @classmethod
    def from_config(cls, config: dict[str, Any], *, task: str = "") -> "SeriesScaler":
        # Format 1 (and the DataModule) nest the statistics as {"scaler": {"mean", "std"}}.
        block = dict((config or {}).get(cls.key) or {}) if isinstance(config, dict) else config
        if isinstance(block, dict) and "scaler" in block:
            scaler = block.pop("scaler")
            block.update(mean=scaler["mean"], std=scaler["std"])
            config = {cls.key: block}
        return super().from_config(config, task=task)

    def to_config(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        fields["scaler"] = {"mean": fields.pop("mean"), "std": fields.pop("std")}
        for name in self.optional_fields:
            if fields[name] is None:
                del fields[name]
        return {self.key: fields}

    @property
    def calendar_columns(self) -> list[str]:
        """Names of the calendar features among :attr:`future_columns` (the last of them), or []."""
        if not self.calendar:
            return []
        from rnnzoo.data.timeseries.calendar import calendar_columns

        return calendar_columns(self.calendar["cycles"])

    def encode_future(self, values: np.ndarray, series: int = 0) -> np.ndarray:
        """``(H, num_future)`` future-known covariates in the data's units -> scaled float32 (the statistics of
        the window's last ``num_future`` features, where the DataModule put them)."""
        count = len(self.future_columns or [])
        mean = np.asarray(self.mean[series][len(self.mean[series]) - count:], dtype=np.float32)
        std = np.asarray(self.std[series][len(self.std[series]) - count:], dtype=np.float32)
        return (np.asarray(values, dtype=np.float32) - mean) / std

    def series_index(self, series: int | str) -> int:
        """The index of ``series`` (an index or one of :attr:`series`' names), checked."""
        if isinstance(series, str):
            if series not in self.series:
                raise PreprocessingError(f"unknown series {series!r}; this model was trained on {self.series}")
            return self.series.index(series)
        if not 0 <= series < len(self.mean):
            raise PreprocessingError(f"series={series} is out of range: this model has scalers for "
                                     f"{len(self.mean)} series ({self.series})")
        return series

    def encode(self, values: np.ndarray, series: int = 0) -> np.ndarray:
        """``(T, F)`` values in the data's units -> scaled float32, as the DataModule scaled its windows."""
        mean = np.asarray(self.mean[series], dtype=np.float32)
        std = np.asarray(self.std[series], dtype=np.float32)
        return (np.asarray(values, dtype=np.float32) - mean) / std

    def decode(self, scaled: np.ndarray, series: int = 0, *, features: int | None = None) -> np.ndarray:
        """Scaled values ``(..., F)`` (the first ``features`` of the window's) -> the data's units."""
        features = features or len(self.mean[series])
        mean = np.asarray(self.mean[series][:features], dtype=np.float32)
        std = np.asarray(self.std[series][:features], dtype=np.float32)
        return np.asarray(scaled, dtype=np.float32) * std + mean

    def decode_scale(self, scaled_std: np.ndarray, series: int = 0, *, features: int | None = None) -> np.ndarray:
        """A standard deviation in scaled units -> the data's units (scaled by std only)."""
        features = features or len(self.std[series])
        return np.asarray(scaled_std, dtype=np.float32) * np.asarray(self.std[series][:features], dtype=np.float32)
