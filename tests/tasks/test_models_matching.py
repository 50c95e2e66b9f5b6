"""Parameter matching: every cell's model within ±2% of the budget, and the zoo's sizes are the matched ones."""

import pytest

from rnnzoo.models import match_hidden_sizes
from rnnzoo.families import FAMILIES
from rnnzoo.models.matching import count_parameters
from rnnzoo.tasks import task_model_class


def test_chung_2014_music_budget():
    """Chung et al. 2014, Table 1, music: ~20k parameters with 88 inputs and outputs.

    They report LSTM 36, GRU 46 and tanh RNN 100 units. Their counts cannot be reproduced from those sizes
    with 88 inputs, 88 sigmoid outputs and one layer (tanh 100 alone has 27.8k weights that way), so exact
    equality is not the check; what must hold is their ordering (LSTM < GRU < tanh) and an LSTM size close to
    theirs (34 vs 36: the LSTM is the cell whose count they describe best).
    """
    matched = match_hidden_sizes({"task": "piano_roll", "num_pitches": 88}, 20_000)
    assert matched.hidden_sizes == {"rnn": 78, "lstm": 34, "peephole_lstm": 34, "gru": 41}
    sizes = matched.hidden_sizes
    assert sizes["lstm"] <= sizes["peephole_lstm"] < sizes["gru"] < sizes["rnn"]
    assert abs(sizes["lstm"] - 36) <= 2
    for cell in sizes:
        assert abs(matched.relative_error(cell)) <= 0.02
        # The reported count is the real model's, not the fitted quadratic's.
        assert matched.num_params[cell] == count_parameters({"task": "piano_roll"}, cell, sizes[cell])
    assert "peephole_lstm" in matched.table()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_registered_sizes_are_the_matched_sizes(family):
    task, config, budget, _, sizes = FAMILIES[family]
    matched = match_hidden_sizes({"task": task, **config}, budget)
    assert matched.hidden_sizes == sizes
    assert all(abs(matched.relative_error(cell)) <= 0.02 for cell in sizes)


def test_tied_language_model_grows_embedding_with_hidden_size():
    config = {"task": "language_model", "vocab_size": 100, "embedding_dim": None, "tie_weights": True}
    matched = match_hidden_sizes(config, 50_000)
    assert all(abs(matched.relative_error(c)) <= 0.02 for c in matched.hidden_sizes)
    lstm = task_model_class("language_model")(cell="lstm", vocab_size=100, embedding_dim=None, tie_weights=True,
                        hidden_size=matched.hidden_sizes["lstm"])
    assert lstm.embedding.embedding_dim == matched.hidden_sizes["lstm"] == lstm.config["embedding_dim"]
    assert lstm.num_parameters == matched.num_params["lstm"]
    # A fixed embedding width cannot be tied to every size the search tries: the error names the fix.
    with pytest.raises(ValueError, match="embedding_dim=None makes it follow hidden_size"):
        match_hidden_sizes({**config, "embedding_dim": 64}, 50_000)


def test_impossible_budget_is_an_error():
    # A tanh piano-roll model has 267 parameters at hidden size 1 and 448 at 2: none is within 2% of 300.
    with pytest.raises(ValueError, match="within 2%"):
        match_hidden_sizes({"task": "piano_roll"}, 300)


def test_task_is_required():
    with pytest.raises(ValueError, match="'task' key"):
        match_hidden_sizes({"num_pitches": 88}, 20_000)
