"""Reader for Boulanger-Lewandowski et al.'s (2012) piano-roll pickles (``JSB Chorales.pickle``, ``Nottingham.pickle``,
``MuseData.pickle``, ``Piano-midi.de.pickle``).

Their format: a dict ``{"train": pieces, "valid": pieces, "test": pieces}``, a piece a list of frames, a frame a
list (or tuple) of the MIDI numbers sounding (21..108). Pickles can run arbitrary code when loaded, so this reads
one with a *restricted* unpickler that refuses every global (class or function) reference: only plain dicts,
lists, tuples, ints, floats and strings can come out of it. Only read files you trust anyway.
"""

from __future__ import annotations

import io
import os
import pickle

import numpy as np

from rnnzoo.data.checks import check_file, check_not_empty
from rnnzoo.data.errors import DataError
from rnnzoo.data.music.jsb_music21 import LOWEST_MIDI, NUM_KEYS

SPLITS = {"train": "train", "valid": "val", "test": "test"}


class _PlainDataUnpickler(pickle.Unpickler):
    """Builds only the pickle protocol's own types; any ``find_class`` (the way code gets in) is refused."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only plain lists/dicts/numbers are allowed")


def frames_to_roll(piece, where: str) -> np.ndarray:
    """A list of frames of MIDI numbers -> ``(T, 88)`` uint8 roll."""
    check_not_empty(len(piece), where, "piece")
    roll = np.zeros((len(piece), NUM_KEYS), dtype=np.uint8)
    for t, frame in enumerate(piece):
        for note in frame:
            if isinstance(note, float) and not np.isfinite(note):
                raise DataError(f"{where}, frame {t}: NaN/inf note number. The file is corrupt; re-download it.")
            key = int(note) - LOWEST_MIDI
            if not 0 <= key < NUM_KEYS:
                raise DataError(f"{where}, frame {t}: MIDI note {note} lies outside 21..108 (the 88 piano keys)")
            roll[t, key] = 1
    return roll


def read_boulanger_pickle(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Read a B-L pickle -> ``{"train" | "val" | "test": [roll (T, 88) uint8, ...]}`` (their split, as is)."""
    path = check_file(path, "a Boulanger-Lewandowski piano-roll pickle (e.g. 'JSB Chorales.pickle')")
    try:
        # latin1: the original files are Python 2 pickles.
        data = _PlainDataUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as err:
        raise DataError(
            f"{path}: not a readable Boulanger-Lewandowski pickle ({err}). Pass the original file from "
            "http://www-etud.iro.umontreal.ca/~boulanni/icml2012 (a dict of train/valid/test lists of frames)."
        ) from err
    if not isinstance(data, dict) or not set(SPLITS) <= set(data):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path}: expected a dict with keys 'train', 'valid', 'test'; found {found}.")
    return {ours: [frames_to_roll(p, f"{path} [{theirs}][{i}]") for i, p in enumerate(data[theirs])]
            for theirs, ours in SPLITS.items()}
