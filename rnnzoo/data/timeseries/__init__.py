"""Time series: forecasting windows over built-in statsmodels series, arrays, or CSV/Parquet files."""

from rnnzoo.data.timeseries.builtin_series import BUILTIN_SERIES, load_builtin_series
from rnnzoo.data.timeseries.datamodule import TimeSeriesDataModule

__all__ = ["BUILTIN_SERIES", "TimeSeriesDataModule", "load_builtin_series"]
