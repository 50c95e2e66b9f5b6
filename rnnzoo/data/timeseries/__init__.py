"""Time series: forecasting windows over built-in statsmodels series, arrays, or CSV/Parquet files."""

from __future__ import annotations

from typing import Any

from rnnzoo.data.timeseries.builtin_series import BUILTIN_SERIES, load_builtin_series


def __getattr__(name: str) -> Any:
    # The DataModule imports Lightning (seconds); `rnnzoo predict` reads a table through read_table, a module of
    # this package, and never needs it.
    if name == "TimeSeriesDataModule":
        from rnnzoo.data.timeseries.datamodule import TimeSeriesDataModule

        return TimeSeriesDataModule
    raise AttributeError(f"module 'rnnzoo.data.timeseries' has no attribute {name!r}")


__all__ = ["BUILTIN_SERIES", "TimeSeriesDataModule", "load_builtin_series"]
