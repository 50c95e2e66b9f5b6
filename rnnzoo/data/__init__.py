"""DataModules for rnnzoo: music (piano rolls), speech features, text and time series, with shared padding,
splitting, caching and input checks. Real built-in data comes from what installed packages ship; nothing is
downloaded."""

from rnnzoo.data.base import SequenceDataModule
from rnnzoo.data.batching import BucketBatchSampler, PadCollate, SequenceDataset, pad_sequences
from rnnzoo.data.cache import default_cache_dir, load_or_build
from rnnzoo.data.errors import DataError
from rnnzoo.data.music import PianoRollDataModule, read_boulanger_pickle
from rnnzoo.data.speech import SpeechFeaturesDataModule
from rnnzoo.data.splits import chronological_split, seeded_split, split_counts
from rnnzoo.data.text import TextDataModule
from rnnzoo.data.timeseries import TimeSeriesDataModule

__all__ = [
    "BucketBatchSampler", "DataError", "PadCollate", "PianoRollDataModule", "SequenceDataModule",
    "SequenceDataset", "SpeechFeaturesDataModule", "TextDataModule", "TimeSeriesDataModule", "chronological_split", "default_cache_dir", "load_or_build", "pad_sequences",
    "read_boulanger_pickle", "seeded_split", "split_counts",
]
