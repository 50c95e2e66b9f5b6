"""A piano-roll model's preprocessing: which MIDI keys the roll's columns are and how long a frame lasts."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from rnnzoo.tasks.base import Preprocessing, PreprocessingError


@dataclasses.dataclass
class KeyRange(Preprocessing):
    """Column ``k`` of a roll is MIDI note ``lowest_midi + k``; a frame lasts ``step_quarters`` quarter notes.
    Written by :class:`~rnnzoo.data.PianoRollDataModule` (88 keys from A0 = MIDI 21)."""

    key: ClassVar[str] = "piano_roll"

    num_keys: int = 88
    lowest_midi: int = 21
    step_quarters: float = 1.0
    transposed_to_c: bool = False
    source: str = ""
    data_sha256: str | None = None

    def encode(self, piece: Any, what: str = "piece") -> np.ndarray:
        """A piece as a float32 0/1 roll ``(T, num_keys)``: a roll array as it is (checked), or a list of frames,
        each a list of the MIDI note numbers sounding in it (``[[60, 64, 67], [], [62]]``)."""
        if isinstance(piece, np.ndarray) or hasattr(piece, "detach"):
            roll = np.asarray(piece.detach().cpu() if hasattr(piece, "detach") else piece, dtype=np.float32)
            if roll.ndim != 2 or roll.shape[1] != self.num_keys:
                raise PreprocessingError(f"{what}: a roll must be (frames, {self.num_keys}), got shape {roll.shape}; "
                                         f"or pass a list of frames of MIDI note numbers")
            if not np.isin(roll, (0.0, 1.0)).all():
                raise PreprocessingError(f"{what}: a roll holds 0 (off) and 1 (on) only; threshold it first")
        else:
            roll = self.frames_to_roll(piece, what)
        if len(roll) == 0:
            raise PreprocessingError(f"{what} has no frames; give at least one")
        return roll

    def frames_to_roll(self, frames: Sequence[Sequence[int]], what: str = "piece") -> np.ndarray:
        """MIDI note numbers per frame -> a ``(T, num_keys)`` roll; notes outside the keyboard are an error."""
        roll = np.zeros((len(frames), self.num_keys), dtype=np.float32)
        highest = self.lowest_midi + self.num_keys - 1
        for t, notes in enumerate(frames):
            for note in notes:
                if not (isinstance(note, (int, np.integer)) and self.lowest_midi <= note <= highest):
                    raise PreprocessingError(f"{what}, frame {t}: {note!r} is not a MIDI note number in "
                                             f"{self.lowest_midi}..{highest} (the model's keyboard)")
                roll[t, note - self.lowest_midi] = 1.0
        return roll

    def decode(self, roll: np.ndarray) -> list[list[int]]:
        """A roll ``(T, num_keys)`` -> the MIDI note numbers sounding in each frame."""
        return [[int(k) + self.lowest_midi for k in np.flatnonzero(frame > 0.5)] for frame in np.asarray(roll)]

    def to_midi(self, roll: np.ndarray, path: str | os.PathLike) -> str:
        """Write a roll as a MIDI file through music21 (a key held over consecutive frames is one note)."""
        from music21 import note, stream

        part = stream.Stream()
        roll = np.asarray(roll) > 0.5
        for key in range(self.num_keys):
            on = np.flatnonzero(np.diff(np.concatenate([[0], roll[:, key].astype(int), [0]])))
            for start, stop in zip(on[::2], on[1::2]):  # runs of frames where the key is held
                part.insert(float(start) * self.step_quarters,
                            note.Note(midi=self.lowest_midi + key, quarterLength=float(stop - start) * self.step_quarters))
        part.write("midi", fp=str(path))
        return str(path)
