"""Numbers as spreadsheets write them, and columns that only look like data.

A table's column reaches us as numbers, or as text when its cells carry thousands separators (``"1,234.5"``), a
decimal comma (``"12,5"``, ``"1.234,5"``) or a stray typo (``"12.3x"``). pandas reads all three as text, and a
reader that keeps "the numeric columns" then silently drops the column the user meant. Here such a column is
either read as the numbers it holds, in the one notation that fits every cell, or refused naming the cell and the
fix. :func:`time_like` tells the columns that count time (dates, years, a row number), which are never a target.

Telling a column's kind is a rule of thumb ("at least half its cells are numbers"), tested with three regular
expressions per cell (~30 us): 5 minutes for the date column of a 10-million-row table. A text column of more than
:data:`SAMPLED_CELLS` cells is therefore judged on that many cells, evenly spaced through it (first and last
included); shorter ones on every cell. Reading the numbers (:func:`parse_numbers`) always reads every cell.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from rnnzoo.errors import DataError

#: notation -> (a cell that fits it, how to turn it into Python's float syntax)
NOTATIONS = {
    "plain": (re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"), lambda t: t),
    "thousands ',' and decimal '.'": (re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$"),
                                      lambda t: t.replace(",", "")),
    "thousands '.' and decimal ','": (re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"),
                                      lambda t: t.replace(".", "").replace(",", ".")),
}


#: above this many cells, :func:`looks_numeric` judges a text column on this many, evenly spaced (see above)
SAMPLED_CELLS = 100_000


def _evenly_sampled(values: Any) -> Any:
    """``values`` (a pandas Series), or :data:`SAMPLED_CELLS` of its cells evenly spaced when it is longer."""
    if len(values) <= SAMPLED_CELLS:
        return values
    return values.iloc[np.linspace(0, len(values) - 1, SAMPLED_CELLS).round().astype(np.int64)]


def _cells(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """The stripped text of each cell, and which cells are empty (NaN, None, blank)."""
    import pandas as pd

    empty = pd.isna(values).to_numpy() if hasattr(values, "to_numpy") else pd.isna(np.asarray(values))
    text = np.array(["" if e else str(v).strip().replace("\u00a0", "").replace(" ", "")
                     for v, e in zip(values, empty)], dtype=object)
    return text, empty | (text == "")


def _best_fit(cells: np.ndarray) -> tuple[str, int]:
    """The notation most of ``cells`` fit, and how many fit it."""
    counts = {name: sum(bool(pattern.match(c)) for c in cells) for name, (pattern, _) in NOTATIONS.items()}
    best = max(counts, key=counts.get)
    return best, counts[best]


def notation(values: Any) -> str | None:
    """The notation every non-empty cell of a text column fits (see :data:`NOTATIONS`; the first listed when
    several give the same numbers), None when none fits them all. Cells that two notations read as different
    numbers (``"1,234"``: 1234 or 1.234?) are an error that asks the user to say which."""
    text, empty = _cells(values)
    cells = text[~empty]
    fitting = [name for name, (pattern, _) in NOTATIONS.items() if cells.size and all(pattern.match(c) for c in cells)]
    if not fitting:
        return None
    readings = {name: [float(NOTATIONS[name][1](c)) for c in cells] for name in fitting}
    first, *others = fitting
    for other in others:
        if readings[other] != readings[first]:
            k = next(i for i, (a, b) in enumerate(zip(readings[first], readings[other])) if a != b)
            raise DataError(
                f"the cells read as numbers in two ways (e.g. {cells[k]!r}: {readings[first][k]:g} with {first}, "
                f"{readings[other][k]:g} with {other}); write the file with plain numbers, or read it with "
                f"pandas.read_csv(..., thousands=..., decimal=...) and pass the DataFrame")
    return first


def parse_numbers(values: Any, where: str, offset: int = 0) -> np.ndarray:
    """A column as float64 (NaN where a cell is empty): numbers as they are; text in the notation all its cells
    share (thousands separators, decimal commas). A cell that is no number in that notation is an error naming
    it: ``where`` names the column (and file), ``offset`` shifts the row numbers it quotes."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64)
    try:
        found = notation(values)
    except DataError as err:
        raise DataError(f"{where}: {err}") from None
    text, empty = _cells(values)
    if found is None:
        pattern = NOTATIONS[_best_fit(text[~empty])[0]][0]
        row = next(i for i, (c, e) in enumerate(zip(text, empty)) if not e and not pattern.match(c))
        raise DataError(f"{where} is numbers except row {row + offset}, {values.iloc[row]!r}; fix that cell (the "
                        f"column is not dropped): it is not a number as the other cells write them")
    convert = NOTATIONS[found][1]
    return np.array([np.nan if e else float(convert(c)) for c, e in zip(text, empty)], dtype=np.float64)


def looks_numeric(values: Any) -> bool:
    """Numbers, or text of which at least half the non-empty cells are numbers in some notation (a column the
    user meant as numbers: a bad cell in it is an error, never a reason to leave it out). A text column of more
    than :data:`SAMPLED_CELLS` cells is judged on that many, evenly spaced."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values.dtype):
        return False
    if pd.api.types.is_numeric_dtype(values.dtype):
        return True
    text, empty = _cells(_evenly_sampled(values))
    cells = text[~empty]
    if len(cells) == 0:
        return False
    return _best_fit(cells)[1] >= 0.5 * len(cells)


def _one_date_format(text: Any) -> bool:
    """Whether every cell parses as a date in the one format pandas infers from the first (vectorised): cells that
    do also parse one by one (``format="mixed"``), so a True here is that parse's answer, found sooner."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():  # "could not infer format": then the cell-by-cell parse decides
        warnings.simplefilter("ignore")
        try:
            return bool(pd.to_datetime(text, errors="coerce").notna().all())
        except (TypeError, ValueError, OverflowError):
            return False


def time_like(values: Any) -> str | None:
    """Why a column counts time (``"dates"``, ``"evenly spaced whole numbers, like years or a row number"``), or
    None: such a column indexes the series and is never forecast."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "dates"
    if not pd.api.types.is_numeric_dtype(values.dtype) and not looks_numeric(values):
        text = values.dropna().astype(str)
        if len(text) > SAMPLED_CELLS and _one_date_format(text):
            return "dates"  # what the cell-by-cell parse below would say, ~2x sooner on a long column
        if len(text) and pd.to_datetime(text, errors="coerce", format="mixed").notna().all():
            return "dates"
        return None
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return None
    numbers = values.to_numpy(dtype=np.float64)
    if len(numbers) < 3 or not np.isfinite(numbers).all() or not np.all(numbers == np.round(numbers)):
        return None
    steps = np.diff(numbers)
    if steps[0] > 0 and np.all(steps == steps[0]):
        return "evenly spaced whole numbers, like years or a row number"
    return None
