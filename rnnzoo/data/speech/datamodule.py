"""``SpeechFeaturesDataModule``: sequence classification from speech features (built-in or your own WAVs)."""

from __future__ import annotations

import os
from dataclasses import asdict

import numpy as np
import torch

from rnnzoo.data.base import SequenceDataModule
from rnnzoo.data.batching import PadCollate, SequenceDataset
from rnnzoo.data.cache import file_digest, load_or_build, pack_ragged, unpack_ragged
from rnnzoo.data.errors import DataError
from rnnzoo.data.progress import progress
from rnnzoo.data.speech.audio_folder import list_audio_folder
from rnnzoo.data.speech.features import FeatureSettings, compute_features
from rnnzoo.data.speech.japanese_vowels import load_japanese_vowels
from rnnzoo.data.speech.wav import read_wav
from rnnzoo.data.splits import seeded_split


class SpeechFeaturesDataModule(SequenceDataModule):
    """Batches ``{"features" (B, T, F), "lengths", "label"}``, features standardised per coefficient with the
    training split's mean and std (stored in ``preprocessing`` with the class names and feature settings).

    Sources:

    - ``"japanese_vowels"`` (default): UEA JapaneseVowels (bundled; 12 features, 9 classes). Its official
      270-utterance training set is split seeded into train/val by ``val_fraction``; the test set is the official 370.
    - a folder ``root/<label>/*.wav``: features from :func:`~rnnzoo.data.speech.features.compute_features` with
      ``features`` settings, cached (keyed by file names, sizes and times, and the settings); split seeded by
      ``proportions``.

    Args:
        source: ``"japanese_vowels"`` or a folder path.
        features: front-end settings for WAV folders (default: 40 log-mel bands, 25 ms / 10 ms at 16 kHz).
        val_fraction: share of JapaneseVowels' training set held out for validation.
        proportions: train/val/test shares for a WAV folder.
    """

    def __init__(self, source: str | os.PathLike = "japanese_vowels", features: FeatureSettings | None = None,
                 val_fraction: float = 0.2, proportions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                 **loader_args):
        super().__init__(**loader_args)
        self.source, self.val_fraction, self.proportions = source, val_fraction, proportions
        self.settings = features or FeatureSettings()
        self.collate = PadCollate(("features",))

    def _japanese_vowels(self):
        data = load_japanese_vowels()
        cases, labels = data["train"]
        train_idx, val_idx = seeded_split(len(cases), (1 - self.val_fraction, self.val_fraction), self.seed,
                                          what="utterances", where="JapaneseVowels' training set (val_fraction)")
        splits = {"train": ([cases[i] for i in train_idx], [labels[i] for i in train_idx]),
                  "val": ([cases[i] for i in val_idx], [labels[i] for i in val_idx]), "test": data["test"]}
        return splits, [str(i) for i in range(1, 10)], None

    def _folder(self):
        files, labels, classes = list_audio_folder(self.source)
        stamp = [[str(f.relative_to(self.source)), file_digest(f)] for f in files]  # content, not size + mtime
        recipe = {"source": "audio_folder", "files": stamp, "settings": asdict(self.settings)}

        def features(path):
            try:
                return compute_features(read_wav(path, self.settings.sample_rate), self.settings).numpy()
            except DataError:
                raise  # the reader's errors name the file already
            except ValueError as err:  # name the file: one bad recording among thousands must be findable
                raise DataError(f"{path}: {err}. Remove or replace this file") from None

        def build():
            feats = [features(f) for f in progress(files, "computing speech features", enabled=self.progress)]
            values, offsets = pack_ragged(feats)
            return {"features": values, "offsets": offsets}, {}

        arrays, meta = load_or_build("audio_folder", recipe, build, self.cache_dir)
        self.info = {"content_sha256": meta["content_sha256"], "from_cache": meta["from_cache"]}
        feats = unpack_ragged(arrays["features"], arrays["offsets"])
        per_label = ", ".join(f"{name}: {labels.count(i)}" for i, name in enumerate(classes))
        parts = seeded_split(len(feats), self.proportions, self.seed, what="recordings", where=str(self.source),
                             detail=f"per label {per_label}; the cut is random over all of them, not per label")
        splits = {name: ([feats[i] for i in idx], [labels[i] for i in idx])
                  for name, idx in zip(("train", "val", "test"), parts)}
        return splits, classes, asdict(self.settings)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        splits, classes, settings = (self._japanese_vowels() if str(self.source) == "japanese_vowels"
                                     else self._folder())
        stacked = np.concatenate(splits["train"][0])
        mean, std = stacked.mean(axis=0), stacked.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        for split, (cases, labels) in splits.items():
            self.datasets[split] = SequenceDataset(
                [{"features": torch.from_numpy(((c - mean) / std).astype(np.float32)), "label": torch.tensor(y)}
                 for c, y in zip(cases, labels)])
            self.lengths[split] = [len(c) for c in cases]
        self.num_features, self.num_classes = stacked.shape[1], len(classes)
        self.preprocessing = {"speech": {"source": str(self.source), "classes": classes, "feature_settings": settings,
                                         "normalise": {"mean": mean.tolist(), "std": std.tolist()}}}
