"""Pretrained weights shipped inside the package, loaded with no network.

Each entry is a folder ``rnnzoo/weights/{architecture}.{tag}/`` in the Hugging Face layout (config.json,
model.safetensors, README.md) plus a :class:`rnnzoo.registry.PretrainedInfo` in :data:`BUNDLED` with the run's
measured metrics and the sha256 of its model.safetensors.
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnzoo.registry import PretrainedInfo

WEIGHTS_DIR = Path(__file__).resolve().parent



def _read_bundled() -> tuple[PretrainedInfo, ...]:
    """One PretrainedInfo per bundled folder, read from the ``pretrained`` block of its config.json.

    scripts/bundle_weights.py writes that block from an `rnnzoo compare` run's results.json: only weights from a
    real, reproducible training run are here, with the metrics that run measured.
    """
    infos = []
    for config in sorted(WEIGHTS_DIR.glob("*/config.json")):
        pretrained = json.loads(config.read_text()).get("pretrained")
        if pretrained:
            infos.append(PretrainedInfo(**pretrained))
    return tuple(infos)


BUNDLED: tuple[PretrainedInfo, ...] = _read_bundled()


def bundled_folder(source: str) -> Path:
    """``"bundled:NAME"`` -> the folder ``rnnzoo/weights/NAME``."""
    return WEIGHTS_DIR / source.removeprefix("bundled:")
