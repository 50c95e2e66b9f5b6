"""Count baselines for language models: the Kneser-Ney bigram against a hand computation, each p(. | v) a
distribution, and the verdict's items recomputed from a text's own token stream."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo.tasks.language_model.baselines import KNESER_NEY, UNIGRAM, BigramCounts


def test_kneser_ney_by_hand():
    # stream 0 1 0 2 0 1 (V = 3): bigrams (0,1) x2, (1,0), (0,2), (2,0); c(0) = 3, N1+(0,.) = 2
    stream = np.array([0, 1, 0, 2, 0, 1])
    counts = BigramCounts(stream[:-1], stream[1:], 3)
    d = 3 / (3 + 2 * 1)  # n1 = 3 types seen once, n2 = 1 seen twice
    assert counts.discount == pytest.approx(d)
    cont = {0: (2 + 0.5) / (4 + 1.5), 1: (1 + 0.5) / (4 + 1.5), 2: (1 + 0.5) / (4 + 1.5)}  # N1+(., w) = 2, 1, 1
    want = (2 - d) / 3 + d * 2 / 3 * cont[1]
    assert counts.kneser_ney(np.array([0]), np.array([1]))[0] == pytest.approx(want, rel=1e-12)
    assert counts.kneser_ney(np.array([0]), np.array([0]))[0] == pytest.approx(d * 2 / 3 * cont[0], rel=1e-12)


def test_each_context_gives_a_distribution():
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 50, 5000) % rng.integers(1, 50, 5000)  # skewed counts, some words rare
    counts = BigramCounts(stream[:-1], stream[1:], 60)  # 10 words never seen at all
    every = np.arange(60)
    for v in (0, 1, 7, 55):  # frequent, rarer, and an unseen context
        assert counts.kneser_ney(np.full(60, v), every).sum() == pytest.approx(1.0, abs=1e-12)
    assert counts.unigram.sum() == pytest.approx(1.0, abs=1e-12)


def test_the_verdict_items_are_the_text_rows(tmp_path):
    from rnnzoo.data import TextDataModule
    from rnnzoo.tasks.language_model import LanguageModel

    words = " ".join(f"w{(i * i) % 37}" for i in range(3000))
    (tmp_path / "t.txt").write_text(words + "\n")
    dm = TextDataModule(tmp_path / "t.txt", level="word", batch_size=4, bptt=10)
    dm.setup()
    baselines = LanguageModel.baselines(dm)  # what rnnzoo compare asks the task for
    kn, uni = baselines[KNESER_NEY], baselines[UNIGRAM]
    rows = dm.datasets["test"].rows.numpy()
    assert len(kn["items"]["ppl"]["num"]) == rows.shape[0] * len(dm.datasets["test"])  # rows x windows
    train = dm.datasets["train"].rows.numpy()
    counts = BigramCounts(train[:, :-1], train[:, 1:], len(dm.vocab))
    nll = -np.log(counts.kneser_ney(rows[:, :-1], rows[:, 1:])).sum()  # the whole test stream at once
    assert kn["scores"]["ppl"] == pytest.approx(math.exp(nll / rows[:, 1:].size), rel=1e-9)
    # each word has at most two successors here (i^2 mod 37 tells i up to its sign): bigrams help
    assert kn["scores"]["ppl"] < uni["scores"]["ppl"]
