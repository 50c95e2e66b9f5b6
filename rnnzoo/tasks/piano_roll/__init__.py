"""Polyphonic music: next-frame prediction on piano rolls; scoring, sampling and MIDI."""

from rnnzoo.tasks.piano_roll.model import PianoRollModel
from rnnzoo.tasks.piano_roll.objective import PianoRollObjective
from rnnzoo.tasks.piano_roll.preprocessing import KeyRange

__all__ = ["KeyRange", "PianoRollModel", "PianoRollObjective"]
