"""The registry: names, filters, siblings, errors, and pretrained metadata (with stand-in entries)."""

import dataclasses

import pytest
import torch

import rnnzoo
from rnnzoo import registry
from rnnzoo.hub import ModelFileError, sha256_file
from rnnzoo.models import PianoRollModel
from rnnzoo.registry import NoPretrainedWeightsError, PretrainedInfo, UnknownModelError

CELL_NAMES = ("rnn", "lstm", "peephole-lstm", "gru")


@pytest.fixture
def clean_registry(monkeypatch):
    """Registry dicts copied per test, so entries a test registers do not leak into others."""
    monkeypatch.setattr(registry, "_model_entrypoints", dict(registry._model_entrypoints))
    monkeypatch.setattr(registry, "_model_pretrained", {})


def test_every_family_has_four_siblings_with_one_budget():
    names = rnnzoo.list_models()
    for family in ("pianoroll", "classifier", "charlm", "wordlm", "tiedwordlm", "forecaster", "quantile-forecaster"):
        siblings = rnnzoo.list_models(f"{family}-*")
        assert len(siblings) == 4, siblings
        budgets = {name.rsplit("-", 1)[1] for name in siblings}
        assert len(budgets) == 1
        assert {name[len(family) + 1 : name.rfind("-")] for name in siblings} == set(CELL_NAMES)
    assert rnnzoo.list_models("*-gru-*") == sorted(n for n in names if "-gru-" in n)
    assert rnnzoo.list_models(["pianoroll-gru-*", "charlm-gru-*"]) == ["charlm-gru-1m", "pianoroll-gru-20k"]


def test_create_model_builds_the_named_cell_and_applies_overrides():
    model = rnnzoo.create_model("pianoroll-peephole-lstm-20k", dropout=0.1, num_layers=2)
    assert isinstance(model.rnn, rnnzoo.nn.PeepholeLSTM)
    assert model.architecture == "pianoroll-peephole-lstm-20k"
    assert model.config["dropout"] == 0.1 and model.rnn.num_layers == 2


def test_only_architectures_with_trained_weights_are_listed_as_pretrained():
    from rnnzoo.weights import BUNDLED

    assert rnnzoo.list_pretrained() == sorted(info.name for info in BUNDLED)
    assert rnnzoo.list_pretrained("pianoroll-*") == [f"pianoroll-{c}-20k.jsb" for c in ("gru", "lstm", "peephole-lstm", "rnn")]
    assert "charlm-gru-1m" not in " ".join(rnnzoo.list_models(pretrained=True))
    with pytest.raises(NoPretrainedWeightsError, match="'charlm-gru-1m' has no pretrained weights"):
        rnnzoo.create_model("charlm-gru-1m", pretrained=True)
    with pytest.raises(NoPretrainedWeightsError, match="no pretrained weights"):
        rnnzoo.load("charlm-gru-1m.ptb")
    assert rnnzoo.create_model("pianoroll-gru-20k", pretrained=True).architecture == "pianoroll-gru-20k"


def test_unknown_name_lists_the_closest():
    with pytest.raises(UnknownModelError, match="'pianoroll-gru-20k'"):
        rnnzoo.create_model("pianoroll-gru-2k")
    with pytest.raises(UnknownModelError, match="'charlm-lstm-1m'"):
        rnnzoo.load("charlm-lstm")


def test_repo_like_name_needs_hf_hub_prefix():
    with pytest.raises(ValueError, match="'hf-hub:me/my-gru'"):
        rnnzoo.load("me/my-gru")
    with pytest.raises(ValueError, match="hf-hub:"):
        rnnzoo.create_model("me/my-gru")


def test_register_model_decorator(clean_registry):
    @rnnzoo.register_model
    def tiny_piano_gru(**overrides):
        return PianoRollModel(**{"cell": "gru", "hidden_size": 4, **overrides})

    assert "tiny-piano-gru" in rnnzoo.list_models("tiny-*")
    assert rnnzoo.create_model("tiny-piano-gru").rnn.hidden_size == 4
    with pytest.raises(ValueError, match="already registered"):
        rnnzoo.register_model(tiny_piano_gru)
    with pytest.raises(ValueError, match="may not contain"):
        rnnzoo.register_model(tiny_piano_gru, name="a.b")


def _stand_in_entry(folder, sha256):
    """A PretrainedInfo for an untrained stand-in: it exists only to test the loading path, never shipped."""
    return PretrainedInfo(
        architecture="pianoroll-gru-20k", tag="test", task="piano_roll", dataset="none", split="test",
        data_sha256="-", num_params=0, metrics={}, recipe="-", license="Apache-2.0", paper="-",
        weights_sha256=sha256, source=f"bundled:{folder.name}",
    )


def test_bundled_entry_loads_offline_and_checks_sha256(clean_registry, tmp_path, monkeypatch):
    monkeypatch.setattr("rnnzoo.weights.WEIGHTS_DIR", tmp_path)
    model = rnnzoo.create_model("pianoroll-gru-20k")
    folder = rnnzoo.save_pretrained(model, tmp_path / "pianoroll-gru-20k.test", preprocessing={"piano_roll": {"step_quarters": 0.25}})
    info = registry.register_pretrained(_stand_in_entry(folder, sha256_file(folder / "model.safetensors")))

    assert rnnzoo.list_pretrained("pianoroll-*") == ["pianoroll-gru-20k.test"]
    loaded = rnnzoo.load("pianoroll-gru-20k.test")
    assert loaded.preprocessing.step_quarters == 0.25 and loaded.architecture == "pianoroll-gru-20k"
    roll = torch.rand(2, 5, 88).round()
    assert torch.equal(loaded(roll), model.eval()(roll))
    assert isinstance(rnnzoo.create_model("pianoroll-gru-20k", pretrained=True), PianoRollModel)  # first tag

    registry.register_pretrained(dataclasses.replace(info, weights_sha256="0" * 64))
    with pytest.raises(ModelFileError, match=r"model\.safetensors: sha256 .* does not match"):
        rnnzoo.load("pianoroll-gru-20k.test")
    with pytest.raises(NoPretrainedWeightsError, match="no weights tagged 'jsb'.*pianoroll-gru-20k.test"):
        rnnzoo.load("pianoroll-gru-20k.jsb")
