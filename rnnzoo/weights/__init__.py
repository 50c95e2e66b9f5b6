"""Pretrained weights shipped inside the package, loaded with no network.

Each entry is a folder ``rnnzoo/weights/{architecture}.{tag}/`` in the Hugging Face layout (config.json,
model.safetensors, README.md) plus a :class:`rnnzoo.registry.PretrainedInfo` in :data:`BUNDLED` with the run's
measured metrics and the sha256 of its model.safetensors. Empty until the training issues produce weights.
"""

from __future__ import annotations

from pathlib import Path

from rnnzoo.registry import PretrainedInfo

WEIGHTS_DIR = Path(__file__).resolve().parent

# One PretrainedInfo per bundled folder, source="bundled:{folder name}". Only weights from a real, reproducible
# training run belong here: never untrained weights, never metrics not measured by that run.
BUNDLED: tuple[PretrainedInfo, ...] = ()


def bundled_folder(source: str) -> Path:
    """``"bundled:NAME"`` -> the folder ``rnnzoo/weights/NAME``."""
    return WEIGHTS_DIR / source.removeprefix("bundled:")
