"""Read series from CSV or Parquet files: chosen numeric columns, in file order (rows must be chronological)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnzoo.data.checks import check_file, check_finite
from rnnzoo.data.errors import DataError


#: delimiters a CSV may use instead of ',' (found in the header of a file that reads as one column)
OTHER_DELIMITERS = (";", "\t", "|")


def read_table(path: str | os.PathLike, what: str = "a CSV or Parquet table with one row per time step"):
    """A ``.csv`` or ``.parquet`` file as a pandas DataFrame, or a :class:`DataError` naming the file and the fix.
    The one table reader of rnnzoo: DataModules, ``rnnzoo compare`` and ``rnnzoo predict`` all read through it."""
    import pandas as pd

    path = check_file(path, what)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{path}: unsupported file type {suffix!r}. Pass a .csv or .parquet file.")
    try:
        if suffix != ".csv":
            return pd.read_parquet(path)
        frame = pd.read_csv(path)
        header = str(frame.columns[0]) if frame.shape[1] == 1 else ""
        delimiter = next((d for d in OTHER_DELIMITERS if d in header), None)
        # One column whose name holds another delimiter: a ';' (or tab) separated file, as spreadsheets in
        # decimal-comma locales export them. Read it with that delimiter; its numbers go through the codec.
        return pd.read_csv(path, sep=delimiter) if delimiter else frame
    except Exception as err:  # pandas raises many kinds; the message is what the user needs
        raise DataError(f"{path}: could not be read as {suffix[1:]} ({err}). Check the file's format.") from None


def read_series_table(path: str | os.PathLike, columns: Sequence[str] | None = None) -> np.ndarray:
    """``(T, F)`` float32 from a ``.csv`` or ``.parquet`` file; ``columns=None`` takes every numeric column."""
    frame = read_table(path, "a CSV or Parquet file with one column per series feature and one row per time step")
    return frame_values(frame, columns, str(Path(path).expanduser()))


def value_columns(frame, where: str) -> list[str]:
    """The value columns of a DataFrame by :mod:`rnnzoo.codecs.numbers`' rule: the numeric ones (a stray text cell
    does not make a column text), less those that count time (dates, years, a row number) when others remain, which
    are left out with a warning."""
    from rnnzoo.codecs.numbers import looks_numeric, time_like

    numeric = [c for c in frame.columns if looks_numeric(frame[c])]
    timing = {c: why for c in frame.columns if (why := time_like(frame[c]))}
    columns = [c for c in numeric if c not in timing] or numeric
    if not columns:
        raise DataError(f"{where}: no numeric columns. Pass columns=[...] naming the value columns.")
    left_out = {c: why for c, why in timing.items() if c not in columns}
    if left_out:
        warnings.warn(f"{where}: left out {list(left_out)} ({'; '.join(f'{c}: {w}' for c, w in left_out.items())}"
                      f"), they count time; pass columns=[...] to read them as values", stacklevel=3)
    return columns


def frame_values(frame, columns: Sequence[str] | None, where: str) -> np.ndarray:
    """``(T, F)`` float32 of a DataFrame's value columns (``columns``, else the numeric ones), checked.

    Numbers are read as spreadsheets write them (thousands separators, decimal commas: :mod:`rnnzoo.codecs.numbers`).
    A column that is mostly numbers but holds a stray text cell (``12.3x``) is an error naming that cell, not a
    column silently left out. Without ``columns``, columns that count time (dates, years, a row number) are left
    out, with a warning, when other numeric columns remain: they index the series, they are not its values.
    """
    from rnnzoo.codecs.numbers import parse_numbers

    if hasattr(frame, "to_frame"):  # a Series
        frame = frame.to_frame()
    if columns is None:
        columns = value_columns(frame, where)
    else:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{where}: no column(s) {missing}; the table has {list(frame.columns)}. Fix columns=.")
    values = np.stack([parse_numbers(frame[c], f"{where}: column {c!r}") for c in columns], 1)
    with np.errstate(over="ignore"):  # beyond float32 is reported by check_finite, after the cast
        values = values.astype(np.float32)
    check_finite(values, where)
    return values
