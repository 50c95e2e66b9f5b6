"""Saving and loading model folders (no network): round trips, the model card, and every bad input."""

import json
import pickle

import pytest
import torch
import yaml

import rnnzoo
from rnnzoo.factory import from_pretrained
from rnnzoo.hub import ModelFileError, save_pretrained, sha256_file
from rnnzoo.tasks.forecaster import SeriesScaler
from rnnzoo.tasks.language_model import TextVocabulary
from rnnzoo.tasks.piano_roll import KeyRange
from rnnzoo.tasks.sequence_classifier import FeatureFrontEnd
from rnnzoo.models import TASKS
from rnnzoo.registry import PretrainedInfo, UnknownModelError

INPUTS = {  # one small batch per task, with lengths
    "piano_roll": lambda: torch.rand(2, 6, 88).round(),
    "sequence_classifier": lambda: torch.randn(2, 6, 40),
    "language_model": lambda: torch.randint(0, 256, (2, 6)),
    "forecaster": lambda: torch.randn(2, 6, 1),
}


# One preprocessing of each task's type, as its DataModule would write it (sizes of the models built below).
PREPROCESSING = {
    "piano_roll": lambda: KeyRange(step_quarters=0.5),
    "sequence_classifier": lambda: FeatureFrontEnd(classes=[f"w{i}" for i in range(35)],
                                                   normalise={"mean": [0.5] * 40, "std": [2.0] * 40}),
    "language_model": lambda: TextVocabulary(level="char", vocab=["<unk>", *map(chr, range(1, 256))]),
    "forecaster": lambda: SeriesScaler(mean=[[0.5]], std=[[2.0]], input_length=6, horizon=24),
}


@pytest.fixture
def saved(tmp_path):
    """A saved GRU piano-roll folder and the model it came from."""
    model = rnnzoo.create_model("pianoroll-gru-20k")
    return save_pretrained(model, tmp_path / "model", preprocessing=KeyRange(step_quarters=0.25)), model


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("cell", ["lstm", "peephole_lstm"])
def test_round_trip_gives_identical_outputs(task, cell, tmp_path):
    model = TASKS[task](cell=cell, hidden_size=8)
    with torch.no_grad():  # peepholes start at zero; make them count so a lost peephole would show
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    preprocessing = PREPROCESSING[task]()
    folder = save_pretrained(model, tmp_path, preprocessing=preprocessing)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    loaded = rnnzoo.load(f"local-dir:{folder}")
    assert type(loaded) is type(model) and loaded.config == model.config and not loaded.training
    assert loaded.preprocessing == preprocessing and type(loaded.preprocessing) is type(preprocessing)
    x = INPUTS[task]()
    out, expected = loaded(x, lengths=[6, 3]), model.eval()(x, lengths=[6, 3])
    for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in (out, expected))):
        assert torch.equal(a, b)  # same weights, same code, same input: bit-identical


def test_tied_weights_stay_tied(tmp_path):
    model = rnnzoo.create_model("charlm-gru-1m", vocab_size=50, embedding_dim=16, hidden_size=16, tie_weights=True)
    loaded = from_pretrained(save_pretrained(model, tmp_path))
    assert loaded.head.weight is loaded.embedding.weight
    assert torch.equal(loaded.head.weight, model.head.weight)


def test_card_front_matter_without_and_with_metrics(saved, tmp_path):
    folder, model = saved
    card = (folder / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["library_name"] == "rnnzoo" and "gru" in front["tags"]
    assert "model-index" not in front and "No training run" in card  # nothing measured, nothing claimed

    info = PretrainedInfo(  # a stand-in to render the card; these numbers describe no real run
        architecture="pianoroll-gru-20k", tag="test", task="piano_roll", dataset="jsb_chorales", split="test",
        data_sha256="ab" * 32, num_params=model.num_parameters, metrics={"nll": 8.5}, recipe="recipes/x.yaml",
        license="Apache-2.0", paper="arXiv:1412.3555", weights_sha256="cd" * 32, source="bundled:x",
    )
    card = (save_pretrained(model, tmp_path / "m", pretrained_info=info, repo_id="me/gru") / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["datasets"] == ["jsb_chorales"] and front["license"] == "apache-2.0"
    result = front["model-index"][0]["results"][0]
    assert result["metrics"] == [{"type": "nll", "value": 8.5}] and result["dataset"]["split"] == "test"
    assert 'rnnzoo.load("hf-hub:me/gru")' in card


def test_preprocessing_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="plain JSON.*tolist"):
        save_pretrained(rnnzoo.create_model("pianoroll-rnn-20k"), tmp_path, preprocessing=KeyRange(source=torch.zeros(2)))


def test_preprocessing_of_another_task_is_refused(tmp_path):
    with pytest.raises(ValueError, match="needs preprocessing {'piano_roll'.*got \\['timeseries'\\]"):
        save_pretrained(rnnzoo.create_model("pianoroll-rnn-20k"), tmp_path,
                        preprocessing={"timeseries": {"mean": [[0.0]], "std": [[1.0]], "input_length": 4, "horizon": 2}})


# ------------------------------------------------------------------------------------------------- bad input
def test_truncated_weights(saved):
    folder, _ = saved
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=r"model\.safetensors is not a readable safetensors file.*download again"):
        from_pretrained(folder)


def test_corrupt_weights(saved):
    folder, _ = saved
    (folder / "model.safetensors").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        from_pretrained(folder)


def test_config_unknown_keys_missing_architecture_and_bad_json(saved):
    folder, _ = saved
    path = folder / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "hidden_dim": 3}))
    with pytest.raises(ModelFileError, match=r"config\.json has unknown keys \['hidden_dim'\]"):
        from_pretrained(folder)
    path.write_text(json.dumps({k: v for k, v in config.items() if k != "architecture"}))
    with pytest.raises(ModelFileError, match="has no 'architecture'"):
        from_pretrained(folder)
    path.write_text(json.dumps({**config, "architecture": "pianoroll-gru-2k"}))
    with pytest.raises(UnknownModelError, match="pianoroll-gru-20k"):
        from_pretrained(folder)
    path.write_text("{not json")
    with pytest.raises(ModelFileError, match="is not valid JSON"):
        from_pretrained(folder)
    path.unlink()
    with pytest.raises(ModelFileError, match="has no config.json"):
        from_pretrained(folder)


def test_missing_and_extra_keys(saved, tmp_path):
    from safetensors.torch import load_file, save_file

    folder, model = saved
    weights = folder / "model.safetensors"
    state = load_file(weights)
    save_file({k: v for k, v in state.items() if k != "head.bias"}, weights)
    with pytest.raises(ModelFileError, match=r"missing keys \['head.bias'\], unexpected keys \[\]"):
        from_pretrained(folder)
    save_file({**state, "head.scale": torch.ones(1)}, weights)
    with pytest.raises(ModelFileError, match=r"unexpected keys \['head.scale'\]"):
        from_pretrained(folder)
    assert from_pretrained(folder, strict=False).config == model.config  # opting out loads what fits
    # Right keys, wrong shapes through a size override: the override is named, not config.json.
    save_file({k: v for k, v in model.state_dict().items()}, weights)
    with pytest.raises(ModelFileError, match=r"the override\(s\) \{'hidden_size': 40\} change the shapes"):
        from_pretrained(folder, hidden_size=40)


def test_sha256_mismatch(saved):
    folder, _ = saved
    assert from_pretrained(folder, expected_sha256=sha256_file(folder / "model.safetensors")) is not None
    with pytest.raises(ModelFileError, match="sha256 .* does not match the expected 000"):
        from_pretrained(folder, expected_sha256="0" * 64)


class _Explodes:
    """Unpickling this writes a marker file: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickles_are_never_loaded(saved, tmp_path):
    folder, _ = saved
    marker = tmp_path / "unpickled"
    for name in ("pytorch_model.bin", "model.pt"):
        (folder / name).write_bytes(pickle.dumps(_Explodes(marker)))
    from_pretrained(folder)  # safetensors present: it is used, the pickles are ignored
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"\['model.pt', 'pytorch_model.bin'\] but no model.safetensors"):
        from_pretrained(folder)
    assert not marker.exists()


def test_bad_locations(tmp_path):
    with pytest.raises(ModelFileError, match="no such folder"):
        rnnzoo.load(f"local-dir:{tmp_path / 'nope'}")
    with pytest.raises(ModelFileError, match="neither a folder, a zoo name nor a Hub repo id"):
        from_pretrained(str(tmp_path / "a" / "b" / "c"))
    with pytest.raises(ModelFileError, match="has no config.json"):
        from_pretrained(tmp_path)


def test_config_that_does_not_fit_its_architecture(saved):
    folder, _ = saved
    path = folder / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "init_args": {**config["init_args"], "cell": "lstmm"}}))
    with pytest.raises(ModelFileError, match=r"config\.json: init_args do not fit 'pianoroll-gru-20k'.*lstmm"):
        from_pretrained(folder)
    path.write_text(json.dumps({**config, "task": "forecaster"}))
    with pytest.raises(ModelFileError, match="says task 'forecaster'"):
        from_pretrained(folder)


def test_bad_hf_hub_uri():
    with pytest.raises(ValueError, match="expected hf-hub:org/repo"):
        rnnzoo.load("hf-hub:no-org")
