"""The zoo's registered architectures: four parameter-matched siblings per task.

Hidden sizes are the output of :func:`rnnzoo.models.match_hidden_sizes` for each task's config and budget,
written down so that importing rnnzoo builds nothing; ``tests/test_registry.py`` recomputes and compares them.
Names follow ``{task}-{cell}-{budget}`` (see :mod:`rnnzoo.registry`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from rnnzoo.models.base import TaskModel
from rnnzoo.models.forecaster import Forecaster
from rnnzoo.models.language_model import LanguageModel
from rnnzoo.models.piano_roll import PianoRollModel
from rnnzoo.models.sequence_classifier import SequenceClassifier
from rnnzoo.registry import register_model

# family name -> (model class, task config without cell/hidden size, budget, label, {cell: hidden_size})
FAMILIES: dict[str, tuple[type[TaskModel], dict[str, Any], int, str, dict[str, int]]] = {
    # Chung et al. 2014, Table 1: polyphonic music (88 keys in and out), about 20k parameters.
    "pianoroll": (PianoRollModel, {"num_pitches": 88}, 20_000, "20k",
                  {"rnn": 78, "lstm": 34, "peephole_lstm": 34, "gru": 41}),
    # Keyword spotting sized: 40 log-mel features, 35 words (Speech Commands v2), 100k parameters.
    "classifier": (SequenceClassifier, {"input_size": 40, "num_classes": 35}, 100_000, "100k",
                   {"rnn": 280, "lstm": 135, "peephole_lstm": 134, "gru": 158}),
    # UEA JapaneseVowels: 12 LPC cepstra in, 9 speakers out, 20k parameters (as `rnnzoo compare --data
    # japanese_vowels` sizes it).
    "vowels": (SequenceClassifier, {"input_size": 12, "num_classes": 9}, 20_000, "20k",
               {"rnn": 130, "lstm": 63, "peephole_lstm": 63, "gru": 74}),
    # Byte-level character language model (vocabulary of 256 bytes, 64-wide embedding), 1M parameters.
    "charlm": (LanguageModel, {"vocab_size": 256, "embedding_dim": 64}, 1_000_000, "1m",
               {"rnn": 844, "lstm": 435, "peephole_lstm": 435, "gru": 502}),
    # Word-level Penn Treebank, Zaremba et al. 2014's small LSTM (2 layers, 200-wide embedding, 10k words, untied
    # softmax): 4.6M parameters, most of them in the embedding and the softmax.
    "wordlm": (LanguageModel, {"vocab_size": 10_000, "embedding_dim": 200, "num_layers": 2}, 4_600_000, "4600k",
               {"rnn": 237, "lstm": 197, "peephole_lstm": 197, "gru": 208}),
    # Univariate forecaster: a window of one series, 24 steps ahead, 20k parameters; window-relative levels
    # (normalization="last_value") so that a trending series does not leave the range it was trained on.
    "forecaster": (Forecaster, {"input_size": 1, "horizon": 24, "normalization": "last_value"}, 20_000, "20k",
                   {"rnn": 128, "lstm": 66, "peephole_lstm": 66, "gru": 76}),
}


def _build(model_class: type[TaskModel], defaults: dict[str, Any], **overrides: Any) -> TaskModel:
    return model_class(**{**defaults, **overrides})


def architecture_name(family: str, cell: str) -> str:
    """``("pianoroll", "peephole_lstm")`` -> ``"pianoroll-peephole-lstm-20k"``."""
    return f"{family}-{cell.replace('_', '-')}-{FAMILIES[family][3]}"


for _family, (_cls, _config, _budget, _label, _sizes) in FAMILIES.items():
    for _cell, _hidden in _sizes.items():
        register_model(
            partial(_build, _cls, {**_config, "cell": _cell, "hidden_size": _hidden}),
            name=architecture_name(_family, _cell),
        )
