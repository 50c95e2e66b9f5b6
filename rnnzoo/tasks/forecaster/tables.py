"""Dated tables in and out of a forecaster: a pandas history read by column name, and forecasts indexed by date.

The model reads windows in its own column order (targets, past covariates, future covariates, calendar features:
``SeriesScaler.columns``). A user holds a DataFrame in theirs, with a date column or a DatetimeIndex. This module
maps one onto the other, so ``forecast(df)`` on any column order equals ``forecast`` on the internal layout, derives
the calendar columns from the dates, and dates the forecast it returns. Arrays pass through untouched: arrays in,
arrays out.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnzoo.tasks.base import PreprocessingError
from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler


@dataclass
class History:
    """A history as the model reads it: ``values`` (a table's columns in the model's order, or the input as it
    came), and the dates of its rows when it had any."""

    values: Any
    dates: Any = None  # a pandas DatetimeIndex, or None

    @property
    def dated(self) -> bool:
        return self.dates is not None and len(self.dates) > 0


def _pandas():
    """pandas when the caller already uses it (a DataFrame can only come from an imported pandas), else None."""
    return sys.modules.get("pandas")


def read_history(history: Any, scaler: SeriesScaler, input_size: int) -> History:
    """A pandas history -> its values in the model's column order and its dates; anything else unchanged.

    A DataFrame's columns are taken by name when the model knows its columns (``scaler.columns``); its dates come
    from ``scaler.time_column`` when that column is there, else from a DatetimeIndex. Calendar columns the model
    reads and the frame lacks are computed from those dates. A Series is one feature, dated by a DatetimeIndex.
    """
    pd = _pandas()
    if pd is None or not isinstance(history, (pd.DataFrame, pd.Series)):
        return History(history)
    if isinstance(history, pd.Series):
        dates = history.index if isinstance(history.index, pd.DatetimeIndex) else None
        return History(history.to_numpy(), dates)
    frame = history
    if scaler.time_column and scaler.time_column in frame.columns:
        try:
            dates = pd.DatetimeIndex(pd.to_datetime(frame[scaler.time_column]))
        except (TypeError, ValueError) as err:
            raise PreprocessingError(f"the history's time column {scaler.time_column!r} does not parse as dates "
                                     f"({err}); give ISO dates (2024-01-31)") from None
        frame = frame.drop(columns=[scaler.time_column]).set_index(dates)
    dates = frame.index if isinstance(frame.index, pd.DatetimeIndex) else None
    if not scaler.columns:  # a model that never knew its column names reads the frame's columns as they are
        return History(_numbers(frame, list(frame.columns)), dates)
    calendar = [c for c in scaler.calendar_columns if c not in frame.columns]
    if calendar:
        if dates is None:
            where = f"a {scaler.time_column!r} column or " if scaler.time_column else ""
            raise PreprocessingError(f"the history lacks the calendar columns {calendar} and has no dates to compute "
                                     f"them from; give it {where}a DatetimeIndex")
        from rnnzoo.data.timeseries.calendar import calendar_columns, calendar_features

        cycles = scaler.calendar["cycles"]
        frame = frame.assign(**dict(zip(calendar_columns(cycles), calendar_features(dates, cycles).T)))
    missing = [c for c in scaler.columns if c not in frame.columns]
    if missing:
        raise PreprocessingError(f"the history has no column(s) {missing} (it has {list(history.columns)}); the "
                                 f"model reads {list(scaler.columns)}, by name, in any order")
    if len(scaler.columns) != input_size:  # a preprocessing written for another model
        raise PreprocessingError(f"the model's preprocessing names {len(scaler.columns)} columns but the model reads "
                                 f"{input_size} features per step; re-save the model with its own DataModule")
    return History(_numbers(frame, list(scaler.columns)), dates)


def _numbers(frame: Any, columns: list[str]) -> np.ndarray:
    """``(T, len(columns))`` float64 of a table's columns, numbers read as the training table's were (thousands
    separators, decimal commas: :mod:`rnnzoo.codecs.numbers`); a bad cell is an error naming it."""
    from rnnzoo.codecs.numbers import parse_numbers
    from rnnzoo.errors import DataError

    try:
        return np.stack([parse_numbers(frame[c], f"the history's column {c!r}") for c in columns], 1)
    except DataError as err:
        raise PreprocessingError(str(err)) from None


def forecast_dates(history: History, scaler: SeriesScaler, steps: int) -> Any:
    """The dates of the ``steps`` forecast steps after a dated history (the model's frequency, else the one the
    dates show), or None when the history has no dates or no regular step."""
    if not history.dated:
        return None
    frequency = scaler.frequency or history.dates.inferred_freq
    if not frequency:
        return None
    from rnnzoo.data.timeseries.calendar import steps_after

    return steps_after(history.dates[-1], frequency, steps)


def target_names(scaler: SeriesScaler, count: int) -> list[str]:
    """The names of the ``count`` forecast targets: the model's first columns, else ``forecast``/``target{k}``."""
    if scaler.columns and len(scaler.columns) >= count:
        return list(scaler.columns[:count])
    return ["forecast"] if count == 1 else [f"target{k}" for k in range(count)]


def dated(values: np.ndarray, dates: Any, names: list[str], levels: list[float] | None = None) -> Any:
    """One forecast ``(H,)``, ``(H, targets)``, ``(H, Q)`` or ``(H, targets, Q)`` as a pandas object indexed by
    ``dates``: a Series for one target and no levels, else a DataFrame (columns ``target`` or ``target_q0.1``)."""
    pd = _pandas()
    flat = values.reshape(len(values), -1)
    if levels is None and flat.shape[1] == 1:
        return pd.Series(flat[:, 0], index=dates, name=names[0])
    columns = [f"{n}_q{q:g}" for n in names for q in levels] if levels else names
    return pd.DataFrame(flat, index=dates, columns=columns)


def read_history_file(path: str, columns: list[str] | None, scaler: SeriesScaler, input_size: int) -> Any:
    """A CSV/Parquet history for a model reading ``input_size`` columns: ``columns`` (in the model's order), else
    the table itself when the model knows its column names (:func:`read_history` reads them by name, and the
    dates), else the numeric columns when their count is the model's input width."""
    from rnnzoo.data.timeseries.read_table import frame_values, read_table, value_columns

    frame = read_table(path, "a CSV or Parquet table of the series up to the forecast origin")
    if columns:
        return frame_values(frame, columns, path)
    if scaler.columns:
        return frame
    # rnnzoo.codecs.numbers' rule, as compare read the table: pandas' dtypes would call a column with one typo text
    # and report no numeric column, where the cell to fix is the message
    numeric = value_columns(frame, path)
    if len(numeric) != input_size:
        raise PreprocessingError(f"{path} has numeric columns {numeric} (all columns: {list(frame.columns)}); the "
                                 f"model reads {input_size} per step: name them with --column")
    return frame_values(frame, numeric, path)


def forecast_csv(mean: np.ndarray, dates: Any, names: list[str], std: np.ndarray | None = None) -> str:
    """A forecast as CSV text: ``step``, ``date`` (when dated), one column per name in ``names`` (``mean``'s
    columns), and ``<name>_std`` columns when ``std`` is given."""
    mean = np.asarray(mean).reshape(len(mean), -1)
    header = ["step", *(["date"] if dates is not None else []), *names,
              *([f"{n}_std" for n in names] if std is not None else [])]
    rows = [",".join(header)]
    for step in range(len(mean)):
        values = [*mean[step], *(np.asarray(std).reshape(len(mean), -1)[step] if std is not None else [])]
        when = [str(dates[step].date() if dates[step] == dates[step].normalize() else dates[step])] \
            if dates is not None else []
        rows.append(",".join([str(step + 1), *when, *(f"{v:.6g}" for v in values)]))
    return "\n".join(rows)
