"""What a language model must beat: counts. An interpolated Kneser-Ney bigram model and an add-one unigram model,
estimated on the training split's tokens, with the network's vocabulary and ``<unk>``, scored on the same
validation and test items (the rows of each window, in the loaders' order) as perplexity.

Kneser-Ney bigram (Chen & Goodman 1998, interpolated, one discount):

    p(w | v) = max(c(v, w) - D, 0) / c(v)  +  D * N1+(v, .) / c(v) * p_cont(w)        (c(v) > 0; else p_cont(w))
    p_cont(w) = (N1+(., w) + 1/2) / (N1+(., .) + V/2)        D = n1 / (n1 + 2 n2)

``N1+(v, .)``: distinct words seen after ``v``; ``N1+(., w)``: distinct words seen before ``w``; ``n1``, ``n2``: bigram
types seen once and twice. The half count in ``p_cont`` keeps words never seen as a continuation above zero; each
``p(. | v)`` sums to 1 over the vocabulary (a test checks it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

KNESER_NEY = "Kneser-Ney bigram (counts)"
UNIGRAM = "unigram (add-one counts)"


class BigramCounts:
    """The counts of a token stream's bigrams and the Kneser-Ney and unigram probabilities they give."""

    def __init__(self, previous: np.ndarray, following: np.ndarray, vocab_size: int):
        v, w, size = previous.astype(np.int64).ravel(), following.astype(np.int64).ravel(), vocab_size
        self.size = size
        codes, counts = np.unique(v * size + w, return_counts=True)  # bigram types and their counts
        self.codes, self.counts = codes, counts
        self.context = np.bincount(v, minlength=size).astype(np.float64)  # c(v)
        self.followers = np.bincount(codes // size, minlength=size).astype(np.float64)  # N1+(v, .)
        predecessors = np.bincount(codes % size, minlength=size).astype(np.float64)  # N1+(., w)
        self.continuation = (predecessors + 0.5) / (len(codes) + 0.5 * size)
        n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
        self.discount = float(n1 / (n1 + 2 * n2)) if n1 + n2 else 0.5
        self.unigram = (np.bincount(w, minlength=size) + 1.0) / (len(w) + size)

    def pair_counts(self, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        codes = v.astype(np.int64) * self.size + w.astype(np.int64)
        at = np.clip(np.searchsorted(self.codes, codes), 0, len(self.codes) - 1)
        return np.where(self.codes[at] == codes, self.counts[at], 0).astype(np.float64)

    def kneser_ney(self, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``p(w | v)`` elementwise."""
        context = self.context[v]
        seen = context > 0
        safe = np.where(seen, context, 1.0)
        mixed = (np.maximum(self.pair_counts(v, w) - self.discount, 0.0) / safe
                 + self.discount * self.followers[v] / safe * self.continuation[w])
        return np.where(seen, mixed, self.continuation[w])


def language_model_baselines(datamodule: Any) -> dict[str, dict[str, Any]]:
    """Per baseline: ``{"scores": {"ppl"}, "items": {"ppl": {"num", "den"}}}`` on the test split and
    ``"val_scores"`` / ``"val_items"`` on the validation split, items as the language model's objective cuts them."""
    rows = datamodule.datasets["train"].rows.numpy()  # (B, L): each row one contiguous stretch of the stream
    counts = BigramCounts(rows[:, :-1], rows[:, 1:], len(datamodule.vocab))
    state = {"codes": counts.codes, "counts": counts.counts, "context": counts.context,
             "followers": counts.followers, "continuation": counts.continuation,
             "discount": np.array([counts.discount]), "unigram": counts.unigram}
    out: dict[str, dict[str, Any]] = {KNESER_NEY: {"state": state}, UNIGRAM: {"state": state}}
    for split, prefix in (("val", "val_"), ("test", "")):
        sums = {KNESER_NEY: [], UNIGRAM: []}
        lengths = []
        for batch in getattr(datamodule, f"{split}_dataloader")():
            v, w = batch["inputs"].numpy(), batch["targets"].numpy()  # (B, T) each
            sums[KNESER_NEY] += (-np.log(counts.kneser_ney(v, w))).sum(1).tolist()
            sums[UNIGRAM] += (-np.log(counts.unigram[w])).sum(1).tolist()
            lengths += [float(w.shape[1])] * len(w)
        for name, nll in sums.items():
            out[name][f"{prefix}scores"] = {"ppl": float(np.exp(np.sum(nll) / np.sum(lengths)))}
            out[name][f"{prefix}items"] = {"ppl": {"num": nll, "den": lengths}}
    return out
