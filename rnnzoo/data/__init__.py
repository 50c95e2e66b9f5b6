"""DataModules for rnnzoo: music (piano rolls), speech features, text and time series, with shared padding,
splitting, caching and input checks. Real built-in data comes from what installed packages ship; nothing is
downloaded.

Names are imported on first access (PEP 562): the DataModules import Lightning (seconds), and reading a user's
table for ``rnnzoo predict`` (``rnnzoo.data.timeseries.read_table``) runs this file without needing them.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module that defines it
_LAZY = {
    "SequenceDataModule": "rnnzoo.data.base",
    "BucketBatchSampler": "rnnzoo.data.batching", "PadCollate": "rnnzoo.data.batching",
    "SequenceDataset": "rnnzoo.data.batching", "pad_sequences": "rnnzoo.data.batching",
    "default_cache_dir": "rnnzoo.data.cache", "load_or_build": "rnnzoo.data.cache",
    "DataError": "rnnzoo.data.errors",
    "PianoRollDataModule": "rnnzoo.data.music", "read_boulanger_pickle": "rnnzoo.data.music",
    "SpeechFeaturesDataModule": "rnnzoo.data.speech",
    "chronological_split": "rnnzoo.data.splits", "seeded_split": "rnnzoo.data.splits",
    "split_counts": "rnnzoo.data.splits",
    "TextDataModule": "rnnzoo.data.text",
    "TimeSeriesDataModule": "rnnzoo.data.timeseries",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rnnzoo.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "BucketBatchSampler", "DataError", "PadCollate", "PianoRollDataModule", "SequenceDataModule",
    "SequenceDataset", "SpeechFeaturesDataModule", "TextDataModule", "TimeSeriesDataModule", "chronological_split",
    "default_cache_dir", "load_or_build", "pad_sequences", "read_boulanger_pickle", "seeded_split", "split_counts",
]
