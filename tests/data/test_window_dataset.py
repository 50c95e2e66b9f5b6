"""WindowDataset: the time-series windows as views give exactly the items the materialised windows gave, in the same
order, and hold memory in proportion to the series, not to the windows."""

import pickle

import numpy as np
import pytest
import torch

from rnnzoo.data import DataError
from rnnzoo.data.splits import chronological_split
from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.data.timeseries.window_dataset import ScaledSeries, WindowDataset, window_count
from rnnzoo.data.timeseries.windows import make_windows, seasonal_naive_mae


def materialised_items(series: list[np.ndarray], input_length: int, horizon: int, stride: int, season: int,
                       proportions, num_targets: int | None, num_future: int) -> dict[str, list[dict]]:
    """The items as TimeSeriesDataModule.setup built them before WindowDataset (its code, copied): every window a
    dict of its own tensors. The reference the views must equal."""
    samples = {"train": [], "val": [], "test": []}
    targets = num_targets or series[0].shape[1] - num_future
    first_future = series[0].shape[1] - num_future
    for index, values in enumerate(series):
        train_range, val_range, test_range = chronological_split(len(values), proportions)
        train = values[train_range]
        mean, std = train.mean(axis=0), train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        mase = seasonal_naive_mae(train, season)
        scaled = (values - mean) / std
        segments = {"train": scaled[train_range],
                    "val": scaled[val_range.start - input_length:val_range.stop],
                    "test": scaled[test_range.start - input_length:test_range.stop]}
        for split, segment in segments.items():
            inputs, outputs = make_windows(segment, input_length, horizon, stride)
            extra = {"series": torch.tensor(index),
                     "loc": torch.from_numpy(mean[:targets].astype(np.float32)),
                     "scale": torch.from_numpy(std[:targets].astype(np.float32)),
                     "mase_scale": torch.from_numpy(mase[:targets].copy())}
            samples[split] += [{"window": torch.from_numpy(x.copy()), "target": torch.from_numpy(y[:, :targets].copy()),
                                **({"future": torch.from_numpy(y[:, first_future:].copy())} if num_future else {}),
                                **extra} for x, y in zip(inputs, outputs)]
    return samples


def _series(lengths=(230, 181, 157), features=4, seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        columns = [10 * k + np.sin(2 * np.pi * t / 12) + 0.02 * t + rng.normal(0, 0.3, n) for _ in range(features - 1)]
        columns.append(np.full(n, 3.0) if k == 1 else rng.normal(0, 1, n))  # a constant feature: std 0, centred only
        out.append(np.stack(columns, 1).astype(np.float32))
    return out


@pytest.mark.parametrize("input_length, horizon, stride, num_targets, num_future",
                         [(12, 5, 3, 1, 2), (10, 4, 1, 2, 1), (7, 3, 4, None, 0), (20, 6, 7, None, 2)])
def test_items_equal_the_materialised_ones(input_length, horizon, stride, num_targets, num_future):
    series = _series()
    proportions = (0.6, 0.2, 0.2)
    dm = TimeSeriesDataModule(series, input_length=input_length, horizon=horizon, stride=stride, season=12,
                              proportions=proportions, num_targets=num_targets, num_future=num_future)
    dm.setup()
    reference = materialised_items(series, input_length, horizon, stride, 12, proportions, num_targets, num_future)
    for split, items in reference.items():
        ours = dm.datasets[split]
        assert len(ours) == len(items) > 0
        for i, (mine, theirs) in enumerate(zip(ours, items, strict=True)):
            assert list(mine) == list(theirs), (split, i)
            for key in theirs:
                assert mine[key].dtype == theirs[key].dtype and mine[key].shape == theirs[key].shape, (split, i, key)
                assert torch.equal(mine[key], theirs[key]), (split, i, key)
        assert torch.equal(ours[-1]["window"], items[-1]["window"])  # negative indices, as a list's
        with pytest.raises(IndexError):
            ours[len(items)]


def test_loader_batches_equal_the_materialised_ones():
    series = _series(features=3)
    dm = TimeSeriesDataModule(series, input_length=9, horizon=3, stride=2, season=12, num_targets=1, num_future=1,
                              batch_size=8, seed=3)
    dm.setup()
    reference = materialised_items(series, 9, 3, 2, 12, (0.7, 0.15, 0.15), 1, 1)["train"]
    batch = next(iter(dm.train_dataloader()))  # shuffled by EpochSeededSampler: the same order over the same count
    order = torch.randperm(len(reference), generator=torch.Generator().manual_seed(3))[:8].tolist()
    expected = dm.collate([reference[i] for i in order])
    assert batch.keys() == expected.keys()
    assert all(torch.equal(batch[k], expected[k]) for k in batch)


@pytest.mark.parametrize("num_future", [0, 2])
def test_batches_gathered_at_once_equal_the_items(num_future):
    from torch.utils.data import default_collate

    from rnnzoo.data import PadCollate

    dm = TimeSeriesDataModule(_series(), input_length=11, horizon=4, stride=2, season=12, num_targets=1,
                              num_future=num_future)
    dm.setup()
    dataset = dm.datasets["val"]
    indices = [len(dataset) - 1, 0, 5, -2, 17, 3, 3]  # across all three series, repeats and negatives
    batch = dataset.__getitems__(indices)
    assert len(batch) == len(indices)
    one_by_one = PadCollate(())([dataset[i] for i in indices])
    for collate in (dm.collate, PadCollate(()), default_collate):  # any collate function takes a WindowBatch
        got = collate(batch)
        assert list(got) == list(one_by_one)
        for key, value in one_by_one.items():
            assert got[key].dtype == value.dtype and torch.equal(got[key], value), (collate, key)
            assert got[key].is_contiguous()
    with pytest.raises(IndexError):
        dataset.__getitems__([0, len(dataset)])


def test_items_own_their_memory():
    dm = TimeSeriesDataModule(_series(features=2), input_length=8, horizon=2, num_future=1)
    dm.setup()
    item = dm.datasets["train"][0]
    item["window"].add_(100.0)
    assert not torch.equal(dm.datasets["train"][0]["window"], item["window"])


def test_memory_is_in_proportion_to_the_series_not_the_windows():
    """Timing-free: everything the datasets hold (what pickling them to a DataLoader worker sends) is about one
    copy of the series, whatever the window length; the materialised windows grew with input_length + horizon."""
    steps = 20_000
    values = np.random.default_rng(0).normal(size=(steps, 2)).astype(np.float32)
    held = {}
    for input_length in (16, 256):
        dm = TimeSeriesDataModule(values, input_length=input_length, horizon=8)
        dm.setup()
        held[input_length] = len(pickle.dumps(dm.datasets))  # the three splits share one scaled copy
        windows = sum(dm.split_sizes().values())
        assert windows > steps * 0.9
    series_bytes = values.nbytes
    assert all(size < 1.1 * series_bytes + 20_000 for size in held.values()), (held, series_bytes)
    assert abs(held[256] - held[16]) < 1_000  # the old items: ~ (input_length + horizon) x series_bytes
    dataset = dm.datasets["train"]
    arrays = [s.values for s in dataset.series]
    assert all(a.dtype == np.float32 for a in arrays)  # the scaled copy is float32, never float64
    assert dataset.first.nbytes + dataset.offsets.nbytes < 100  # O(series): no per-window index array


def test_window_count_matches_make_windows():
    for length in range(0, 40):
        for span in (1, 5, 13):
            for stride in (1, 2, 7):
                segment = np.zeros((length, 1), np.float32)
                expected = len(make_windows(segment, span - 1, 1, stride)[0]) if length >= span else 0
                assert window_count(length, span, stride) == expected


def test_windows_past_the_series_are_refused():
    series = ScaledSeries(np.zeros((20, 1), np.float32), torch.tensor(0), torch.zeros(1), torch.ones(1),
                          torch.ones(1))
    with pytest.raises(DataError, match="run past its 20 steps"):
        WindowDataset([series], [5], [3], input_length=8, horizon=2, stride=3, num_targets=1)
    with pytest.raises(DataError, match="one first position and one count per series"):
        WindowDataset([series], [0, 1], [1], input_length=8, horizon=2, stride=1, num_targets=1)
