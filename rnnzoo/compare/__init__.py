"""``rnnzoo compare``: the four cells at one parameter budget, several seeds, one table and one figure."""

from rnnzoo.compare.compare import compare
from rnnzoo.compare.models import CellModel, resolve_models
from rnnzoo.compare.presets import PRESETS, DataPreset, get_preset

__all__ = ["PRESETS", "CellModel", "DataPreset", "compare", "get_preset", "resolve_models"]
