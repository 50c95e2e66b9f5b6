"""Whole-sequence classification (spoken words from speech features, time-series classes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnzoo.tasks.base import PreprocessingError, TaskModel
from rnnzoo.tasks.layers import build_layer, last_layer_state
from rnnzoo.tasks.raw_input import as_batch, load_array, pad, whole_number, write_or_return
from rnnzoo.tasks.sequence_classifier.objective import ClassificationObjective
from rnnzoo.tasks.sequence_classifier.preprocessing import FeatureFrontEnd


class SequenceClassifier(TaskModel):
    """Recurrent layer, its last state per sequence (each at its own length), a linear layer to class logits.

    On raw sequences (arrays or WAV files): :meth:`classify`, :meth:`predict_proba` and :meth:`accuracy`,
    through the front end, normaliser and class names the model carries (``model.preprocessing``).

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        input_size: features per step (e.g. 40 log-mel or MFCC coefficients).
        num_classes: number of classes.
        hidden_size, num_layers, bidirectional: of the recurrent layer. Bidirectional models pool the
            forward state at each sequence's end and the reverse state at its start.
        dropout: in training, applied to the input features, to the pooled final state before the linear layer
            (as the language model drops its embeddings and outputs, Zaremba et al. 2014) and between stacked
            layers; a 1-layer classifier is regularised by the first two. Eval mode (every raw-input method,
            export, testing) does not drop, so a model's outputs do not depend on it; 0 (the default) leaves
            training as it was.
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
    """

    task = "sequence_classifier"
    objective_class = ClassificationObjective
    preprocessing_class = FeatureFrontEnd
    card_tags = ("audio-classification", "Sequence classification")
    predict_input_example = "recording.wav"
    saved_baseline_kind = "classify"
    input_kind = "features"
    card_usage = "labels = model.classify([sequence])  # (steps, features) arrays or WAV paths -> class names"

    @staticmethod
    def baselines(datamodule: Any) -> dict[str, dict[str, Any]]:
        """The majority class and a non-recurrent classifier on the same items (``rnnzoo compare``'s verdict)."""
        from rnnzoo.tasks.sequence_classifier.baselines import classification_baselines

        return classification_baselines(datamodule)

    def __init__(
        self,
        cell: str = "lstm",
        input_size: int = 40,
        num_classes: int = 35,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        cell_options: dict[str, Any] | None = None,
    ):
        super().__init__()
        self._store_config(
            cell=cell, input_size=input_size, num_classes=num_classes, hidden_size=hidden_size,
            num_layers=num_layers, dropout=dropout, bidirectional=bidirectional, cell_options=cell_options,
        )
        self.num_directions = 2 if bidirectional else 1
        # No parameters and no state: a saved model's state dict is the same with or without it. With p=0 it
        # returns its input and draws no random numbers, so dropout 0 trains exactly as before it existed.
        self.drop = nn.Dropout(dropout)
        self.rnn = build_layer(cell, input_size, hidden_size, num_layers, dropout, bidirectional, cell_options)
        self.head = nn.Linear(self.num_directions * hidden_size, num_classes)

    def forward(self, features: Tensor, *, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """``features`` (B, T, input_size), padded -> class logits (B, num_classes)."""
        _, state = self.rnn(self.drop(features), lengths=lengths)
        return self.head(self.drop(last_layer_state(state, self.num_directions)))

    def synthetic_input(self, steps, generator):
        """Smooth random features (a random walk per feature, standardised)."""
        walk = torch.randn(steps, self.config["input_size"], generator=generator).cumsum(0)
        return ((walk - walk.mean(0)) / (walk.std(0) + 1e-6)).unsqueeze(0)

    @property
    def classes(self) -> list[str]:
        """The class names, index by index (from the training data)."""
        return list(self.require_preprocessing("classes").classes)

    def predict_proba(self, sequences: Any, *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(N, num_classes)`` of raw sequences, in :attr:`classes` order.

        ``sequences``: one or a list of ``(T, features)`` arrays in the training data's units, or WAV paths for a
        model trained on audio through the front end (they are read and featurised as in training).
        """
        front_end = self.require_preprocessing("predict_proba()")
        batch_size = whole_number(batch_size, "batch_size", 1)
        items = as_batch(sequences, what="sequences", one="sequence (a (steps, features) array or a WAV path)")
        many = len(items) > 1
        features = [front_end.encode(x, f"sequences[{i}]" if many else "sequence") for i, x in enumerate(items)]
        out = []
        with self.inference() as weight:
            for start in range(0, len(features), batch_size):
                padded, lengths = pad(features[start:start + batch_size])
                logits = self(torch.from_numpy(padded).to(device=weight.device, dtype=weight.dtype),
                              lengths=torch.from_numpy(lengths))
                out.append(torch.softmax(logits.float(), -1).cpu().numpy())
        return np.concatenate(out)

    def classify(self, sequences: Any, *, batch_size: int = 64) -> list[str]:
        """The most probable class name of each raw sequence (see :meth:`predict_proba`)."""
        names = self.classes
        return [names[i] for i in self.predict_proba(sequences, batch_size=batch_size).argmax(-1)]

    def accuracy(self, sequences: Any, labels: Sequence[str]) -> float:
        """Share of raw sequences classified as their ``labels`` (class names; an unknown name is an error)."""
        front_end = self.require_preprocessing("accuracy()")
        truth = [front_end.label_index(label) for label in labels]
        predicted = self.predict_proba(sequences).argmax(-1)
        if len(truth) != len(predicted):
            raise PreprocessingError(f"{len(predicted)} sequences but {len(truth)} labels; give one label each")
        return float(np.mean(predicted == np.asarray(truth)))

    def predict_from_files(self, inputs, options):
        """WAV or .npy files -> one line each: the file, its class name and that class's probability."""
        if not inputs:
            raise PreprocessingError("give one or more WAV or .npy files to classify")
        items = [load_array(p) if p.lower().endswith(".npy") else p for p in inputs]
        probs = self.predict_proba(items)
        names = self.classes
        lines = [f"{path}\t{names[int(p.argmax())]}\t{float(p.max()):.4f}" for path, p in zip(inputs, probs)]
        return write_or_return("\n".join(lines), options.out)
