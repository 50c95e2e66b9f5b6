"""A sequence classifier's preprocessing: the feature front end (for audio), the training split's feature
normaliser, and the class names."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rnnzoo.tasks.base import Preprocessing, PreprocessingError
from rnnzoo.tasks.raw_input import as_sequence


@dataclasses.dataclass
class FeatureFrontEnd(Preprocessing):
    """Raw sequences -> the standardised features the classifier reads, and class indices -> names.

    ``normalise`` holds the training split's per-feature ``mean`` and ``std``; ``feature_settings`` are the
    log-mel/MFCC front end's (:class:`~rnnzoo.data.speech.FeatureSettings`) for a model trained on WAV files,
    None for one trained on given features (e.g. JapaneseVowels' LPC cepstra). Written by
    :class:`~rnnzoo.data.SpeechFeaturesDataModule`.
    """

    key: ClassVar[str] = "speech"

    classes: list[str]
    normalise: dict[str, list[float]]
    feature_settings: dict[str, Any] | None = None
    source: str = ""

    @property
    def num_features(self) -> int:
        return len(self.normalise["mean"])

    def features(self, item: Any, what: str) -> np.ndarray:
        """One raw item — an array ``(T, features)`` or a WAV path — as features ``(T, features)`` in the front
        end's units (before normalisation)."""
        if isinstance(item, (str, os.PathLike)):
            path = Path(item)
            if path.suffix.lower() != ".wav":
                raise PreprocessingError(f"{what}: {path} is not a .wav file; pass WAV paths or (steps, "
                                         f"{self.num_features}) arrays")
            if self.feature_settings is None:
                raise PreprocessingError(
                    f"{what}: this model was trained on given features ({self.num_features} per step, source "
                    f"{self.source!r}), not on audio, so it cannot read {path.name}; pass (steps, "
                    f"{self.num_features}) arrays of the same kind of features")
            from rnnzoo.data.speech.features import FeatureSettings, compute_features
            from rnnzoo.data.speech.wav import read_wav

            settings = FeatureSettings(**self.feature_settings)
            return compute_features(read_wav(path, settings.sample_rate), settings).numpy()
        return as_sequence(item, self.num_features, what)

    def encode(self, item: Any, what: str = "sequence") -> np.ndarray:
        """One raw item -> standardised float32 features ``(T, features)``, as the DataModule gave them."""
        values = self.features(item, what)
        mean = np.asarray(self.normalise["mean"])
        std = np.asarray(self.normalise["std"])
        return ((values - mean) / std).astype(np.float32)

    def label_index(self, label: str) -> int:
        """The class index of a label name; an unknown name is an error listing the known ones."""
        label = str(label)
        if label not in self.classes:
            raise PreprocessingError(f"unknown label {label!r}; this model's classes are {self.classes}")
        return self.classes.index(label)
