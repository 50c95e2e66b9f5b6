"""Pretrained weights shipped inside the package, loaded with no network.

Each entry is a folder ``rnnzoo/weights/{architecture}.{tag}/`` in the Hugging Face layout (config.json,
model.safetensors, README.md) whose config.json holds a ``pretrained`` block (a
:class:`~rnnzoo.pretrained.PretrainedInfo`: the run's measured metrics, the sha256 of its model.safetensors ...).
``index.json`` repeats those blocks so that ``import rnnzoo`` and ``rnnzoo list`` read one small file instead of
every config.json (the word models' hold 10,000-word vocabularies); :func:`write_index` rebuilds it and a test
checks that it agrees with the folders.
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnzoo.pretrained import PretrainedInfo

WEIGHTS_DIR = Path(__file__).resolve().parent
INDEX_NAME = "index.json"


def read_config_blocks(weights_dir: Path = WEIGHTS_DIR) -> dict[str, dict]:
    """``{entry name: pretrained block}`` read from every bundled folder's config.json (the source of truth)."""
    blocks = {}
    for config in sorted(weights_dir.glob("*/config.json")):
        pretrained = json.loads(config.read_text()).get("pretrained")
        if pretrained:
            blocks[f"{pretrained['architecture']}.{pretrained['tag']}"] = pretrained
    return blocks


def write_index(weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Rebuild ``index.json`` from the folders (scripts/bundle_weights.py calls it after writing an entry)."""
    path = weights_dir / INDEX_NAME
    path.write_text(json.dumps(read_config_blocks(weights_dir), indent=1, sort_keys=True) + "\n")
    return path


def _read_bundled() -> tuple[PretrainedInfo, ...]:
    index = WEIGHTS_DIR / INDEX_NAME
    blocks = json.loads(index.read_text()) if index.is_file() else read_config_blocks()
    return tuple(PretrainedInfo(**block) for _, block in sorted(blocks.items()))


BUNDLED: tuple[PretrainedInfo, ...] = _read_bundled()


def bundled_folder(source: str) -> Path:
    """``"bundled:NAME"`` -> the folder ``rnnzoo/weights/NAME``."""
    return WEIGHTS_DIR / source.removeprefix("bundled:")
