"""Padded batches with ``lengths`` (what rnnzoo.nn layers take), and optional length bucketing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler


class SequenceDataset(Dataset):
    """A list of samples, each a dict of tensors (e.g. ``{"roll": (T, 88)}`` or ``{"features": ..., "label": ...}``)."""

    def __init__(self, samples: Sequence[dict[str, Any]]):
        self.samples = list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.samples[index]


def pad_sequences(sequences: Sequence[Tensor], padding_value: float = 0.0) -> tuple[Tensor, Tensor]:
    """Stack ``(T_i, ...)`` tensors into ``(B, max T, ...)``, padded at the end, and their ``lengths`` (int64)."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    padded = torch.nn.utils.rnn.pad_sequence(list(sequences), batch_first=True, padding_value=padding_value)
    return padded, lengths


class PadCollate:
    """Collate dict samples: keys in ``sequence_keys`` are padded along time, everything else is stacked.

    ``lengths`` comes from the first sequence key. A class (not a closure) so DataLoader workers can pickle it.
    """

    def __init__(self, sequence_keys: Sequence[str], padding_value: float = 0.0):
        self.sequence_keys = tuple(sequence_keys)
        self.padding_value = padding_value

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Tensor]:
        batch: dict[str, Tensor] = {}
        for key in samples[0]:
            values = [s[key] for s in samples]
            if key in self.sequence_keys:
                batch[key], lengths = pad_sequences(values, self.padding_value)
                batch.setdefault("lengths", lengths)
            else:
                batch[key] = torch.stack([torch.as_tensor(v) for v in values])
        return batch


class EpochSeededSampler(Sampler[int]):
    """A random order of ``num_items`` that depends only on ``seed + epoch`` (Lightning calls :meth:`set_epoch`).

    A DataLoader's own shuffling draws from a generator whose state lives in the process, so a run resumed from a
    checkpoint would see other orders than the run it continues; this one sees the same ones. It is also the
    permutation torch's DistributedSampler draws (``randperm`` seeded with ``seed + epoch``), which Lightning uses
    for the training split under DDP: N processes with batch B see, together, this sampler's batches of N * B.
    """

    def __init__(self, num_items: int, seed: int = 0):
        self.num_items, self.seed, self.epoch = num_items, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.num_items, generator=gen).tolist())

    def __len__(self) -> int:
        return self.num_items


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of similar lengths, so little compute goes to padding.

    Shuffle, cut into chunks of ``batch_size * bucket_factor`` items, sort each chunk by length, cut it into
    batches, then shuffle the batches. Seeded: epoch e of a run uses ``seed + e`` (call :meth:`set_epoch`).
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int = 0,
                 bucket_factor: int = 50, drop_last: bool = False):
        self.lengths = list(lengths)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.bucket_factor, self.drop_last, self.epoch = bucket_factor, drop_last, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        gen = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=gen).tolist() if self.shuffle else list(range(len(self.lengths)))
        chunk = self.batch_size * self.bucket_factor
        batches = []
        for start in range(0, len(order), chunk):
            part = sorted(order[start:start + chunk], key=lambda i: self.lengths[i])
            batches += [part[i:i + self.batch_size] for i in range(0, len(part), self.batch_size)]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        self.epoch_batches = self._batches()
        self.epoch += 1  # without set_epoch, each pass still reshuffles, deterministically
        yield from self.epoch_batches

    def __len__(self) -> int:
        return len(self._batches())
