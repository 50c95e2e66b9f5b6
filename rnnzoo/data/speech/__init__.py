"""Speech features: UEA JapaneseVowels (bundled) and a torch-only WAV -> log-mel / MFCC front end."""

from rnnzoo.data.speech.datamodule import SpeechFeaturesDataModule
from rnnzoo.data.speech.features import FeatureSettings, compute_features
from rnnzoo.data.speech.ts_format import read_ts

__all__ = ["FeatureSettings", "SpeechFeaturesDataModule", "compute_features", "read_ts"]
