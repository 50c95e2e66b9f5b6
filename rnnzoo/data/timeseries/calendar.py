"""Calendar features, future-known covariates derived from timestamps: each cycle (month of the year, day of the
week, hour of the day ...) as a ``sin``/``cos`` pair of its phase, so that December sits next to January.

``phase = position / period`` in [0, 1) and the pair is ``(sin(2 pi phase), cos(2 pi phase))``:

=========  ============================================  ==========
cycle      position                                      period
=========  ============================================  ==========
quarter    quarter - 1                                   4
month      month - 1                                     12
year       day of year - 1                               365.25
dayofweek  day of week (Monday 0)                        7
hour       hour + minute / 60                            24
=========  ============================================  ==========

Which cycles a series gets follows its sampling frequency (:data:`CYCLES_OF_FREQUENCY`): a monthly series the
month, a daily one the day of the week and of the year, an hourly one the hour and the day of the week. A yearly
series has no cycle within a year and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnzoo.data.errors import DataError

#: cycle -> (position of a timestamp in it, period)
CYCLES = {
    "quarter": (lambda t: t.quarter - 1, 4.0),
    "month": (lambda t: t.month - 1, 12.0),
    "year": (lambda t: t.day_of_year - 1, 365.25),
    "dayofweek": (lambda t: t.day_of_week, 7.0),
    "hour": (lambda t: t.hour + t.minute / 60.0, 24.0),
}

#: pandas frequency prefix -> the cycles its calendar features hold
CYCLES_OF_FREQUENCY = {"Q": ("quarter",), "M": ("month",), "W": ("year",), "D": ("dayofweek", "year"),
                       "B": ("dayofweek", "year"), "h": ("hour", "dayofweek"), "H": ("hour", "dayofweek"),
                       "min": ("hour", "dayofweek"), "T": ("hour", "dayofweek")}


def calendar_cycles(frequency: str | None) -> tuple[str, ...]:
    """The cycles of a pandas frequency string (``"MS"`` -> ``("month",)``), or an error saying why none."""
    if not frequency:
        raise DataError("calendar features need the series' frequency, and none could be inferred from the time "
                        "column (fewer than 3 rows?); pass a time column with at least 3 evenly spaced steps")
    from pandas.tseries.frequencies import to_offset

    code = to_offset(frequency).rule_code.split("-")[0].lstrip("0123456789")
    for prefix in ("min", "T", "h", "H", "B", "D", "W", "M", "Q"):
        if code == prefix or (code.startswith(prefix) and prefix not in ("min", "h", "H")):
            return CYCLES_OF_FREQUENCY[prefix]
    raise DataError(f"frequency {frequency!r} has no calendar cycle shorter than the series' step (a yearly series "
                    f"has no month or weekday); drop --calendar, or give known-ahead columns with "
                    f"--future-covariates")


def calendar_columns(cycles: Sequence[str]) -> list[str]:
    """Column names of the features of ``cycles``: ``month_sin``, ``month_cos``, ..."""
    return [f"{cycle}_{part}" for cycle in cycles for part in ("sin", "cos")]


def calendar_features(times, cycles: Sequence[str]) -> np.ndarray:
    """``(T, 2 * len(cycles))`` float32: for each cycle, sin and cos of the timestamps' phase (see the module's
    table). ``times``: anything ``pandas.DatetimeIndex`` takes."""
    import pandas as pd

    index = pd.DatetimeIndex(times)
    out = []
    for cycle in cycles:
        if cycle not in CYCLES:
            raise DataError(f"unknown calendar cycle {cycle!r}; known: {sorted(CYCLES)}")
        position, period = CYCLES[cycle]
        phase = 2 * np.pi * np.asarray(position(index), dtype=np.float64) / period
        out += [np.sin(phase), np.cos(phase)]
    return np.stack(out, 1).astype(np.float32) if out else np.zeros((len(index), 0), np.float32)


def steps_after(last, frequency: str, steps: int):
    """The ``steps`` timestamps after ``last`` at ``frequency`` (a horizon's times)."""
    import pandas as pd

    return pd.date_range(pd.Timestamp(last), periods=steps + 1, freq=frequency)[1:]
