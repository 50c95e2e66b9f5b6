"""The built-in datasets ``rnnzoo compare --data NAME`` knows: a DataModule, the models that fit it, and a
training set-up that is a reasonable starting point on a small CPU (every one can be overridden)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import lightning as L


@dataclass(frozen=True)
class DataPreset:
    """What ``compare`` needs to know about one built-in dataset."""

    name: str
    datamodule: Callable[..., "L.LightningDataModule"]  # called with DataModule overrides (batch_size, limit ...)
    family: str | None  # a registered family whose sizes fit this data, else None ...
    task_config: dict[str, Any] | None  # ... and a task config sized at the budget instead
    default_budget: str
    optimizer: str = "adam"
    lr: float = 1e-3
    gradient_clip_val: float | None = 1.0
    lr_scheduler: dict[str, Any] | None = None  # as TrainingModule takes it
    datamodule_defaults: dict[str, Any] = field(default_factory=dict)
    seasonal_baseline: bool = False  # time series: score the statistical baselines on the same test windows
    max_epochs: int = 50  # the default budget and early stopping: those docs/results.md's runs used
    patience: int | None = None
    dropout: float | None = None  # every cell's model dropout, unless --dropout or --dropout-range is given
    ema: float | None = None  # compare's --ema (weights averaged) unless given
    weight_noise: float | None = None  # compare's --weight-noise unless given
    # cell -> its own lr, dropout, ema or weight_noise where one setting does not suit every cell (each chosen on
    # validation); an option given to compare applies to every cell instead
    cell_settings: dict[str, dict[str, Any]] = field(default_factory=dict)


def _piano_roll(**kw):
    from rnnzoo.data import PianoRollDataModule
    return PianoRollDataModule(**kw)


def _speech(**kw):
    from rnnzoo.data import SpeechFeaturesDataModule
    return SpeechFeaturesDataModule(**kw)


def _series(source: str):
    def build(**kw):
        from rnnzoo.data import TimeSeriesDataModule
        return TimeSeriesDataModule(source, **kw)
    return build


def _text(**kw):
    from rnnzoo.data import TextDataModule
    return TextDataModule("ptb", **kw)


PRESETS: dict[str, DataPreset] = {
    # Chung et al. 2014: RMSprop, gradient norm clipped at 1, weight noise, ~20k parameters (the zoo's pianoroll
    # family). Dropout, weight averaging and the noise's size chosen per cell on validation (docs/results.md, "JSB
    # 20k: weight averaging and weight noise"): the LSTMs' setting (noise 0.15) ruins the tanh RNN.
    "jsb": DataPreset("jsb", _piano_roll, "pianoroll", None, "20k", optimizer="rmsprop", lr=8.73e-3,
                      datamodule_defaults={"batch_size": 16}, max_epochs=200, patience=30, dropout=0.2, ema=0.995,
                      weight_noise=0.15, cell_settings={"rnn": {"lr": 2.5e-3, "dropout": 0.0, "weight_noise": 0.03},
                                                        "gru": {"weight_noise": 0.075}}),
    # 12 LPC cepstra, 9 speakers: no registered family has these sizes, so the classifier is sized here.
    "japanese_vowels": DataPreset("japanese_vowels", _speech, None,
                                  {"task": "sequence_classifier", "input_size": 12, "num_classes": 9}, "20k",
                                  lr=1e-2, datamodule_defaults={"batch_size": 32, "bucket_by_length": True},
                                  max_epochs=60, patience=15),
    # The forecaster family reads one series and predicts 24 steps (two years of monthly CO2).
    "co2": DataPreset("co2", _series("co2"), "forecaster", None, "20k", lr=1e-3,
                      datamodule_defaults={"input_length": 48, "horizon": 24, "batch_size": 32},
                      seasonal_baseline=True, max_epochs=100, patience=20),
    "sunspots": DataPreset("sunspots", _series("sunspots"), "forecaster", None, "20k", lr=1e-3,
                           datamodule_defaults={"input_length": 33, "horizon": 24, "batch_size": 16},
                           seasonal_baseline=True, max_epochs=150, patience=20),
    # Zaremba et al.'s small set-up (bptt 20, batch 20, SGD lr 1, clip 5, lr halved each epoch after the 4th,
    # 13 epochs) sized by parameters, not units. Their loss sums over the 20 steps and averages over the batch;
    # ours averages over all tokens, a gradient 20x smaller, so their lr 1 and clip 5 are our lr 20 and clip
    # 0.25 (the settings of PyTorch's word_language_model example).
    "ptb": DataPreset("ptb", _text, "wordlm", None, "4600k", optimizer="sgd", lr=20.0,
                      gradient_clip_val=0.25, datamodule_defaults={"batch_size": 20, "bptt": 20},
                      lr_scheduler={"class_path": "MultiStepLR",
                                    "init_args": {"milestones": list(range(4, 13)), "gamma": 0.5}},
                      max_epochs=13),
}


def get_preset(name: str) -> DataPreset:
    """The preset called ``name`` (``jsb``, ``japanese_vowels``, ``co2``, ``sunspots``, ``ptb``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
