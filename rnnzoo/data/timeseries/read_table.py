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
    return frame_values(frame, columns, str(path))


def frame_values(frame, columns: Sequence[str] | None, where: str) -> np.ndarray:
    """``(T, F)`` float32 of a DataFrame's value columns (``columns``, else the numeric ones), checked.

    A column that is mostly numbers but holds a stray text cell (``12.3x``) is an error naming that cell, not a
    column silently left out: pandas reads such a column as text, and ``select_dtypes("number")`` would drop it.
    """
    import pandas as pd

    if hasattr(frame, "to_frame"):  # a Series
        frame = frame.to_frame()
    if columns is None:
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                parsed = pd.to_numeric(frame[column], errors="coerce")
                bad = parsed.isna() & frame[column].notna()
                if parsed.notna().mean() >= 0.5 and bad.any():
                    row = int(np.flatnonzero(bad.to_numpy())[0])
                    raise DataError(f"{where}: column {column!r} is numbers except row {row}, "
                                    f"{frame[column].iloc[row]!r}; fix that cell (the column is not dropped), or "
                                    f"pass columns=[...] naming the value columns")
        frame = frame.select_dtypes("number")
        if frame.shape[1] == 0:
            raise DataError(f"{where}: no numeric columns. Pass columns=[...] naming the value columns.")
    else:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{where}: no column(s) {missing}; the table has {list(frame.columns)}. Fix columns=.")
        frame = frame[list(columns)]
    try:
        values = frame.to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"{where}: non-numeric values in {list(frame.columns)} ({err}). Clean those cells.") from err
    check_finite(values, where)
    return values
