"""Task models: one of rnnzoo's four recurrent layers plus a head, each a plain ``nn.Module`` built from a config.

``cell`` picks the layer ("rnn" | "lstm" | "peephole_lstm" | "gru"); everything else is the task's.
"""

from rnnzoo.models.base import TaskModel
from rnnzoo.models.cells import CELLS, build_layer
from rnnzoo.models.forecaster import Forecaster
from rnnzoo.models.language_model import LanguageModel
from rnnzoo.models.matching import MatchedSizes, match_hidden_sizes
from rnnzoo.models.piano_roll import PianoRollModel
from rnnzoo.models.sequence_classifier import SequenceClassifier

# Task name -> model class: how config.json's "task" finds its class.
TASK_MODELS: dict[str, type[TaskModel]] = {
    cls.task: cls for cls in (PianoRollModel, SequenceClassifier, LanguageModel, Forecaster)
}

__all__ = [
    "CELLS", "TASK_MODELS", "Forecaster", "LanguageModel", "MatchedSizes", "PianoRollModel",
    "SequenceClassifier", "TaskModel", "build_layer", "match_hidden_sizes",
]
