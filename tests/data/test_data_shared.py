"""Shared data machinery: splits, padding, bucketing, the atomic content-hashed cache, input checks."""

import os

import numpy as np
import pytest
import torch

from rnnzoo.data import (BucketBatchSampler, DataError, PadCollate, chronological_split, load_or_build,
                         seeded_split, split_counts)
from rnnzoo.data.cache import default_cache_dir, pack_ragged, unpack_ragged
from rnnzoo.data.checks import check_finite, check_not_empty


def test_split_counts_exact_and_proportional():
    assert split_counts(382, (229, 76, 77)) == [229, 76, 77]
    counts = split_counts(350, (229, 76, 77))
    assert sum(counts) == 350 and counts == [210, 70, 70]
    assert split_counts(10, (1, 1, 1)) == [4, 3, 3]  # leftover item to the earliest largest remainder


def test_seeded_split_is_deterministic_disjoint_and_covers_all():
    a = seeded_split(100, (0.7, 0.15, 0.15), seed=3)
    b = seeded_split(100, (0.7, 0.15, 0.15), seed=3)
    c = seeded_split(100, (0.7, 0.15, 0.15), seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert sorted(np.concatenate(a).tolist()) == list(range(100))


def test_chronological_split_is_ordered_and_contiguous():
    parts = chronological_split(100, (0.7, 0.15, 0.15))
    assert parts == [slice(0, 70), slice(70, 85), slice(85, 100)]


def test_splits_never_leave_a_part_empty(tmp_path):
    from rnnzoo.data import TextDataModule

    with pytest.raises(DataError, match=r"3 pieces cut 60%/20%/20% into train/validation/test give 2/0/1: the "
                                        r"validation split would be empty.*at least 4 in all"):
        seeded_split(3, (229, 76, 77), what="pieces")
    with pytest.raises(DataError, match=r"give the test split no share"):
        chronological_split(100, (0.8, 0.2, 0.0))
    with pytest.raises(DataError, match=r"the validation split would be empty"):
        seeded_split(9, (0.95, 0.05))  # two parts: train and validation
    (tmp_path / "t.txt").write_text("ab")  # a split test text is refused as such, not as "no tokens"
    with pytest.raises(DataError, match=r"t.txt: 2 char tokens cut 90%/5%/5% .*test splits would be empty"):
        TextDataModule(tmp_path / "t.txt", level="char", batch_size=1).setup()


def test_pad_collate_pads_and_reports_lengths():
    samples = [{"x": torch.ones(3, 2), "y": torch.tensor(1)}, {"x": torch.ones(5, 2), "y": torch.tensor(0)}]
    batch = PadCollate(("x",))(samples)
    assert batch["x"].shape == (2, 5, 2) and batch["lengths"].tolist() == [3, 5]
    assert batch["x"][0, 3:].abs().sum() == 0 and batch["y"].tolist() == [1, 0]


def test_bucket_sampler_groups_lengths_and_covers_every_item_once():
    lengths = list(np.random.default_rng(0).integers(1, 200, size=103))
    sampler = BucketBatchSampler(lengths, batch_size=8, seed=0, bucket_factor=4)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(103))
    # Within a batch the spread of lengths is far below the spread of the whole set (sorted chunks of 32 items).
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 0.5 * (max(lengths) - min(lengths))
    assert [b for b in BucketBatchSampler(lengths, 8, seed=0, bucket_factor=4)] == batches  # seeded


def _build():
    return {"a": np.arange(10, dtype=np.float32)}, {"note": "built"}


def test_cache_builds_once_then_reads_and_hashes(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return _build()

    arrays, meta = load_or_build("toy", {"v": 1}, build, tmp_path)
    arrays2, meta2 = load_or_build("toy", {"v": 1}, build, tmp_path)
    assert len(calls) == 1 and not meta["from_cache"] and meta2["from_cache"]
    assert meta["content_sha256"] == meta2["content_sha256"] and np.array_equal(arrays["a"], arrays2["a"])
    load_or_build("toy", {"v": 2}, build, tmp_path)  # another recipe, another entry
    assert len(calls) == 2 and len(list(tmp_path.glob("toy-*.npz"))) == 2


def test_cache_writes_nothing_when_the_build_fails(tmp_path):
    def broken():
        raise DataError("bad input")

    with pytest.raises(DataError):
        load_or_build("toy", {"v": 1}, broken, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no entry and no leftover temporary file


def test_cache_rebuilds_a_corrupt_entry(tmp_path):
    _, meta = load_or_build("toy", {"v": 1}, _build, tmp_path)
    path = meta["cache_path"]
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.warns(UserWarning, match="rebuilding"):
        _, meta2 = load_or_build("toy", {"v": 1}, _build, tmp_path)
    assert not meta2["from_cache"] and meta2["content_sha256"] == meta["content_sha256"]


def test_cache_dir_from_environment_and_off(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_CACHE", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    _, meta = load_or_build("toy", {"v": 1}, _build)
    assert meta["cache_path"].startswith(str(tmp_path / "env"))
    _, meta = load_or_build("toy", {"v": 1}, _build, cache_dir=False)
    assert meta["cache_path"] is None


def test_ragged_round_trip():
    seqs = [np.ones((3, 2)), np.zeros((1, 2)), np.full((4, 2), 2.0)]
    back = unpack_ragged(*pack_ragged(seqs))
    assert all(np.array_equal(a, b) for a, b in zip(seqs, back))


def test_checks_name_the_source():
    with pytest.raises(DataError, match=r"my.csv: 1 NaN/inf value\(s\), the first at index \(1, 0\)"):
        check_finite(np.array([[1.0], [np.nan]]), "my.csv")
    with pytest.raises(DataError, match="x.wav: empty recording"):
        check_not_empty(0, "x.wav", "recording")
    check_finite(np.array([1, 2]), "ints")  # integers cannot hold NaN: passes
