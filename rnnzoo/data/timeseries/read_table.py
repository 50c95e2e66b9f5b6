"""Read series from CSV or Parquet files: chosen numeric columns, in file order (rows must be chronological)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from rnnzoo.data.checks import check_file, check_finite
from rnnzoo.data.errors import DataError


def read_series_table(path: str | os.PathLike, columns: Sequence[str] | None = None) -> np.ndarray:
    """``(T, F)`` float32 from a ``.csv`` or ``.parquet`` file; ``columns=None`` takes every numeric column."""
    import pandas as pd

    path = check_file(path, "a CSV or Parquet file with one column per series feature and one row per time step")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise DataError(f"{path}: unsupported file type {suffix!r}. Pass a .csv or .parquet file.")
    except DataError:
        raise
    except Exception as err:
        raise DataError(f"{path}: could not be read as {suffix[1:]} ({err}). Check the file's format.") from err
    if columns is None:
        frame = frame.select_dtypes("number")
        if frame.shape[1] == 0:
            raise DataError(f"{path}: no numeric columns. Pass columns=[...] naming the value columns.")
    else:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: no column(s) {missing}; the file has {list(frame.columns)}. Fix columns=.")
        frame = frame[list(columns)]
    try:
        values = frame.to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"{path}: non-numeric values in {list(frame.columns)} ({err}). Clean those cells.") from err
    check_finite(values, str(path))
    return values
