"""Checks where data enters the pipeline: catch NaN/inf and empty sequences before they reach a loss."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rnnzoo.data.errors import DataError


def check_finite(values: np.ndarray, where: str) -> None:
    """Raise :class:`DataError` if ``values`` holds NaN or +-inf; ``where`` names the file or array."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        return  # integers and booleans cannot hold NaN/inf
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{where}: {int(bad.sum())} NaN/inf value(s), the first at index {first}. Remove or impute them "
            "(e.g. interpolate, or drop those rows) before passing the data in."
        )


def check_not_empty(length: int, where: str, what: str = "sequence") -> None:
    """Raise :class:`DataError` for a zero-length ``what`` (an empty sequence cannot be fed to a recurrent layer)."""
    if length <= 0:
        raise DataError(f"{where}: empty {what} (length 0). Remove it or fix the file it came from.")


def check_file(path: str | os.PathLike, what: str) -> Path:
    """The path as a ``Path`` if it names a non-empty file; else a :class:`DataError` saying what was expected."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file. Pass the path of {what}.")
    if not path.is_file():
        raise DataError(f"{path}: not a file. Pass the path of {what}.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty. Pass the path of {what}.")
    return path
