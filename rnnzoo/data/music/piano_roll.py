"""``PianoRollDataModule``: polyphonic music as 88-key binary piano rolls, for next-frame prediction."""

from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np
import torch

from rnnzoo.data.base import SequenceDataModule
from rnnzoo.data.batching import PadCollate, SequenceDataset
from rnnzoo.data.cache import load_or_build, pack_ragged, unpack_ragged
from rnnzoo.data.errors import DataError
from rnnzoo.data.music.boulanger_pickle import read_boulanger_pickle
from rnnzoo.data.music.jsb_music21 import NUM_KEYS, chorale_names, parse_chorale
from rnnzoo.data.progress import progress
from rnnzoo.data.splits import seeded_split

# B-L's JSB split (229 / 76 / 77 of 382 chorales); we keep its proportions, not its membership.
JSB_PROPORTIONS = (229, 76, 77)
SPLIT_NAMES = ("train", "val", "test")


def build_music21_chorales(step: float = 1.0, transpose: bool = True, limit: int | None = None,
                           seed: int = 0, show_progress: bool | None = None):
    """Parse the corpus chorales, drop exact duplicates (same roll), split seeded in JSB proportions.

    Returns ``(arrays, meta)`` for the cache: all rolls packed, a split id per piece, names in ``meta``.
    ``limit`` parses only the first ``limit`` chorales by name (for quick tests; results on it mean little).
    """
    names = chorale_names()[:limit]
    rolls, kept, seen, duplicates = [], [], {}, []
    for name in progress(names, "parsing Bach chorales (music21)", enabled=show_progress):
        roll, info = parse_chorale(name, step, transpose)
        digest = hashlib.sha256(roll.tobytes() + str(roll.shape).encode()).hexdigest()
        if digest in seen:  # the corpus holds some chorales twice under different BWV numbers
            duplicates.append([name, seen[digest]])
            continue
        seen[digest] = name
        rolls.append(roll)
        kept.append(info)
    split_of = np.zeros(len(rolls), dtype=np.int8)
    for split_id, index in enumerate(seeded_split(len(rolls), JSB_PROPORTIONS, seed, what="distinct chorales",
                                                  where=f"music21's chorales (limit={limit})")):
        split_of[index] = split_id
    values, offsets = pack_ragged(rolls)
    meta = {"pieces": kept, "duplicates": duplicates, "parsed": len(names)}
    return {"rolls": values, "offsets": offsets, "split": split_of}, meta


class PianoRollDataModule(SequenceDataModule):
    """Polyphonic music as binary piano rolls ``(T, 88)`` (MIDI 21..108); batches ``{"roll", "lengths"}``.

    Sources:

    - ``source="jsb_music21"`` (default): J. S. Bach's chorales from the music21 corpus (shipped inside the
      music21 wheel, nothing is downloaded), transposed to C major / C minor, sampled every ``step`` quarter notes
      (1.0 = quarter notes as B-L's JSB; 0.5 = eighth notes), exact duplicates removed, then split with ``seed``
      in B-L's proportions 229/76/77. **Not** B-L's split: their 382 chorales (Allan & Williams 2005) cannot be
      rebuilt from music21's ~350, so results on this split are not comparable digit-for-digit with published
      JSB numbers; say so when you report them. Built once (about half a minute), then read from the cache.
    - ``source=PATH``: one of Boulanger-Lewandowski's original pickles (``JSB Chorales.pickle`` ...), your own
      trusted file; read with a restricted unpickler that builds only lists, dicts and numbers, and split as the
      file says (train/valid/test).

    Args:
        source: ``"jsb_music21"`` or a path to a B-L pickle.
        step: frame length in quarter notes (music21 source only).
        transpose: transpose to C major / C minor (music21 source only; B-L's pickles already are).
        limit: parse only the first ``limit`` chorales (tests); None: all.
        **loader_args: ``batch_size``, ``num_workers``, ``pin_memory``, ``bucket_by_length``, ``seed``,
            ``cache_dir``, ``progress`` (see :class:`~rnnzoo.data.base.SequenceDataModule`).
    """

    def __init__(self, source: str | os.PathLike = "jsb_music21", step: float = 1.0, transpose: bool = True,
                 limit: int | None = None, **loader_args):
        super().__init__(**loader_args)
        self.source, self.step, self.transpose, self.limit = source, step, transpose, limit
        self.collate = PadCollate(("roll",))
        self.preprocessing = {"piano_roll": {"num_keys": NUM_KEYS, "lowest_midi": 21, "step_quarters": step,
                                             "transposed_to_c": transpose, "source": str(source)}}

    def _rolls_by_split(self) -> dict[str, list[np.ndarray]]:
        if str(self.source) != "jsb_music21":
            return read_boulanger_pickle(self.source)
        import music21

        recipe = {"source": "jsb_music21", "music21": music21.__version__, "step": self.step,
                  "transpose": self.transpose, "limit": self.limit, "seed": self.seed,
                  "proportions": JSB_PROPORTIONS}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # music21 warns about the corpus's spelling; not the user's concern
            arrays, meta = load_or_build(
                "jsb_music21", recipe,
                lambda: build_music21_chorales(self.step, self.transpose, self.limit, self.seed, self.progress),
                self.cache_dir)
        self.info = {k: meta[k] for k in ("content_sha256", "cache_path", "from_cache", "duplicates", "parsed")}
        self.names = [p["name"] for p in meta["pieces"]]
        rolls = unpack_ragged(arrays["rolls"], arrays["offsets"])
        return {name: [r for r, s in zip(rolls, arrays["split"]) if s == i] for i, name in enumerate(SPLIT_NAMES)}

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        for split, rolls in self._rolls_by_split().items():
            if not rolls:  # a B-L pickle is split as its file says (a fresh music21 build is refused by its split)
                fix = (f"Parse more chorales than limit={self.limit}." if str(self.source) == "jsb_music21" else
                       "Pass a file whose 'train', 'valid' and 'test' lists all hold pieces.")
                raise DataError(f"{self.source}: the {split} split holds no pieces; every split needs at least one "
                                f"(validation picks the best epoch and stops training early; test gives the score). "
                                f"{fix}")
            self.datasets[split] = SequenceDataset([{"roll": torch.from_numpy(r.astype(np.float32))} for r in rolls])
            self.lengths[split] = [len(r) for r in rolls]
        self.preprocessing["piano_roll"]["data_sha256"] = self.info.get("content_sha256")
