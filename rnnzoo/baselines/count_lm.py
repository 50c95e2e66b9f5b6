"""A language model's count baselines from a comparison, as models: the interpolated Kneser-Ney bigram and the
add-one unigram (:mod:`rnnzoo.tasks.language_model.baselines`), with the networks' tokenisation and vocabulary, so
``perplexity(text)`` reads a text as the comparison's networks read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.baselines.arrays import FittedBaseline

BIGRAM_KEYS = {"codes", "counts", "context", "followers", "continuation", "discount", "unigram"}


class CountLanguageModel(FittedBaseline):
    """``method``: the comparison's name of the baseline; ``preprocessing``: the networks' text vocabulary config;
    ``arrays``: the training counts (:class:`~rnnzoo.tasks.language_model.baselines.BigramCounts`' fields)."""

    task = "language_model"

    @classmethod
    def expected_keys(cls, method: str) -> set[str]:
        return BIGRAM_KEYS

    @property
    def vocabulary(self):
        from rnnzoo.tasks.language_model.preprocessing import TextVocabulary

        return TextVocabulary.from_config(self.preprocessing, task=self.task)

    def _counts(self):
        from rnnzoo.tasks.language_model.baselines import BigramCounts

        counts = BigramCounts.__new__(BigramCounts)  # the saved fields, not a recount
        for key, value in self.arrays.items():
            setattr(counts, key, value)
        counts.discount = float(self.arrays["discount"][0])
        counts.size = len(self.arrays["unigram"])
        return counts

    def perplexity(self, text: str) -> float:
        """Perplexity of ``text`` as one stream (every token but the first predicted from the one before)."""
        from rnnzoo.tasks.base import PreprocessingError

        ids = self.vocabulary.encode(text)
        if len(ids) < 2:
            raise PreprocessingError(f"the text has {len(ids)} tokens: too few (one to read, one to predict)")
        counts = self._counts()
        probability = counts.kneser_ney(ids[:-1], ids[1:]) if "Kneser" in self.method else counts.unigram[ids[1:]]
        return float(np.exp(-np.mean(np.log(probability))))

    def predict_from_files(self, inputs: list[str], options: Any) -> str | None:
        """``rnnzoo predict <baseline folder> TEXT_OR_FILE --perplexity``."""
        from rnnzoo.tasks.base import PreprocessingError
        from rnnzoo.tasks.raw_input import write_or_return

        if not getattr(options, "perplexity", False):
            raise PreprocessingError(f"the saved {self.method} baseline scores text and does not write it: add "
                                     f"--perplexity")
        if len(inputs) == 1 and Path(inputs[0]).is_file():
            text = Path(inputs[0]).read_text(encoding="utf-8")
        else:
            text = " ".join(inputs)
        return write_or_return(f"perplexity {self.perplexity(text):.4f}", options.out)
