"""``rnnzoo compare``: the four cells at one parameter budget, several seeds, one table and one figure.

The names below are imported on first use, so ``rnnzoo compare --help`` (which needs only the presets) does not
load Lightning and torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from rnnzoo.compare.presets import PRESETS, DataPreset, get_preset

_LAZY = {"compare": "rnnzoo.compare.comparison", "CompareOptions": "rnnzoo.compare.options",
         "CellModel": "rnnzoo.compare.models",
         "resolve_models": "rnnzoo.compare.models"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rnnzoo.compare' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = ["PRESETS", "CellModel", "CompareOptions", "DataPreset", "compare", "get_preset", "resolve_models"]
