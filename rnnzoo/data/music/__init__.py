"""Polyphonic music: piano rolls from the music21 Bach chorales or Boulanger-Lewandowski's pickles."""

from rnnzoo.data.music.boulanger_pickle import read_boulanger_pickle
from rnnzoo.data.music.piano_roll import PianoRollDataModule

__all__ = ["PianoRollDataModule", "read_boulanger_pickle"]
