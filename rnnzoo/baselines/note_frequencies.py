"""A piano-roll model's baseline from a comparison, as a model: every key on or off independently at its
training frequency (:mod:`rnnzoo.tasks.piano_roll.baselines`), reading pieces through the networks' key range."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.baselines.arrays import FittedBaseline


class NoteFrequencies(FittedBaseline):
    """``arrays["p"]``: each key's probability of sounding in a frame (Jeffreys-smoothed training frequency)."""

    task = "piano_roll"

    @classmethod
    def expected_keys(cls, method: str) -> set[str]:
        return {"p"}

    def _keys(self):
        from rnnzoo.tasks.piano_roll.preprocessing import KeyRange

        if self.preprocessing:
            return KeyRange.from_config(self.preprocessing, task=self.task)
        return KeyRange(num_keys=len(self.arrays["p"]))

    def nll(self, pieces: Any) -> float:
        """Negative log-likelihood in nats per frame of raw pieces (rolls ``(T, keys)`` or frames of MIDI note
        numbers), as the networks' ``nll``: summed over keys, averaged over every frame of every piece."""
        from rnnzoo.tasks.base import PreprocessingError
        from rnnzoo.tasks.piano_roll.model import _as_pieces

        items = _as_pieces(pieces)
        if not items:
            raise PreprocessingError("no pieces given: pass a roll (T, keys), frames of MIDI notes, or a list")
        keys = self._keys()
        p = self.arrays["p"].astype(np.float64)
        on, off = -np.log(p), -np.log1p(-p)
        rolls = [keys.encode(piece, f"pieces[{i}]").astype(np.float64) for i, piece in enumerate(items)]
        total = sum(float((r @ on + (1 - r) @ off).sum()) for r in rolls)
        return total / sum(len(r) for r in rolls)

    def sample(self, steps: int, seed: int | None = None) -> np.ndarray:
        """``steps`` frames, every key an independent draw at its frequency: ``(steps, keys)`` of 0/1."""
        rng = np.random.default_rng(seed)
        return (rng.random((steps, len(self.arrays["p"]))) < self.arrays["p"]).astype(np.float32)

    def predict_from_files(self, inputs: list[str], options: Any) -> str | None:
        """``.npy`` rolls: their NLL per frame; no input: ``--steps`` sampled frames, one line of note numbers
        each (MIDI files are written by the networks only)."""
        from rnnzoo.tasks.base import PreprocessingError
        from rnnzoo.tasks.raw_input import load_array, write_or_return

        if inputs:
            return write_or_return(f"nll per frame {self.nll([load_array(p) for p in inputs]):.4f}", options.out)
        if options.out and options.out.lower().endswith((".mid", ".midi")):
            raise PreprocessingError(f"--out {options.out}: the saved {self.method} baseline does not write MIDI; "
                                     f"write its frames to a text file, or sample a network")
        frames = self._keys().decode(self.sample(options.steps, options.seed))
        return write_or_return("\n".join(" ".join(map(str, f)) or "-" for f in frames), options.out)
