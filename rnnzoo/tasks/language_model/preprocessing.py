"""A language model's preprocessing: tokenisation and a vocabulary built on the training text only, with
``<unk>`` for everything else (:class:`Vocabulary`), and the typed form a model carries (:class:`TextVocabulary`)."""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from typing import ClassVar

import numpy as np

from rnnzoo.tasks.base import Preprocessing, PreprocessingError

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


_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d+)?|\.\d+)(st|nd|rd|th|s)?$")
_CLITICS = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'m|'d)$")
_PUNCTUATION = ".,;:!?()[]{}\"`"


def normalize_ptb(text: str, known: Container[str] = ()) -> str:
    """Raw English text written the way Mikolov's Penn Treebank text is: lower case, numbers as ``N``, clitics
    split off (``company's`` -> ``company 's``, ``don't`` -> ``do n't``), ``$``/``%`` apart, and the punctuation
    PTB removed dropped, except where the word with it is ``known`` (abbreviations such as ``mr.`` and ``u.s.``
    keep their period, as PTB's do). Lines stay lines."""
    lines = []
    for line in text.splitlines():
        words = []
        for raw in line.split():
            if raw == "N" or raw in known or raw.lower() in known:  # already PTB's (N, <unk>, mr., us$)
                words.append(raw if raw == "N" or raw in known else raw.lower())
                continue
            for part in raw.lower().replace("%", " % ").replace("$", " $ ").split():
                word = part if part in known else part.strip(_PUNCTUATION)
                if not word:
                    continue
                clitic = _CLITICS.match(word)
                pieces = [clitic.group(1), clitic.group(2)] if clitic else [word]
                words += ["N" if _NUMBER.match(piece) else piece for piece in pieces]
        lines.append(" ".join(words))
    return "\n".join(lines)


#: how a raw text is rewritten before tokenising, by the ``normalize`` name a vocabulary records
NORMALIZERS = {"ptb": normalize_ptb}


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


@dataclasses.dataclass
class TextVocabulary(Preprocessing):
    """What a language model needs to read and write text: the tokenisation level and the training vocabulary
    (``vocab[i]`` is token id ``i``; id 0 is ``<unk>``). Written by :class:`~rnnzoo.data.TextDataModule`."""

    key: ClassVar[str] = "text"

    level: str
    vocab: list[str]
    unk: str = UNK
    eos: str | None = None
    source: str = ""
    normalize: str | None = None  # a NORMALIZERS name; None: the text is read as it is (PTB's files imply "ptb")

    def __post_init__(self) -> None:
        if self.level not in ("word", "char"):
            raise PreprocessingError(f"preprocessing['text']['level'] must be 'word' or 'char', got {self.level!r}")
        if self.normalize is None and self.source == "ptb" and self.level == "word":
            self.normalize = "ptb"  # written before the field existed: the training text was PTB's normalised one
        if self.normalize is not None and self.normalize not in NORMALIZERS:
            raise PreprocessingError(f"preprocessing['text']['normalize'] is {self.normalize!r}; known: "
                                     f"{sorted(NORMALIZERS)} (or null)")
        self._vocabulary = Vocabulary(self.vocab)

    def tokens(self, text: str) -> list[str]:
        """``text`` rewritten as the training text was (:attr:`normalize`) and tokenised as in training."""
        if self.normalize:
            text = NORMALIZERS[self.normalize](text, self._vocabulary.stoi)
        return tokenize(text, self.level)

    def unknown_rate(self, text: str) -> tuple[int, int]:
        """(tokens of ``text`` outside the vocabulary, all tokens), after normalising as in training."""
        tokens = self.tokens(text)
        return sum(t not in self._vocabulary.stoi for t in tokens), len(tokens)

    def encode(self, text: str, what: str = "text") -> np.ndarray:
        """Token ids of ``text`` (tokenised as in training); unknown tokens become ``<unk>``, with one warning
        per call that counts them and shows a few."""
        if not isinstance(text, str):
            raise PreprocessingError(f"{what} must be a str, got {type(text).__name__}")
        tokens = self.tokens(text)
        if not tokens:
            raise PreprocessingError(f"{what} is empty (no {self.level}s in it); give at least one {self.level}")
        unknown = [t for t in tokens if t not in self._vocabulary.stoi]
        if unknown:
            shown = ", ".join(repr(t) for t in list(dict.fromkeys(unknown))[:5])
            warnings.warn(f"{len(unknown)} of {len(tokens)} {self.level} tokens of the {what} are not in the model's "
                          f"{len(self.vocab)}-token vocabulary and read as {self.unk} ({shown}{', ...' if len(set(unknown)) > 5 else ''})",
                          stacklevel=3)
        return self._vocabulary.encode(tokens)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of token ids: words joined by spaces with ``<eos>`` as a line break, characters as they are."""
        tokens = self._vocabulary.decode(ids)
        if self.level == "char":
            return "".join(tokens)
        pieces: list[str] = []
        for token in tokens:
            if token == EOS:
                pieces.append("\n")
                continue
            if pieces and pieces[-1] != "\n":
                pieces.append(" ")
            pieces.append(token)
        return "".join(pieces)
