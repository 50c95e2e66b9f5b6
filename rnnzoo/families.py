"""The zoo's registered architectures: four parameter-matched siblings per task.

Hidden sizes are the output of :func:`rnnzoo.models.match_hidden_sizes` for each family's config and budget,
written down so that importing rnnzoo builds nothing; ``tests/tasks/test_models_matching.py`` recomputes them.
Names follow ``{family}-{cell}-{budget}`` (see :mod:`rnnzoo.registry`). Nothing here imports torch: the builders
import their task's model class when a model is built, so ``rnnzoo list`` answers at once.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from rnnzoo.registry import register_model

#: the four cells, in the order tables list them (``rnnzoo.tasks.layers.CELLS`` maps them to layer classes)
CELL_NAMES = ("rnn", "lstm", "peephole_lstm", "gru")


class Family(NamedTuple):
    """Four parameter-matched siblings: one task config, one budget, a hidden size per cell."""

    task: str  # the task key (rnnzoo.tasks.TASKS)
    config: dict[str, Any]  # the task model's init arguments without cell and hidden size
    budget: int
    label: str  # the budget as the names spell it, e.g. "20k"
    sizes: dict[str, int]  # cell -> hidden size


FAMILIES: dict[str, Family] = {
    # Chung et al. 2014, Table 1: polyphonic music (88 keys in and out), about 20k parameters.
    "pianoroll": Family("piano_roll", {"num_pitches": 88}, 20_000, "20k",
                  {"rnn": 78, "lstm": 34, "peephole_lstm": 34, "gru": 41}),
    # Keyword spotting sized: 40 log-mel features, 35 words (Speech Commands v2), 100k parameters.
    "classifier": Family("sequence_classifier", {"input_size": 40, "num_classes": 35}, 100_000, "100k",
                   {"rnn": 280, "lstm": 135, "peephole_lstm": 134, "gru": 158}),
    # UEA JapaneseVowels: 12 LPC cepstra in, 9 speakers out, 20k parameters (as `rnnzoo compare --data
    # japanese_vowels` sizes it).
    "vowels": Family("sequence_classifier", {"input_size": 12, "num_classes": 9}, 20_000, "20k",
               {"rnn": 130, "lstm": 63, "peephole_lstm": 63, "gru": 74}),
    # Byte-level character language model (vocabulary of 256 bytes, 64-wide embedding), 1M parameters.
    "charlm": Family("language_model", {"vocab_size": 256, "embedding_dim": 64}, 1_000_000, "1m",
               {"rnn": 844, "lstm": 435, "peephole_lstm": 435, "gru": 502}),
    # Word-level Penn Treebank, Zaremba et al. 2014's small LSTM (2 layers, 200-wide embedding, 10k words, untied
    # softmax): 4.6M parameters, most of them in the embedding and the softmax.
    "wordlm": Family("language_model", {"vocab_size": 10_000, "embedding_dim": 200, "num_layers": 2}, 4_600_000, "4600k",
               {"rnn": 237, "lstm": 197, "peephole_lstm": 197, "gru": 208}),
    # The same budget with the softmax tied to the embedding (Press & Wolf 2017; Inan et al. 2017): tying needs
    # embedding width = hidden size, and the 2M parameters the untied softmax held go to wider layers (LSTM 307
    # units instead of 197). embedding_dim None: as wide as the layer.
    "tiedwordlm": Family("language_model", {"vocab_size": 10_000, "embedding_dim": None, "num_layers": 2,
                                            "tie_weights": True}, 4_600_000, "4600k",
                         {"rnn": 396, "lstm": 307, "peephole_lstm": 307, "gru": 329}),
    # Univariate forecaster: a window of one series, 24 steps ahead, 20k parameters; window-relative levels
    # (normalization="last_value") so that a trending series does not leave the range it was trained on.
    "forecaster": Family("forecaster", {"input_size": 1, "horizon": 24, "normalization": "last_value"}, 20_000, "20k",
                   {"rnn": 128, "lstm": 66, "peephole_lstm": 66, "gru": 76}),
    # The ES-RNN-style hybrid (normalization="es"): one monthly series, learned Holt-Winters level and yearly
    # season (two smoothing coefficients per series), 24 steps ahead, 20k parameters.
    "esrnn": Family("forecaster", {"input_size": 1, "horizon": 24, "normalization": "es", "season": 12}, 20_000,
                    "20k", {"rnn": 128, "lstm": 66, "peephole_lstm": 66, "gru": 76}),
    # The forecaster family with a quantile head at the levels 0.1, 0.5 and 0.9 (pinball loss), matched again at
    # 20k parameters (the head is three times wider, so the hidden sizes are smaller): the models `rnnzoo compare
    # --quantiles 0.1 0.5 0.9` trains on co2 or sunspots, and labels quantile-forecaster-{cell}-20k.
    "quantile-forecaster": Family("forecaster", {"input_size": 1, "horizon": 24, "normalization": "last_value",
                                                 "quantiles": [0.1, 0.5, 0.9]}, 20_000, "20k",
                                  {"rnn": 109, "lstm": 61, "peephole_lstm": 61, "gru": 69}),
    # Seasonal differences (normalization="seasonal_difference"): the network reads the window's seasonal
    # differences and predicts those of the horizon, added to the seasonal naive forecast; the season (and drift,
    # for a trending series) are the data's and change no parameter count, so they are set per dataset
    # (create_model("sdiff-forecaster-gru-20k", season=12, drift=True)); without them m = 1 (first differences).
    # Same layers and head as the forecaster family, so the same matched sizes.
    "sdiff-forecaster": Family("forecaster", {"input_size": 1, "horizon": 24, "normalization": "seasonal_difference"},
                               20_000, "20k", {"rnn": 128, "lstm": 66, "peephole_lstm": 66, "gru": 76}),
    # ... with the quantile head at 0.1, 0.5, 0.9 (the quantile-forecaster family's sizes): the bundled
    # sdiff-quantile-forecaster-*-20k.co2 (season 12, drift) and .sunspots (season 11).
    "sdiff-quantile-forecaster": Family("forecaster", {"input_size": 1, "horizon": 24,
                                                       "normalization": "seasonal_difference",
                                                       "quantiles": [0.1, 0.5, 0.9]}, 20_000, "20k",
                                        {"rnn": 109, "lstm": 61, "peephole_lstm": 61, "gru": 69}),
}


def _build(task: str, defaults: dict[str, Any], **overrides: Any):
    from rnnzoo.tasks import task_model_class

    return task_model_class(task)(**{**defaults, **overrides})


def architecture_name(family: str, cell: str) -> str:
    """``("pianoroll", "peephole_lstm")`` -> ``"pianoroll-peephole-lstm-20k"``."""
    return f"{family}-{cell.replace('_', '-')}-{FAMILIES[family].label}"


for _family, (_task, _config, _budget, _label, _sizes) in FAMILIES.items():
    for _cell, _hidden in _sizes.items():
        register_model(
            partial(_build, _task, {**_config, "cell": _cell, "hidden_size": _hidden}),
            name=architecture_name(_family, _cell),
        )
