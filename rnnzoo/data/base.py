"""What every rnnzoo DataModule shares: loaders over padded batches, loader options passed through, and the
``preprocessing`` state that is saved with a trained model."""

from __future__ import annotations

import os
from typing import Any

import lightning as L
from torch.utils.data import DataLoader, Dataset

from rnnzoo.data.batching import BucketBatchSampler, EpochSeededSampler, PadCollate


class SequenceDataModule(L.LightningDataModule):
    """Base DataModule: subclasses fill ``self.datasets`` (``"train" | "val" | "test"``) in :meth:`setup`, set
    ``self.collate`` and ``self.preprocessing``, and optionally ``self.lengths`` per split for bucketing.

    Args:
        batch_size: sequences per batch.
        num_workers, pin_memory, persistent_workers: passed to every ``DataLoader`` as they are.
        bucket_by_length: group training sequences of similar length (less padding, slightly less random).
        seed: seeds the split and the shuffling order.
        shuffle: shuffle the training split each epoch, in an order fixed by ``seed`` and the epoch (so a resumed
            run sees the orders it would have seen). Under DDP Lightning's DistributedSampler shuffles the
            training split whatever this says, with the same permutation.
        cache_dir: where built datasets are cached (None: ``$RNNZOO_CACHE`` or the user cache dir; False: off).
        progress: show a progress bar while building (None: only on a terminal).
    """

    def __init__(self, batch_size: int = 32, num_workers: int = 0, pin_memory: bool = False,
                 persistent_workers: bool = False, bucket_by_length: bool = False, seed: int = 0,
                 shuffle: bool = True, cache_dir: str | os.PathLike | None | bool = None, progress: bool | None = None):
        super().__init__()
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.bucket_by_length, self.seed, self.cache_dir, self.progress = bucket_by_length, seed, cache_dir, progress
        self.shuffle = shuffle
        self.datasets: dict[str, Dataset] = {}
        self.lengths: dict[str, list[int]] = {}
        self.collate: Any = PadCollate(())
        self.preprocessing: dict[str, Any] = {}
        self.info: dict[str, Any] = {}

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.datasets:
            raise RuntimeError(f"{type(self).__name__} has no {split!r} split; call setup() first")
        common = dict(collate_fn=self.collate, num_workers=self.num_workers, pin_memory=self.pin_memory,
                      persistent_workers=self.persistent_workers)
        if self.bucket_by_length and split in self.lengths:
            sampler = BucketBatchSampler(self.lengths[split], self.batch_size, shuffle=shuffle, seed=self.seed)
            return DataLoader(self.datasets[split], batch_sampler=sampler, **common)
        sampler = EpochSeededSampler(len(self.datasets[split]), self.seed) if shuffle else None
        return DataLoader(self.datasets[split], batch_size=self.batch_size, sampler=sampler, **common)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=self.shuffle)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def split_sizes(self) -> dict[str, int]:
        """Number of items per split (after :meth:`setup`)."""
        return {k: len(v) for k, v in self.datasets.items()}
