"""The Hugging Face Hub round trip against a loopback Hub (tests/support/hub_server.py): push, load, cache, revisions.

rnnzoo reads HF_ENDPOINT, HF_HUB_CACHE and HF_HUB_OFFLINE when it calls the Hub, so setting them per test
is enough even though huggingface_hub was imported long before (it freezes its own copies at import).
"""

import pytest
import torch
from huggingface_hub import HfApi

import rnnzoo
from rnnzoo.hub import HubError, ModelFileError

ROLL = torch.rand(2, 7, 88, generator=torch.Generator().manual_seed(0)).round()


def test_push_then_load_by_hf_hub_then_offline_from_cache(hub, monkeypatch):
    model = rnnzoo.create_model("pianoroll-gru-20k").eval()
    commit = rnnzoo.push_to_hub(model, "me/my-gru", private=True, commit_message="first",
                                preprocessing={"piano_roll": {"step_quarters": 0.25}})
    assert any(r == "POST /api/models/me/my-gru/commit/main" for r in hub.state.requests)
    assert sorted(hub.state.repos["me/my-gru"][-1][1]) == ["README.md", "config.json", "model.safetensors"]

    loaded = rnnzoo.load("hf-hub:me/my-gru")
    assert torch.equal(loaded(ROLL), model(ROLL)) and loaded.preprocessing.step_quarters == 0.25
    assert loaded.architecture == "pianoroll-gru-20k"

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(hub.state.requests)
    cached = rnnzoo.load("hf-hub:me/my-gru")
    assert len(hub.state.requests) == before  # offline: not one request reached the server
    assert torch.equal(cached(ROLL), model(ROLL))
    assert torch.equal(rnnzoo.load(f"hf-hub:me/my-gru@{commit.oid}")(ROLL), model(ROLL))


def test_pinned_revision_and_pushing_a_folder(hub, tmp_path):
    first = rnnzoo.create_model("pianoroll-lstm-20k").eval()
    second = rnnzoo.create_model("pianoroll-lstm-20k").eval()  # new random weights
    old = rnnzoo.push_to_hub(first, "me/lstm")
    folder = rnnzoo.save_pretrained(second, tmp_path / "second")
    rnnzoo.push_to_hub(folder, "me/lstm", commit_message="retrained")  # a saved folder pushes as is

    assert torch.equal(rnnzoo.load("hf-hub:me/lstm")(ROLL), second(ROLL))
    assert torch.equal(rnnzoo.load(f"hf-hub:me/lstm@{old.oid}")(ROLL), first(ROLL))
    with pytest.raises(HubError, match="has no revision 'v9'"):
        rnnzoo.load("hf-hub:me/lstm@v9")


def test_missing_repo_and_offline_empty_cache(hub, monkeypatch):
    with pytest.raises(HubError, match="Hub repo 'me/nothing' does not exist or is private"):
        rnnzoo.load("hf-hub:me/nothing")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match=r"me/nothing is not in the Hugging Face cache .*\(HF_HUB_OFFLINE=1\)"):
        rnnzoo.load("hf-hub:me/nothing")


def test_a_repo_with_only_a_pickle_is_refused_without_downloading_it(hub, tmp_path):
    folder = rnnzoo.save_pretrained(rnnzoo.create_model("pianoroll-rnn-20k"), tmp_path / "m")
    api = HfApi(endpoint=hub.url, token="dummy-token")
    api.create_repo("someone/pickled")
    hub.state.commit("someone/pickled", {"config.json": (folder / "config.json").read_bytes(),
                                         "pytorch_model.bin": b"not even looked at"}, "pickle")
    with pytest.raises(ModelFileError, match="Hub repo someone/pickled has no model.safetensors"):
        rnnzoo.load("hf-hub:someone/pickled")
    assert not any("pytorch_model.bin" in r for r in hub.state.requests)


def test_pushing_a_broken_folder_is_refused_before_upload(hub, tmp_path):
    folder = rnnzoo.save_pretrained(rnnzoo.create_model("pianoroll-rnn-20k"), tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        rnnzoo.push_to_hub(folder, "me/broken")
    assert "me/broken" not in hub.state.repos


def test_rnnzoo_push_command_uploads_a_lightning_checkpoint_and_a_pretrained_folder(hub, tmp_path, capsys):
    import lightning as L

    from rnnzoo.cli import main
    from rnnzoo.training import TrainingModule
    from rnnzoo.weights import BUNDLED, bundled_folder

    task = TrainingModule("pianoroll-gru-20k")
    trainer = L.Trainer(logger=False, enable_checkpointing=False, max_epochs=0)
    trainer.strategy.connect(task)
    checkpoint = tmp_path / "run.ckpt"
    trainer.save_checkpoint(checkpoint)
    assert main(["push", str(checkpoint), "me/from-ckpt"]) == 0
    assert "rnnzoo.load('hf-hub:me/from-ckpt@" in capsys.readouterr().out
    assert torch.equal(rnnzoo.load("hf-hub:me/from-ckpt")(ROLL), task.model.eval()(ROLL))
    assert sorted(hub.state.repos["me/from-ckpt"][-1][1]) == ["README.md", "config.json", "model.safetensors"]

    info = next(i for i in BUNDLED if i.name == "pianoroll-lstm-20k.jsb")
    assert main(["push", str(bundled_folder(info.source)), "me/jsb-lstm"]) == 0
    assert torch.equal(rnnzoo.load("hf-hub:me/jsb-lstm")(ROLL), rnnzoo.load(info.name)(ROLL))


def test_rnnzoo_push_command_refuses_what_is_not_a_model(hub, tmp_path, capsys):
    from rnnzoo.cli import main

    stray = tmp_path / "weights.bin"
    stray.write_bytes(b"not a model")
    with pytest.raises(SystemExit):
        main(["push", str(stray), "me/x"])
    assert "neither a saved model folder nor a Lightning .ckpt file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["push", str(tmp_path / "missing"), "me/x"])
    assert "does not exist" in capsys.readouterr().err
