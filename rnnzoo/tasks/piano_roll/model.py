"""Polyphonic music: predict the next piano-roll frame as independent Bernoulli outputs (Boulanger-Lewandowski
et al. 2012; the music task of Chung et al. 2014)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnzoo.tasks.base import PreprocessingError, TaskModel
from rnnzoo.tasks.layers import build_layer
from rnnzoo.tasks.piano_roll.objective import PianoRollObjective
from rnnzoo.tasks.piano_roll.preprocessing import KeyRange
from rnnzoo.tasks.raw_input import load_array, pad, whole_number, write_or_return


class PianoRollModel(TaskModel):
    """Recurrent layer + a linear read-out to one logit per pitch.

    The logit at step t predicts frame t + 1: train with ``binary_cross_entropy_with_logits(logits[:, :-1],
    roll[:, 1:])``, masked by ``lengths``.

    On raw music: :meth:`nll` scores pieces (the card's metric), :meth:`sample` draws new ones and
    :meth:`to_midi` writes them, with the keyboard the model carries (``model.preprocessing``, a
    :class:`KeyRange`).

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        hidden_size, num_layers, dropout: of the recurrent layer; ``dropout`` acts between stacked layers and on
            the layer's output before the head (Zaremba et al. 2014's non-recurrent connections), in training only.
        num_pitches: frame width, 88 piano keys by default (input and output).
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
    """

    task = "piano_roll"
    objective_class = PianoRollObjective
    preprocessing_class = KeyRange
    card_tags = ("music-generation", "Next-frame piano-roll prediction")
    predict_input_example = "piece.npy"
    saved_baseline_kind = "note-frequencies"
    input_kind = "roll"
    card_usage = "roll = model.sample(64, seed=0, midi_path=\"sample.mid\")  # or model.nll(pieces)"

    @staticmethod
    def baselines(datamodule: Any) -> dict[str, dict[str, Any]]:
        """Independent note frequencies on the same pieces (``rnnzoo compare``'s verdict)."""
        from rnnzoo.tasks.piano_roll.baselines import piano_roll_baselines

        return piano_roll_baselines(datamodule)

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 36,
        num_layers: int = 1,
        dropout: float = 0.0,
        num_pitches: int = 88,
        cell_options: dict[str, Any] | None = None,
    ):
        super().__init__()
        self._store_config(
            cell=cell, hidden_size=hidden_size, num_layers=num_layers, dropout=dropout,
            num_pitches=num_pitches, cell_options=cell_options,
        )
        self.rnn = build_layer(cell, num_pitches, hidden_size, num_layers, dropout, cell_options=cell_options)
        self.drop = nn.Dropout(dropout)  # no parameters: state dicts and the bundled weights are unchanged
        self.head = nn.Linear(hidden_size, num_pitches)

    def forward(self, roll: Tensor, *, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """``roll`` (B, T, num_pitches) of 0/1 -> next-frame logits (B, T, num_pitches).

        Past a sequence's length the layer's output is zero, so the logits there are the head's bias: mask them
        out of the loss.
        """
        output, _ = self.rnn(roll, lengths=lengths)
        return self.head(self.drop(output))

    def synthetic_input(self, steps, generator):
        """Block chords of three or four keys in the middle register, changing every four steps."""
        keys = self.config.get("num_pitches", 88)
        roll = torch.zeros(steps, keys)
        for start in range(0, steps, 4):
            low = int(torch.randint(max(keys // 2 - 12, 0), max(keys // 2 + 6, 1), (1,), generator=generator))
            chord = [low, low + 4, low + 7] + ([low + 12] if torch.rand(1, generator=generator) < 0.5 else [])
            roll[start:start + 4, [k % keys for k in chord]] = 1.0
        return roll.unsqueeze(0)

    def _keys(self) -> KeyRange:
        return self.preprocessing or KeyRange(num_keys=self.config["num_pitches"])

    def nll(self, pieces: Any) -> float:
        """Negative log-likelihood in nats per frame of raw pieces (the card's metric): every frame of every
        piece predicted from the frames before it (the first from silence), summed over keys, averaged over all
        frames. ``pieces``: one or a list of rolls ``(T, keys)`` or lists of frames of MIDI note numbers."""
        keys = self._keys()
        items = _as_pieces(pieces)
        if not items:
            raise PreprocessingError("no pieces given: pass a roll (T, keys), frames of MIDI notes, or a list")
        rolls = [keys.encode(p, f"pieces[{i}]") for i, p in enumerate(items)]
        padded, lengths = pad(rolls)
        with self.inference() as weight:
            roll = torch.from_numpy(padded).to(device=weight.device, dtype=weight.dtype)  # (B, T, K)
            lengths_t = torch.from_numpy(lengths)
            logits = self(torch.cat([torch.zeros_like(roll[:, :1]), roll[:, :-1]], 1), lengths=lengths_t)
            per_frame = F.binary_cross_entropy_with_logits(logits.float(), roll.float(), reduction="none").sum(-1)
            mask = torch.arange(roll.shape[1]).unsqueeze(0) < lengths_t.unsqueeze(1)  # (B, T)
            return float((per_frame.cpu() * mask).sum().double() / mask.sum())

    def sample(self, steps: int, seed: int | None = None, *, temperature: float = 1.0,
               midi_path: str | os.PathLike | None = None) -> np.ndarray:
        """Draw a new piece of ``steps`` frames: each frame's keys are independent Bernoulli draws from the
        model's probabilities given the frames before (the first after silence), fed back as input.

        ``temperature`` divides the logits (lower: fewer, surer notes); ``seed`` makes it repeatable;
        ``midi_path`` also writes it as a MIDI file (:meth:`to_midi`). Returns the 0/1 roll ``(steps, keys)``.
        """
        steps = whole_number(steps, "steps", 1)
        if not temperature > 0:
            raise PreprocessingError(f"temperature must be > 0, got {temperature}")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        frames = []
        with self.inference() as weight:
            frame = torch.zeros(1, 1, self.config["num_pitches"], device=weight.device, dtype=weight.dtype)
            state = None
            for _ in range(steps):
                output, state = self.rnn(frame, state)  # (1, 1, H)
                probs = torch.sigmoid(self.head(output)[0, 0].float().cpu() / temperature)  # (K,)
                drawn = torch.bernoulli(probs, generator=generator)
                frames.append(drawn.numpy())
                frame = drawn.view(1, 1, -1).to(device=weight.device, dtype=weight.dtype)
        roll = np.stack(frames).astype(np.float32)
        if midi_path is not None:
            self.to_midi(roll, midi_path)
        return roll

    def to_midi(self, roll: np.ndarray, path: str | os.PathLike) -> str:
        """Write a roll ``(T, keys)`` as a MIDI file (music21), with the model's keyboard and frame length."""
        return self._keys().to_midi(roll, path)

    def predict_from_files(self, inputs, options):
        """No input: sample ``--steps`` frames (``--out x.mid`` writes MIDI, else one frame of note numbers per
        line); .npy rolls: their NLL per frame."""
        if inputs:
            return write_or_return(f"nll per frame {self.nll([load_array(p) for p in inputs]):.4f}", options.out)
        out = options.out if options.out and options.out.lower().endswith((".mid", ".midi")) else None
        roll = self.sample(options.steps, options.seed, midi_path=out)
        if out:
            return f"wrote {options.steps} frames to {out}"
        frames = self._keys().decode(roll)
        return write_or_return("\n".join(" ".join(map(str, f)) or "-" for f in frames), options.out)


def _as_pieces(pieces: Any) -> list[Any]:
    """One piece (a roll ``(T, K)``, or frames of note numbers) -> ``[it]``; a batch of them -> a list."""
    if isinstance(pieces, np.ndarray) or torch.is_tensor(pieces):
        return [pieces] if pieces.ndim == 2 else list(pieces)
    if isinstance(pieces, (list, tuple)) and pieces and all(
            isinstance(frame, (list, tuple)) and all(np.isscalar(n) for n in frame) for frame in pieces):
        return [pieces]  # frames of MIDI note numbers: one piece
    return list(pieces)
