"""A user's table of series (CSV or Parquet) -> checked float arrays, one per series, and the settings read off it.

Wide tables hold one series per target column (``--target a b c``: three series, each forecast on its own and
trained together; without ``--target`` the table's one numeric column, and several are an error that lists them); long tables stack several series in rows told apart by ``--series-id``, each forecasting all
``--target`` columns. ``--covariates`` are past covariates: read in each window beside the targets, not forecast.
``--future-covariates`` are known ahead (a planned price, a holiday flag): read in the window and also given to
the model for the horizon; ``--calendar`` adds sin/cos calendar features of ``--time-column``
(:mod:`rnnzoo.data.timeseries.calendar`), known ahead too. Each series' columns are, in order: targets, past
covariates, future covariates, calendar features. For validation and test windows the future covariates of the
horizon are read from the table itself (rolling-origin evaluation: the values are in the data, as they would be
known at forecast time); the table has no "future rows", every row needs its target.
Every problem is an error that names the column, the row and the fix; nothing is dropped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.data.errors import DataError
from rnnzoo.data.timeseries.read_table import read_table

#: pandas offset prefixes -> the seasonal period they imply (the most common cycle of that sampling)
SEASON_OF_FREQUENCY = {"Y": 1, "A": 1, "Q": 4, "M": 12, "W": 52, "B": 5, "D": 7, "h": 24, "H": 24, "min": 60, "T": 60}


@dataclass
class UserSeries:
    """What :func:`read_user_series` found: the arrays (targets first, then covariates), their names, the
    number of targets per series, and the frequency/season the time column implies."""

    arrays: list[np.ndarray]
    names: list[str]
    num_targets: int
    target_columns: list[str]
    covariate_columns: list[str]
    frequency: str | None = None
    season: int | None = None
    notes: list[str] = field(default_factory=list)
    future_columns: list[str] = field(default_factory=list)  # known ahead: user columns, then calendar features
    calendar: dict[str, Any] | None = None  # {"frequency", "cycles"} when the last future columns are calendar
    time_column: str | None = None

    @property
    def window_columns(self) -> list[str] | None:
        """The names of each array's features in order, when all series share them (a long table, or a wide one
        with one target); None for a wide table of several targets, whose first feature differs per series."""
        if self.num_targets == 1 and len(self.target_columns) > 1:
            return None
        return [*self.target_columns, *self.covariate_columns, *self.future_columns]


def _numeric(frame, column: str, path: Path, offset: int = 0) -> np.ndarray:
    """A column as float64 (numbers as spreadsheets write them), or an error naming the first cell that is not a
    number or is empty."""
    from rnnzoo.codecs.numbers import parse_numbers

    values = parse_numbers(frame[column], f"{path}: column {column!r}", offset)
    missing = np.isnan(values)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise DataError(
            f"{path}: column {column!r} has {len(rows)} empty or NaN cell(s), the first at row {rows[0] + offset}. "
            f"Fill the gaps before comparing, e.g. df[{column!r}] = df[{column!r}].interpolate() (or .ffill()), "
            f"or cut the series where they start")
    return values


def _frequency(frame, time_column: str, path: Path, where: str) -> str | None:
    """Parse the time column, check it rises in regular steps, return pandas' frequency string."""
    import pandas as pd

    try:
        times = pd.to_datetime(frame[time_column], errors="coerce")
    except (TypeError, ValueError):
        times = pd.Series([pd.NaT] * len(frame))
    bad = times.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}: time column {time_column!r}{where}, row {row}: {frame[time_column].iloc[row]!r} "
                        f"does not parse as a date/time. Use ISO dates (2024-01-31) or drop --time-column")
    repeated = times.duplicated()
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        first = int(np.flatnonzero((times == times.iloc[row]).to_numpy())[0])
        raise DataError(f"{path}: time column {time_column!r}{where} has duplicated timestamps: row {row} repeats "
                        f"{times.iloc[row]} of row {first} ({int(repeated.sum())} repeated in all); keep one row per "
                        f"step, e.g. df = df.groupby({time_column!r}, as_index=False).mean(numeric_only=True)")
    if not times.is_monotonic_increasing:
        row = int(np.flatnonzero(np.diff(times.to_numpy()) < np.timedelta64(0))[0]) + 1
        raise DataError(f"{path}: time column {time_column!r}{where} goes back at row {row} "
                        f"({times.iloc[row - 1]} then {times.iloc[row]}); sort the rows by time, e.g. "
                        f"df = df.sort_values({time_column!r})")
    if len(times) < 3:
        return None
    index = pd.DatetimeIndex(times)
    frequency = _inferred_frequency(index)
    if frequency is None:
        step, missing = _calendar_gaps(index)
        fix = (f"df[{time_column!r}] = pd.to_datetime(df[{time_column!r}]); "
               f"df = df.set_index({time_column!r}).asfreq({step!r}).interpolate().reset_index()")
        if step is None:
            raise DataError(f"{path}: time column {time_column!r}{where} is not evenly spaced in any calendar step "
                            f"(days, weeks, months, quarters, years, hours, minutes); resample it to one, e.g. "
                            f"df.set_index({time_column!r}).resample('D').mean()")
        raise DataError(
            f"{path}: time column {time_column!r}{where} is not evenly spaced: at its calendar step {step!r} the "
            f"first missing timestamp is {missing[0]} ({len(missing)} missing in all). Fill the missing steps, "
            f"e.g. {fix}")
    return frequency


#: calendar steps a table's dates are tried against, most common first
CALENDAR_STEPS = ("MS", "ME", "QS", "QE", "YS", "YE", "D", "B", "h", "W-SUN", "W-MON", "W-TUE", "W-WED", "W-THU",
                  "W-FRI", "W-SAT", "min", "30min", "15min", "10min", "5min", "s")


def _calendar_gaps(index: Any) -> tuple[str | None, Any]:
    """The calendar step whose grid holds every timestamp with the fewest missing (a month is a calendar step, so
    a 28-day February is no gap), and the timestamps missing from that grid; (None, []) when no step holds them."""
    import pandas as pd

    best = None
    for step in CALENDAR_STEPS:
        try:
            grid = pd.date_range(index[0], index[-1], freq=step)
        except ValueError:
            continue
        if len(grid) > 2 * len(index) or not index.isin(grid).all():
            continue
        missing = grid.difference(index)
        if best is None or len(missing) < len(best[1]):
            best = (step, missing)
    return best if best is not None else (None, [])


def season_of(frequency: str | None) -> int | None:
    """The seasonal period a pandas frequency implies (``"MS"`` -> 12, ``"W-SUN"`` -> 52), None if unknown."""
    if not frequency:
        return None
    from pandas.tseries.frequencies import to_offset

    code = to_offset(frequency).rule_code.split("-")[0].lstrip("0123456789")
    for prefix, season in SEASON_OF_FREQUENCY.items():
        if code == prefix or (code.startswith(prefix) and prefix not in ("min", "h", "H")):
            return season
    return None


def _find_time_column(frame, path: Path, reserved: set) -> tuple[str | None, list[str]]:
    """The table's one column of dates (and a note saying it was found), None when it has none; several are an
    error that names them."""
    from rnnzoo.codecs.numbers import time_like

    dates = [c for c in frame.columns if c not in reserved and time_like(frame[c]) == "dates"]
    if len(dates) > 1:
        raise DataError(f"{path}: several columns hold dates {dates}; name the one the rows are indexed by with "
                        f"--time-column, or pass --no-time-column to read the rows as evenly spaced steps")
    if not dates:
        return None, []
    return dates[0], [f"{dates[0]!r} used as the time column: the table's one column of dates (--time-column to "
                      f"name another, --no-time-column to read the rows without dates)"]


def _default_target(frame, path: Path, reserved: set) -> tuple[list[str], list[str]]:
    """The one column to forecast when the user named none, and a note on each column left out and why.

    The rule: the table's one numeric column (numbers as spreadsheets write them, so a column with a bad cell
    counts, and its cell is reported when it is read) that does not count time (dates, years, a row number).
    Several such columns, or none, are an error that lists them."""
    from rnnzoo.codecs.numbers import looks_numeric, time_like

    candidates, notes, counting = [], [], {}
    for column in frame.columns:
        if column in reserved:
            continue
        if column.startswith("Unnamed:"):  # the index pandas' to_csv writes by default: a row number
            notes.append(f"{column!r} left out: the row index pandas writes")
        elif why := time_like(frame[column]):
            counting[column] = why
        elif not looks_numeric(frame[column]):
            notes.append(f"{column!r} left out: text, not numbers")
        else:
            candidates.append(column)
    numeric_counting = [c for c in counting if looks_numeric(frame[c])]
    if not candidates and len(numeric_counting) == 1 and not notes[1:] and \
            all(n.endswith("the row index pandas writes") for n in notes):
        # the table's only column of numbers (beside a pandas index): forecast it, and say what it looks like
        column = numeric_counting[0]
        return [column], [f"{column!r} is forecast though it looks like a count of time ({counting[column]}): it is "
                          f"the table's only numeric column", *notes]
    notes += [f"{c!r} left out: it counts time ({why}); name it with --time-column" for c, why in counting.items()]
    if not candidates:
        raise DataError(f"{path}: no column to forecast among {list(frame.columns)} ({'; '.join(notes)}); name it "
                        f"with --target")
    if len(candidates) > 1:
        raise DataError(f"{path}: several numeric columns {candidates} could be forecast; name the one(s) to "
                        f"forecast with --target (each becomes a series), and inputs with --covariates")
    return candidates, notes


def read_user_series(path: str | os.PathLike, target: list[str] | None = None, covariates: list[str] | None = None,
                     series_id: str | None = None, time_column: str | None = None,
                     future_covariates: list[str] | None = None, calendar: bool = False,
                     find_time_column: bool = True) -> UserSeries:
    """Read and check a user's series table (see the module docstring for the layouts). Without ``time_column``,
    the table's one column of dates is found and used (several are refused as ambiguous); ``find_time_column=False``
    (``--no-time-column``) reads the rows as evenly spaced steps without dates."""
    path = Path(path).expanduser()
    frame = read_table(path)
    if frame.empty:
        raise DataError(f"{path}: the table has no rows")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    found = []
    if time_column is None and find_time_column:
        time_column, found = _find_time_column(frame, path, {series_id, *(target or []), *(covariates or []),
                                                              *(future_covariates or [])})
    if calendar and not time_column:
        raise DataError(f"{path}: --calendar derives calendar features from dates: name the date column with "
                        f"--time-column")
    covariates = list(covariates or [])
    future_covariates = list(future_covariates or [])
    named = [c for c in [*(target or []), *covariates, *future_covariates, series_id, time_column] if c]
    missing = [c for c in named if c not in columns]
    if missing:
        raise DataError(f"{path}: no column(s) {missing}; the table has {columns}. Name columns that exist "
                        f"(--target, --covariates, --series-id, --time-column)")
    notes = list(found)
    if target is None:
        target, left_out = _default_target(frame, path, {series_id, time_column, *covariates, *future_covariates})
        notes += left_out
    overlap = sorted(set(target) & set(covariates))
    if overlap:
        raise DataError(f"{path}: {overlap} given as both target and covariate; a column is one or the other")
    overlap = sorted(set(future_covariates) & (set(target) | set(covariates)))
    if overlap:
        raise DataError(f"{path}: {overlap} given as a future covariate and as a target or past covariate; a "
                        f"column is one of them (a future covariate is read in the window too)")
    cycles = ()
    if calendar:
        from rnnzoo.data.timeseries.calendar import calendar_columns, calendar_cycles
    groups = [(None, frame)] if series_id is None else list(frame.groupby(series_id, sort=False))
    arrays, names, frequency = [], [], None
    for key, group in groups:
        where = "" if key is None else f" (series {key!r})"
        offset = 0 if key is None else int(group.index[0])
        group = group.reset_index(drop=True)
        if time_column:
            found = _frequency(group, time_column, path, where)
            frequency = frequency or found
        values = {c: _numeric(group, c, path, offset) for c in [*target, *covariates, *future_covariates]}
        known = np.stack([values[c] for c in future_covariates], 1) if future_covariates else \
            np.zeros((len(group), 0))
        if calendar:
            import pandas as pd

            from rnnzoo.data.timeseries.calendar import calendar_features

            cycles = calendar_cycles(found)
            known = np.concatenate([known, calendar_features(pd.to_datetime(group[time_column]), cycles)], 1)
        if series_id is None:  # wide: one series per target column, the covariates beside each
            for column in target:
                arrays.append(np.concatenate([np.stack([values[column], *(values[c] for c in covariates)], 1),
                                              known], 1).astype(np.float32))
                names.append(f"{path.name}:{column}")
        else:  # long: one series per id, all targets together
            arrays.append(np.concatenate([np.stack([values[c] for c in [*target, *covariates]], 1), known],
                                         1).astype(np.float32))
            names.append(f"{path.name}:{series_id}={key}")
    future_columns = [*future_covariates, *(calendar_columns(cycles) if calendar else [])]
    return UserSeries(arrays, names, num_targets=1 if series_id is None else len(target), target_columns=list(target),
                      covariate_columns=covariates, frequency=frequency, season=season_of(frequency),
                      future_columns=future_columns, time_column=time_column, notes=notes,
                      calendar={"frequency": frequency, "cycles": list(cycles)} if calendar else None)


def _inferred_frequency(index: Any) -> str | None:
    """pandas' inferred frequency of a DatetimeIndex as its string ("MS", "QS-OCT" ...), or None. pandas 3.1
    starts moving ``inferred_freq`` to an offset object and warns on every call (users saw that warning in
    `rnnzoo compare`'s output); asking for the offset and taking its ``freqstr`` gives the same string silently."""
    import pandas as pd

    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            frequency = index.inferred_freq
    except (KeyError, pd.errors.OptionError):  # pandas before 3.1: a string already, no warning
        frequency = index.inferred_freq
    return frequency if frequency is None or isinstance(frequency, str) else frequency.freqstr


def default_input_length(shortest_train: int, horizon: int, season: int) -> int:
    """The window length rule: ``max(2 * season, 2 * horizon, 8)`` steps, shortened so that the shortest
    series' training range still gives at least 10 training windows."""
    wanted = max(2 * season, 2 * horizon, 8)
    return max(1, min(wanted, shortest_train - horizon - 9))


def describe(series: UserSeries) -> dict[str, Any]:
    """A JSON-able summary for results.json."""
    return {"series": series.names, "num_targets": series.num_targets, "targets": series.target_columns,
            "covariates": series.covariate_columns, "future_covariates": series.future_columns,
            "calendar": series.calendar, "time_column": series.time_column, "frequency": series.frequency,
            "season": series.season,
            "lengths": [len(a) for a in series.arrays], "columns_left_out": series.notes}
