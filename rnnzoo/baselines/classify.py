"""A sequence classifier's baselines from a comparison, as models: the majority class, and logistic regression on
each sequence pooled over its steps (mean, std, min and max of every standardised feature), reading raw input —
WAV files or ``(T, F)`` arrays — through the same front end as the comparison's networks."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.baselines.arrays import FittedBaseline

POOLED_KEYS = {"mean", "scale", "coef", "intercept"}


def pool(features: np.ndarray) -> np.ndarray:
    """``(4F,)`` summary of one ``(T, F)`` sequence: mean, std, min and max over its steps."""
    x = np.asarray(features, dtype=np.float64)
    return np.concatenate([x.mean(0), x.std(0), x.min(0), x.max(0)])


class BaselineClassifier(FittedBaseline):
    """``method``: ``"majority class"`` or ``"logistic regression on pooled features"``; ``preprocessing``: the
    networks' front end config; ``arrays``: the fitted numbers (``majority``; or the standardiser's ``mean`` and
    ``scale``, and the ``coef`` ``(C, 4F)`` and ``intercept`` ``(C,)`` of the logistic regression as one softmax over
    the C classes)."""

    task = "sequence_classifier"

    @classmethod
    def expected_keys(cls, method: str) -> set[str]:
        return {"majority"} if method.startswith("majority") else POOLED_KEYS

    @property
    def front_end(self):
        from rnnzoo.tasks.sequence_classifier.preprocessing import FeatureFrontEnd

        return FeatureFrontEnd.from_config(self.preprocessing, task=self.task)

    @property
    def classes(self) -> list[str]:
        return list(self.front_end.classes)

    def predict_proba(self, sequences: Any) -> np.ndarray:
        """``(N, classes)`` probabilities of raw sequences (WAV paths or arrays), in :attr:`classes` order."""
        from rnnzoo.tasks.raw_input import as_batch

        front_end = self.front_end
        items = as_batch(sequences, what="sequences", one="sequence (a (steps, features) array or a WAV path)")
        if "majority" in self.arrays:
            probs = np.zeros((len(items), len(front_end.classes)))
            probs[:, int(self.arrays["majority"][0])] = 1.0
            return probs
        x = np.stack([pool(front_end.encode(item, f"sequences[{i}]")) for i, item in enumerate(items)])
        logits = (x - self.arrays["mean"]) / self.arrays["scale"] @ self.arrays["coef"].T + self.arrays["intercept"]
        logits -= logits.max(1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(1, keepdims=True)

    def classify(self, sequences: Any) -> list[str]:
        """The most probable class name of each raw sequence."""
        return [self.classes[i] for i in self.predict_proba(sequences).argmax(-1)]

    def predict_from_files(self, inputs: list[str], options: Any) -> str | None:
        """``rnnzoo predict <baseline folder> a.wav b.npy``: one line per file, as a network prints it."""
        from rnnzoo.tasks.base import PreprocessingError
        from rnnzoo.tasks.raw_input import load_array, write_or_return

        if not inputs:
            raise PreprocessingError("give one or more WAV or .npy files to classify")
        items = [load_array(p) if p.lower().endswith(".npy") else p for p in inputs]
        probs = self.predict_proba(items)
        lines = [f"{path}\t{self.classes[int(p.argmax())]}\t{float(p.max()):.4f}" for path, p in zip(inputs, probs)]
        return write_or_return("\n".join(lines), options.out)
