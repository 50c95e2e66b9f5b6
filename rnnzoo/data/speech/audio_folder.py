"""A folder of labelled recordings: ``root/<label>/*.wav``, one subfolder per class."""

from __future__ import annotations

import os
from pathlib import Path

from rnnzoo.data.errors import DataError


def _wavs(folder: Path) -> list[Path]:
    """The .wav files of a folder, any case of the suffix (.wav, .WAV), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".wav")


def label_folders(root: Path) -> list[Path]:
    """The subfolders of ``root`` that hold .wav files (the labels), sorted by name."""
    return sorted(d for d in root.iterdir() if d.is_dir() and _wavs(d))


def stray_files(root: str | os.PathLike) -> list[str]:
    """Files of a recordings folder that are not read: anything but .wav in the root and the label folders
    (a README, a labels.csv, .DS_Store), relative to ``root``. They are left out, not an error: saying so lets a
    user see that a file they meant as data was not read."""
    root = Path(root).expanduser()
    folders = [root, *label_folders(root)]
    return [str(p.relative_to(root)) for folder in folders for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() != ".wav"]


def list_audio_folder(root: str | os.PathLike) -> tuple[list[Path], list[int], list[str]]:
    """Files, label indices and class names (sorted subfolder names) of ``root/<label>/*.wav``."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such folder. Pass a folder with one subfolder of .wav files per label.")
    loose = [p.name for p in _wavs(root)]
    if loose:
        raise DataError(
            f"{root}: .wav files directly in the root ({loose[:3]}...) have no label. Move each into a subfolder "
            f"named after its label, e.g. {root}/yes/{loose[0]}."
        )
    classes = [d.name for d in label_folders(root)]
    if len(classes) < 2:
        raise DataError(
            f"{root}: found {len(classes)} label folder(s) with .wav files; a classifier needs at least 2. "
            "Lay the data out as root/<label>/<recording>.wav."
        )
    files, labels = [], []
    for index, name in enumerate(classes):
        for path in _wavs(root / name):
            files.append(path)
            labels.append(index)
    return files, labels, classes
