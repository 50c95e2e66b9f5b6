"""UEA JapaneseVowels, vendored in ``rnnzoo/data/builtin/japanese_vowels/`` (see the README there for its
source, licence and citation): 9 speakers, 12 LPC cepstrum coefficients per frame, 7..29 frames, 270 train and
370 test utterances of /ae/. The task: tell the speaker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnzoo.data.speech.ts_format import read_ts

FOLDER = Path(__file__).resolve().parent.parent / "builtin" / "japanese_vowels"


def load_japanese_vowels() -> dict[str, tuple[list[np.ndarray], list[int]]]:
    """``{"train" | "test": (cases (T_i, 12) float32, labels 0..8)}`` (the official split)."""
    out = {}
    for split, name in (("train", "JapaneseVowels_TRAIN.ts"), ("test", "JapaneseVowels_TEST.ts")):
        cases, labels, classes = read_ts(FOLDER / name)
        out[split] = (cases, [classes.index(label) for label in labels])
    return out
