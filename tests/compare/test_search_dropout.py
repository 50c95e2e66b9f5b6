"""The dropout dimension of ``compare``'s Optuna search, and the sequence classifier's dropout.

The search: every trial draws a dropout in the range (uniformly, beside the learning rate), the best trial's rate
is in the config of the model its cell's runs train (and save), it is logged with the learning rate, a study
holding another range is not continued, and a range outside [0, 1) is refused before anything runs.

The classifier: dropout acts on the input features and the pooled state in training mode only, so eval outputs,
saved weights and the bundled JapaneseVowels models are what they were.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

optuna = pytest.importorskip("optuna")

from rnnzoo.compare import compare  # noqa: E402
from rnnzoo.compare.errors import CompareOptionError  # noqa: E402
from rnnzoo.compare.search import SearchSpace, StudyMismatchError, with_dropout  # noqa: E402
from rnnzoo.tasks.layers import last_layer_state  # noqa: E402
from rnnzoo.tasks.sequence_classifier import SequenceClassifier  # noqa: E402
from tests.support.tiny_search import tiny_search  # noqa: E402

DROPOUT_RANGE = (0.1, 0.4)
STUDY = "t-drop"


def tiny(out, store, storage, **kwargs):
    """2 trials of 1 epoch drawing a dropout in DROPOUT_RANGE, a 1-epoch run, its model saved."""
    options = dict(lr_search=2, search_epochs=1, lr_range=(1e-3, 3e-2), dropout_range=DROPOUT_RANGE, save_models=True)
    return tiny_search(out, store, storage, STUDY, **{**options, **kwargs})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def searched(tmp_path_factory, store):
    out = tmp_path_factory.mktemp("search")
    storage = f"sqlite:///{out / 'study.db'}"
    return out, storage, tiny(out, store, storage)


def test_every_trial_draws_a_dropout_in_the_range(searched):
    _, _, results = searched
    search = results["lr_search"]["gru"]
    assert len(search["trials"]) == 2
    for t in search["trials"]:
        assert set(t["params"]) == {"lr", "dropout"}
        assert DROPOUT_RANGE[0] <= t["params"]["dropout"] <= DROPOUT_RANGE[1]
    best = search["trials"][search["best_trial"]]
    assert search["dropout"] == best["params"]["dropout"] and search["chosen"] == best["params"]["lr"]
    assert results["meta"]["lr_search"]["dropout_range"] == list(DROPOUT_RANGE)


def test_the_chosen_dropout_trains_the_cells_runs(searched, store):
    import rnnzoo
    from mlflow.tracking import MlflowClient

    _, _, results = searched
    search = results["lr_search"]["gru"]
    saved = Path(results["models"]["gru"]["path"])
    assert json.loads((saved / "config.json").read_text())["init_args"]["dropout"] == search["dropout"]
    assert rnnzoo.load(str(saved)).config["dropout"] == search["dropout"]
    assert results["runs"][0]["lr"] == search["chosen"]
    # the reader of results.md is told the rate that was chosen for them, not only results.json
    assert f"chosen: gru {search['dropout']:.3g}" in Path(results["files"]["results_md"]).read_text()
    client = MlflowClient(tracking_uri=store)
    parent = client.get_run(results["meta"]["parent_run_id"])
    assert float(parent.data.params["search.gru.dropout"]) == search["dropout"]
    for t in search["trials"]:
        assert float(client.get_run(t["run_id"]).data.params["trial.dropout"]) == pytest.approx(
            t["params"]["dropout"], rel=1e-12)


def test_a_study_of_another_dropout_range_is_not_continued(searched, store, tmp_path):
    _, storage, _ = searched
    with pytest.raises(StudyMismatchError, match="dropout_range"):
        tiny(tmp_path / "other", store, storage, dropout_range=(0.0, 0.2))
    with pytest.raises(StudyMismatchError, match="dropout_range"):  # nor one without dropout
        tiny(tmp_path / "none", store, storage, dropout_range=None)


@pytest.mark.parametrize("bad", [(0.0, 1.0), (-0.1, 0.3), (0.5, 0.2), (0.2, 1.5)])
def test_a_dropout_range_outside_0_1_is_refused(bad, tmp_path):
    with pytest.raises(CompareOptionError, match=r"must lie in \[0, 1\).*--dropout-range 0.0 0.5"):
        compare("co2", lr_search=2, dropout_range=bad, out_dir=tmp_path, log=lambda line: None)
    assert not any(tmp_path.iterdir())  # refused before anything was written
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\)"):
        SearchSpace(2, dropout_range=bad)


def test_a_dropout_range_needs_a_search_and_no_dropout_override(tmp_path):
    with pytest.raises(CompareOptionError, match="--lr-search N"):
        compare("co2", dropout_range=(0.0, 0.5), out_dir=tmp_path, log=lambda line: None)
    with pytest.raises(CompareOptionError, match="model_overrides"):
        compare("co2", lr_search=2, dropout_range=(0.0, 0.5), model_overrides={"dropout": 0.1}, out_dir=tmp_path,
                log=lambda line: None)


def test_the_command_refuses_a_bad_dropout_range(capsys):
    from rnnzoo.compare.command import compare_main

    with pytest.raises(SystemExit) as exit_info:
        compare_main(["--data", "co2", "--lr-search", "2", "--dropout-range", "0.2", "1.0"])
    assert exit_info.value.code == 2
    assert "--dropout-range 0.0 0.5" in capsys.readouterr().err


def test_with_dropout_keeps_name_and_size():
    from rnnzoo.compare.models import resolve_models

    zoo, = resolve_models("vowels", cells=("gru",))  # a registered zoo name: its config is read
    dropped = with_dropout(zoo, 0.25)
    assert dropped.model["dropout"] == 0.25 and dropped.model["task"] == "sequence_classifier"
    assert (dropped.name, dropped.hidden_size, dropped.num_params) == (zoo.name, zoo.hidden_size, zoo.num_params)


# ------------------------------------------------------------------------------------------------ classifier
def _classifier(dropout: float) -> SequenceClassifier:
    torch.manual_seed(0)
    return SequenceClassifier("gru", input_size=12, num_classes=9, hidden_size=16, dropout=dropout)


def _batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(4, 7, 12, generator=generator), torch.tensor([7, 5, 6, 3])


def test_classifier_dropout_acts_in_training_only():
    features, lengths = _batch()
    plain, dropped = _classifier(0.0), _classifier(0.5)
    assert plain.state_dict().keys() == dropped.state_dict().keys()  # no parameters, no buffers
    dropped.load_state_dict(plain.state_dict())
    dropped.train()
    torch.manual_seed(2)
    first = dropped(features, lengths=lengths)
    torch.manual_seed(2)
    assert torch.equal(first, dropped(features, lengths=lengths))  # seeded: the same units dropped
    torch.manual_seed(3)
    assert not torch.allclose(first, dropped(features, lengths=lengths))  # other units: other logits
    assert not torch.allclose(first, plain.train()(features, lengths=lengths))
    dropped.eval()
    plain.eval()
    assert torch.equal(dropped(features, lengths=lengths), plain(features, lengths=lengths))
    assert torch.equal(dropped(features, lengths=lengths), dropped(features, lengths=lengths))


def test_classifier_without_dropout_computes_what_it_did():
    features, lengths = _batch()
    model = _classifier(0.0).train()  # dropout 0 draws nothing, even in training
    _, state = model.rnn(features, lengths=lengths)
    before = model.head(last_layer_state(state, model.num_directions))  # the forward pass before dropout existed
    torch.manual_seed(4)
    assert torch.equal(model(features, lengths=lengths), before)
    after = torch.rand(1)
    torch.manual_seed(4)
    assert torch.equal(after, torch.rand(1))  # no random numbers drawn: training runs as before, seed for seed


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bundled_vowels_model_outputs_are_unchanged(cell):
    import rnnzoo
    from rnnzoo.data.speech.japanese_vowels import load_japanese_vowels

    cases, _ = load_japanese_vowels()["test"]
    name = f"vowels-{cell}-20k.japanese-vowels"
    model = rnnzoo.load(name)
    assert model.config["dropout"] == 0.0
    proba = model.predict_proba(cases[:20])
    # The forward pass as it was (no dropout modules), on the same encoded input.
    front_end = model.preprocessing
    from rnnzoo.tasks.raw_input import pad

    padded, lengths = pad([front_end.encode(x, "sequence") for x in cases[:20]])
    with torch.no_grad():
        _, state = model.eval().rnn(torch.from_numpy(padded).float(), lengths=torch.from_numpy(lengths))
        logits = model.head(last_layer_state(state, model.num_directions))
    assert np.array_equal(proba, torch.softmax(logits, -1).numpy())
    # The same weights loaded with a dropout give the same probabilities: eval mode never drops.
    assert np.array_equal(rnnzoo.load(name, dropout=0.3).predict_proba(cases[:20]), proba)


def test_piano_roll_dropout_acts_on_the_output_in_training_only():
    from rnnzoo.tasks.piano_roll.model import PianoRollModel

    torch.manual_seed(0)
    plain = PianoRollModel("gru", hidden_size=16, num_pitches=12)
    dropped = PianoRollModel("gru", hidden_size=16, num_pitches=12, dropout=0.5)
    assert plain.state_dict().keys() == dropped.state_dict().keys()  # no parameters, no buffers
    dropped.load_state_dict(plain.state_dict())
    roll = (torch.rand(2, 9, 12, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    dropped.train()
    torch.manual_seed(2)
    first = dropped(roll)
    assert not torch.allclose(first, plain.train()(roll))
    before = plain.head(plain.rnn(roll)[0])  # the forward pass before dropout existed, dropout 0
    torch.manual_seed(4)
    assert torch.equal(plain(roll), before)
    after = torch.rand(1)
    torch.manual_seed(4)
    assert torch.equal(after, torch.rand(1))  # dropout 0 drew no random numbers: training runs as before
    assert torch.equal(dropped.eval()(roll), plain.eval()(roll))


def test_bundled_piano_roll_model_outputs_are_unchanged():
    import rnnzoo

    model = rnnzoo.load("pianoroll-gru-20k.jsb").eval()
    roll = (torch.rand(1, 16, 88, generator=torch.Generator().manual_seed(5)) < 0.05).float()
    with torch.no_grad():
        assert torch.equal(model(roll), model.head(model.rnn(roll)[0]))
