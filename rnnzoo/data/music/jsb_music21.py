"""J. S. Bach's chorales from the music21 corpus as 88-key binary piano rolls (Boulanger-Lewandowski et al. 2012).

Per chorale: parse the score, find its key (music21's Krumhansl-Schmuckler analysis), transpose by the smallest
shift (-6..+5 semitones) that puts the tonic on C (C major / C minor, as B-L did), then sample every part at
frame starts ``0, step, 2*step, ...`` quarter notes: key ``p - 21`` is on in a frame if a note of MIDI pitch ``p``
sounds at the frame's start. Notes shorter than a step that start between frame starts are not seen (sampling,
not max-pooling, so a frame holds at most one note per voice, as in B-L's JSB data).
"""

from __future__ import annotations

import math

import numpy as np

from rnnzoo.data.errors import DataError

LOWEST_MIDI, NUM_KEYS = 21, 88  # A0 .. C8


def chorale_names() -> list[str]:
    """The distinct Bach chorales of the music21 corpus, by BWV number (corpus paths such as ``bach/bwv2.6``)."""
    from music21.corpus import chorales

    return sorted(set(chorales.Iterator(numberingSystem="bwv", returnType="filename")))


def tonic_shift(score) -> tuple[int, str]:
    """Semitones that move the analysed tonic to C (in -6..+5) and the mode ("major" | "minor")."""
    key = score.analyze("key")
    shift = (-key.tonic.pitchClass) % 12
    return (shift - 12 if shift > 5 else shift), key.mode


def score_to_roll(score, step: float = 1.0, shift: int = 0, where: str = "score") -> np.ndarray:
    """Sample a music21 score into a ``(T, 88)`` uint8 piano roll, ``T = ceil(duration / step)``, with all
    pitches moved by ``shift`` semitones."""
    notes = list(score.flatten().notes)
    total = float(score.highestTime)
    num_frames = math.ceil(total / step - 1e-9)
    if num_frames <= 0 or not notes:
        raise DataError(f"{where}: no notes; it cannot be a piano roll. Leave it out of the dataset.")
    roll = np.zeros((num_frames, NUM_KEYS), dtype=np.uint8)
    for note in notes:
        start = float(note.offset)
        end = start + float(note.quarterLength)
        first, stop = math.ceil(start / step - 1e-9), math.ceil(end / step - 1e-9)  # frames t: start <= t*step < end
        for pitch in note.pitches:
            key = pitch.midi + shift - LOWEST_MIDI
            if not 0 <= key < NUM_KEYS:
                raise DataError(f"{where}: pitch {pitch.nameWithOctave} transposed by {shift} lies off the 88 keys")
            roll[first:min(stop, num_frames), key] = 1
    return roll


def parse_chorale(name: str, step: float = 1.0, transpose: bool = True) -> tuple[np.ndarray, dict]:
    """One corpus chorale -> its piano roll and ``{"name", "shift", "mode"}``."""
    from music21 import corpus

    # forceSource: parse the MusicXML itself. Otherwise music21 unpickles its own cache of parsed scores from the
    # shared temporary directory (/tmp/music21), which anyone on the machine can write to; rnnzoo caches the
    # finished rolls itself, without pickles.
    score = corpus.parse(name, forceSource=True)
    shift, mode = tonic_shift(score) if transpose else (0, "")
    return score_to_roll(score, step, shift, where=name), {"name": name, "shift": shift, "mode": mode}
