"""Sequence classification: a whole sequence (speech features, a recording) -> a class name."""

from rnnzoo.tasks.sequence_classifier.model import SequenceClassifier
from rnnzoo.tasks.sequence_classifier.objective import ClassificationObjective
from rnnzoo.tasks.sequence_classifier.preprocessing import FeatureFrontEnd

__all__ = ["ClassificationObjective", "FeatureFrontEnd", "SequenceClassifier"]
