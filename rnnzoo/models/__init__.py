"""The task models (re-exported from their tasks, :mod:`rnnzoo.tasks`) and parameter matching across cells.

``cell`` picks the layer ("rnn" | "lstm" | "peephole_lstm" | "gru"); everything else is the task's.
"""

from rnnzoo.models.matching import MatchedSizes, match_hidden_sizes
from rnnzoo.tasks import TASKS, Forecaster, LanguageModel, PianoRollModel, SequenceClassifier, TaskModel
from rnnzoo.tasks.layers import CELLS, build_layer

__all__ = [
    "CELLS", "TASKS", "Forecaster", "LanguageModel", "MatchedSizes", "PianoRollModel", "SequenceClassifier",
    "TaskModel", "build_layer", "match_hidden_sizes",
]
