"""One reading of model sources (``parse_model_source``) behind every loader and command: zoo names, ``hf-hub:``,
``local-dir:`` and the path of an existing folder; and the Hugging Face mixin methods on the model
(``save_pretrained`` / ``push_to_hub`` / ``from_pretrained``) against the loopback Hub."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.errors import RnnzooError
from rnnzoo.factory import ModelSource, parse_model_source
from rnnzoo.hub import ModelFileError
from rnnzoo.registry import NoPretrainedWeightsError, UnknownModelError
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.tasks.piano_roll import PianoRollModel


@pytest.fixture
def saved(tmp_path):
    model = rnnzoo.load("forecaster-gru-20k.co2")
    return model, model.save_pretrained(tmp_path / "my models" / "co2-gru")


def test_each_kind_of_source(saved, tmp_path, monkeypatch):
    _, folder = saved
    assert parse_model_source("forecaster-gru-20k.co2") == ModelSource("zoo", "forecaster-gru-20k.co2")
    assert parse_model_source("hf-hub:me/gru@v1") == ModelSource("hub", "me/gru", "v1")
    assert parse_model_source("hf-hub:me/gru") == ModelSource("hub", "me/gru", None)
    assert parse_model_source(f"local-dir:{folder}") == ModelSource("folder", str(folder))
    assert parse_model_source(folder) == ModelSource("folder", str(folder))  # a Path
    monkeypatch.chdir(tmp_path / "my models")
    # 'co2-gru' is a folder here, and an org/name-shaped path that exists is a folder too, never a Hub id
    assert parse_model_source("co2-gru").kind == "folder"
    (tmp_path / "my models" / "me" / "gru").mkdir(parents=True)
    assert parse_model_source("me/gru") == ModelSource("folder", "me/gru")


def test_sources_that_are_nothing_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelFileError, match=r"looks like a Hugging Face Hub repo id; load it with 'hf-hub:me/gru'"):
        parse_model_source("me/gru")
    with pytest.raises(ModelFileError, match=r"neither a folder, a zoo name nor a Hub repo id"):
        parse_model_source("./runs/models/gru-seed0")
    with pytest.raises(UnknownModelError, match="did you mean 'forecaster-gru-20k'"):
        parse_model_source("forecaster-gru-20kk")
    with pytest.raises(NoPretrainedWeightsError, match="has no weights tagged 'co3'"):
        rnnzoo.load("forecaster-gru-20k.co3")
    with pytest.raises(ModelFileError, match="no such folder"):
        parse_model_source("local-dir:nowhere")
    assert issubclass(ModelFileError, RnnzooError) and issubclass(UnknownModelError, RnnzooError)


def test_load_and_create_model_take_a_folder_path(saved):
    model, folder = saved
    history = np.linspace(330.0, 345.0, 60)
    for loaded in (rnnzoo.load(str(folder)), rnnzoo.load(folder), rnnzoo.create_model(str(folder)),
                   Forecaster.from_pretrained(folder)):
        assert np.array_equal(loaded.forecast(history), model.forecast(history))


def test_model_push_to_hub_and_from_pretrained_round_trip(hub, saved):
    model, _ = saved
    info = model.push_to_hub("me/co2-gru")
    assert info.oid and sorted(hub.state.repos["me/co2-gru"][-1][1]) == ["README.md", "config.json",
                                                                         "model.safetensors"]
    for loaded in (Forecaster.from_pretrained("me/co2-gru"), rnnzoo.load("hf-hub:me/co2-gru"),
                   rnnzoo.load(f"hf-hub:me/co2-gru@{info.oid}")):
        for (name, a), b in zip(loaded.state_dict().items(), model.state_dict().values()):
            assert torch.equal(a, b), name
    with pytest.raises(TypeError, match="not a PianoRollModel"):
        PianoRollModel.from_pretrained("me/co2-gru")


def test_predict_export_and_inspect_take_a_folder(saved, tmp_path, capsys):
    from rnnzoo.cli import main

    model, folder = saved
    history = tmp_path / "co2.npy"
    np.save(history, np.linspace(330.0, 345.0, 60).astype(np.float32))
    assert main(["predict", str(folder), str(history)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    expected = model.forecast(np.load(history))
    assert printed[0] == "step,forecast" and len(printed) == 1 + len(expected)
    assert [float(r.split(",")[1]) for r in printed[1:]] == pytest.approx(expected, rel=1e-5)  # %.6g printing
    assert main(["inspect", str(folder), "--out", str(tmp_path / "inspect")]) == 0
    assert (tmp_path / "inspect").is_dir() and any((tmp_path / "inspect").rglob("*.png"))


@pytest.fixture
def silent_endpoint(tmp_path, monkeypatch):
    """A Hub endpoint that accepts connections and never answers (the hang case), with a 2-second timeout."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_TOKEN", "dummy-token")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("RNNZOO_HUB_TIMEOUT", "2")
    yield url
    server.close()
    for connection in held:
        connection.close()


@pytest.mark.parametrize("call", ["load", "push"])
def test_an_endpoint_that_never_answers_fails_in_seconds(silent_endpoint, call):
    import time

    from rnnzoo.hub import HubError

    model = rnnzoo.load("forecaster-gru-20k.co2")
    started = time.monotonic()
    with pytest.raises(HubError, match=rf"cannot reach the Hub at {silent_endpoint} to .*no answer within 2 s "
                                       rf"\(RNNZOO_HUB_TIMEOUT sets it\)"):
        rnnzoo.load("hf-hub:me/x") if call == "load" else model.push_to_hub("me/x")
    # 2 s per wait; huggingface_hub retries a download a few times (7.3 s measured for load, 5.6 s for push):
    # 25 s leaves room for a loaded machine and still fails the 600 s hang this replaces.
    assert time.monotonic() - started < 25
