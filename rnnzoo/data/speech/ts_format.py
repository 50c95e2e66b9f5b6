"""Reader for the UEA/UCR ``.ts`` time-series classification format (what sktime and aeon use).

Header lines start with ``#`` (comments) or ``@`` (``@problemName``, ``@classLabel true 1 2 ...``, ``@data``);
after ``@data`` each line is one case: dimensions separated by ``:``, values by ``,``, the class label last.
Dimensions of a case may differ in length only across cases, not within one.
"""

from __future__ import annotations

import os

import numpy as np

from rnnzoo.data.checks import check_file, check_finite, check_not_empty
from rnnzoo.data.errors import DataError


def read_ts(path: str | os.PathLike) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Read a ``.ts`` file -> (cases as ``(T_i, D)`` float32 arrays, their labels, the declared class labels)."""
    path = check_file(path, "a UEA/UCR .ts file")
    cases, labels, declared, in_data = [], [], [], False
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{path}:{lineno}"
            if not in_data:
                if line.lower().startswith("@classlabel"):
                    parts = line.split()
                    declared = parts[2:] if len(parts) > 1 and parts[1].lower() == "true" else []
                in_data = line.lower() == "@data"
                continue
            *dims, label = line.split(":")
            if not dims:
                raise DataError(f"{where}: a case needs 'values:...:label'. Is this a .ts file with class labels?")
            try:
                series = [np.array([float(v) for v in d.split(",")], dtype=np.float32) for d in dims]
            except ValueError as err:
                raise DataError(f"{where}: non-numeric value ({err}); '?' (missing) is not supported, impute it") from err
            if len({len(s) for s in series}) != 1:
                raise DataError(f"{where}: dimensions of one case differ in length; pad or trim them equally")
            case = np.stack(series, axis=1)
            check_not_empty(len(case), where, "case")
            check_finite(case, where)
            cases.append(case)
            labels.append(label.strip())
    if not in_data:
        raise DataError(f"{path}: no '@data' line; this is not a .ts file (see timeseriesclassification.com)")
    if not cases:
        raise DataError(f"{path}: no cases after '@data'. The file is truncated or empty.")
    unknown = sorted(set(labels) - set(declared)) if declared else []
    if unknown:
        raise DataError(f"{path}: labels {unknown} are not declared in its @classLabel line {declared}")
    return cases, labels, declared or sorted(set(labels))
