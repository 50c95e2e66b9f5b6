"""Tokenisation and a vocabulary built on the training text only, with ``<unk>`` for everything else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

UNK, EOS = "<unk>", "<eos>"


def tokenize(text: str, level: str) -> list[str]:
    """``"word"``: whitespace-separated words with ``<eos>`` closing each non-empty line (Mikolov's PTB set-up);
    ``"char"``: every character, newlines included."""
    if level == "char":
        return list(text)
    if level != "word":
        raise ValueError(f"level must be 'word' or 'char', got {level!r}")
    tokens: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if words:
            tokens += words + [EOS]
    return tokens


class Vocabulary:
    """Token <-> id. Id 0 is ``<unk>``; then tokens by falling training frequency (ties alphabetical), so the same
    training text always gives the same ids. ``max_size`` and ``min_freq`` send rare tokens to ``<unk>``."""

    def __init__(self, tokens: Sequence[str]):
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if self.itos[:1] != [UNK]:
            raise ValueError("a vocabulary's first token must be <unk>")

    @classmethod
    def build(cls, tokens: Iterable[str], min_freq: int = 1, max_size: int | None = None) -> "Vocabulary":
        counts = Counter(tokens)
        counts.pop(UNK, None)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls([UNK, *ranked[: None if max_size is None else max_size - 1]])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.stoi.get(t, 0) for t in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]
