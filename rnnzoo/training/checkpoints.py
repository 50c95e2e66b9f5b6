"""Checks on Lightning checkpoint files before they are read."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path


def check_checkpoint_file(path: str | os.PathLike) -> Path:
    """The path, if it is a checkpoint torch can open; else an error that says the file is corrupt or truncated.

    ``torch.save`` writes a zip archive whose directory sits at its end, so a truncated or overwritten file is
    not a zip any more: caught here, instead of torch's unpickling error and its advice to retry with
    ``weights_only=False``, which is wrong (and unsafe) for a damaged file.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a readable checkpoint (corrupt, truncated or not written by torch.save); "
                         f"use another checkpoint, e.g. the run folder's last.ckpt or best-*.ckpt")
    return path
