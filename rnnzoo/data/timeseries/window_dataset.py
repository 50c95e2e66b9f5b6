"""Forecasting windows as index views into the scaled series: memory O(series length), not O(windows x window).

A window is ``input_length + horizon`` consecutive steps of one scaled series, and the windows of a split start
``stride`` steps apart from a first position. So a split needs, per series, only that first position and a count:
the item is sliced out when it is asked for. Materialising every window instead (as this module replaced) cost
``input_length + horizon`` copies of each step: 2.1 GB and 37 s for a 1-million-row series.

A DataLoader asks for a batch at once (``__getitems__``): it is gathered with one numpy index per series and
comes back as a :class:`WindowBatch`, which :class:`WindowCollate` hands on already stacked. Stacking the items one
tensor at a time cost ~20 us per window, more than the model step of a small network.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from rnnzoo.data.batching import PadCollate
from rnnzoo.data.errors import DataError


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class ScaledSeries:
    """One series, standardised, and what every window of it carries beside its values.

    ``values``: ``(T, F)`` float32, already scaled; ``index``: the series' position (0-d int64 tensor);
    ``loc``, ``scale``, ``mase_scale``: ``(targets,)`` float32 tensors (undo the scaling; MASE's denominator).
    One object is shared by the three splits' datasets, so the scaled values exist once.
    """

    values: np.ndarray
    index: Tensor
    loc: Tensor
    scale: Tensor
    mase_scale: Tensor


def scale_series(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(values - mean) / std`` as float32, with no temporary beyond the result (the division is in place): a
    10-million-step series would otherwise hold a second full-size copy at the peak."""
    scaled = np.subtract(values, mean, dtype=np.float32)
    np.divide(scaled, std, out=scaled, dtype=np.float32)
    return scaled


def window_count(segment_length: int, span: int, stride: int) -> int:
    """How many ``span``-long windows, ``stride`` apart from position 0, fit in ``segment_length`` steps."""
    return len(range(0, segment_length - span + 1, stride))


class WindowDataset(Dataset):
    """The windows of one split, series after series, each series' windows in time order.

    Item ``i`` is ``{"window": (input_length, F), "target": (horizon, targets), ["future": (horizon, num_future)],
    "series", "loc", "scale", "mase_scale"}`` (float32, contiguous, owning their memory: a caller may change them
    without touching the series), as :class:`~rnnzoo.data.timeseries.TimeSeriesDataModule` documents.

    Args:
        series: the scaled series (shared between splits).
        first: per series, where its first window of this split starts (an index into ``values``).
        counts: per series, how many windows this split has in it (0 for none).
        input_length, horizon, stride: window geometry.
        num_targets: the first ``num_targets`` features are the target.
        num_future: the last ``num_future`` features are also given for the horizon, as ``"future"`` (0: no key).
    """

    def __init__(self, series: Sequence[ScaledSeries], first: Sequence[int], counts: Sequence[int], *,
                 input_length: int, horizon: int, stride: int, num_targets: int, num_future: int = 0):
        if not len(series) == len(first) == len(counts):
            raise DataError(f"WindowDataset needs one first position and one count per series; got {len(series)} "
                            f"series, {len(first)} first positions and {len(counts)} counts")
        span = input_length + horizon
        for k, (s, start, count) in enumerate(zip(series, first, counts)):
            if count and (start < 0 or start + (count - 1) * stride + span > len(s.values)):
                raise DataError(f"series {k}: {count} windows of {span} steps, {stride} apart from step {start}, "
                                f"run past its {len(s.values)} steps; compute first/counts with window_count")
        self.series = list(series)
        self.first = np.asarray(first, dtype=np.int64)
        # offsets[k] is the index of series k's first item: a lookup is one binary search over series, not windows
        self.offsets = np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))])
        self.input_length, self.horizon, self.stride = input_length, horizon, stride
        self.num_targets, self.num_future = num_targets, num_future
        # what every window of a series carries, one row per series, for batches gathered at once
        self.per_series = {key: torch.stack([getattr(s, attr) for s in self.series])
                           for key, attr in (("series", "index"), ("loc", "loc"), ("scale", "scale"),
                                             ("mase_scale", "mase_scale"))}

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        size = len(self)
        index = int(index)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"window {index} out of range for a split of {size} windows")
        k = int(np.searchsorted(self.offsets, index, side="right")) - 1
        series = self.series[k]
        start = int(self.first[k]) + (index - int(self.offsets[k])) * self.stride
        split = start + self.input_length
        # copies: items own their memory, as the materialised windows did, so editing one cannot edit the series
        item = {"window": torch.from_numpy(series.values[start:split].copy()),
                "target": torch.from_numpy(series.values[split:split + self.horizon, :self.num_targets].copy())}
        if self.num_future:
            first_future = series.values.shape[1] - self.num_future
            item["future"] = torch.from_numpy(series.values[split:split + self.horizon, first_future:].copy())
        item.update(series=series.index, loc=series.loc, scale=series.scale, mase_scale=series.mase_scale)
        return item

    def __getitems__(self, indices: Sequence[int]) -> WindowBatch:
        """The items at ``indices`` as one :class:`WindowBatch` (equal, item by item, to ``[self[i] for i in
        indices]``), gathered with one numpy index per series: how a DataLoader asks for a batch."""
        index = np.asarray(indices, dtype=np.int64).reshape(-1)
        size = len(self)
        index = np.where(index < 0, index + size, index)
        outside = (index < 0) | (index >= size)
        if outside.any():
            raise IndexError(f"window {np.asarray(indices).reshape(-1)[outside][0]} out of range for a split of "
                             f"{size} windows")
        k = np.searchsorted(self.offsets, index, side="right") - 1
        starts = self.first[k] + (index - self.offsets[k]) * self.stride
        features = self.series[0].values.shape[1]
        window = np.empty((len(index), self.input_length, features), dtype=np.float32)
        ahead = np.empty((len(index), self.horizon, features), dtype=np.float32)
        inputs, horizon = np.arange(self.input_length), np.arange(self.input_length, self.input_length + self.horizon)
        for series in np.unique(k).tolist():
            rows = np.flatnonzero(k == series) if len(self.series) > 1 else slice(None)
            values = self.series[series].values
            window[rows] = values[starts[rows, None] + inputs]
            ahead[rows] = values[starts[rows, None] + horizon]
        # keys in __getitem__'s order, contiguous as stacking gives them
        stacked = {"window": torch.from_numpy(window),
                   "target": torch.from_numpy(np.ascontiguousarray(ahead[:, :, :self.num_targets]))}
        if self.num_future:
            stacked["future"] = torch.from_numpy(np.ascontiguousarray(ahead[:, :, features - self.num_future:]))
        rows = torch.from_numpy(k)
        stacked.update({key: value[rows] for key, value in self.per_series.items()})
        return WindowBatch(stacked, [self.series[series] for series in k.tolist()])

    def __iter__(self) -> Iterator[dict[str, Tensor]]:
        return (self[i] for i in range(len(self)))


class WindowBatch(Sequence):
    """A batch of windows gathered at once: ``stacked``, the batch :class:`WindowCollate` returns as it is, and a
    sequence of the item dicts (built when first read, as views of the batch) for any other collate function.

    ``series``: the series of each row; its items share that series' ``index``/``loc``/``scale``/``mase_scale``
    tensors, as :meth:`WindowDataset.__getitem__`'s do."""

    def __init__(self, stacked: dict[str, Tensor], series: list[ScaledSeries]):
        self.stacked, self.series = stacked, series
        self.arrays = {key: stacked[key].numpy() for key in ("window", "target", "future") if key in stacked}
        self.items: list[dict[str, Tensor]] | None = None

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, index):  # int -> item dict, slice -> list of them (Sequence's contract)
        if self.items is None:  # built once, all together: a collate reads every item once per key
            self.items = [self._item(i) for i in range(len(self))]
        return self.items[index]

    def _item(self, index: int) -> dict[str, Tensor]:
        series = self.series[index]
        item = {key: torch.from_numpy(values[index]) for key, values in self.arrays.items()}
        item.update(series=series.index, loc=series.loc, scale=series.scale, mase_scale=series.mase_scale)
        return item


class WindowCollate(PadCollate):
    """:class:`~rnnzoo.data.batching.PadCollate` with nothing padded (windows have one length), which takes a
    :class:`WindowBatch` as it is: the same batch, without stacking its items again one tensor at a time."""

    def __init__(self) -> None:
        super().__init__(())

    def __call__(self, samples) -> dict[str, Tensor]:
        if isinstance(samples, WindowBatch):
            return dict(samples.stacked)
        return super().__call__(samples)
