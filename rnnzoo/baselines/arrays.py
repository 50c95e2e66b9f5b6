"""A saved baseline's numbers: one safetensors file (never pickle), read back with exactly the keys expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

ARRAYS_FILE = "baseline.safetensors"


def save_arrays(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``folder/baseline.safetensors``."""
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(Path(folder) / ARRAYS_FILE))


def load_arrays(folder: Path, expected: set[str]) -> dict[str, np.ndarray]:
    """The arrays of ``folder/baseline.safetensors``; refused unless its keys are exactly ``expected``."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from rnnzoo.baselines.errors import BaselineError

    path = Path(folder) / ARRAYS_FILE
    try:
        arrays = load_file(str(path))
    except (FileNotFoundError, SafetensorError, OSError) as err:
        raise BaselineError(f"{path} cannot be read ({type(err).__name__}: {err}); run the comparison again to "
                            f"write it") from None
    if set(arrays) != expected:
        raise BaselineError(f"{path} holds {sorted(arrays)}, expected {sorted(expected)}: it was written by "
                            f"another baseline or changed; run the comparison again")
    return arrays


@dataclass
class FittedBaseline:
    """A baseline whose fitted numbers are saved (``arrays``), reading input through the networks' preprocessing
    (``preprocessing``: its config); ``method`` is its name in the comparison."""

    method: str
    preprocessing: dict[str, Any]
    arrays: dict[str, np.ndarray]
    task: ClassVar[str] = ""

    @classmethod
    def expected_keys(cls, method: str) -> set[str]:
        """The arrays a saved ``method`` holds."""
        raise NotImplementedError

    @classmethod
    def from_folder(cls, folder: Path, spec: dict[str, Any]) -> "FittedBaseline":
        """From a baseline folder and its baseline.json's contents (the arrays' keys checked)."""
        return cls(spec["method"], spec["preprocessing"], load_arrays(folder, cls.expected_keys(spec["method"])))
