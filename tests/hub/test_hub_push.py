"""Recipes that push: ``rnnzoo fit -c recipe -c recipes/overlays/push-to-hub.yaml`` against a loopback Hub
(tests/support/hub_server.py) — one commit with the best checkpoint's model and this run's metrics, one push under DDP,
and a failed push that loses nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.callbacks import HubPushError
from rnnzoo.cli import main
from tests.support.paths import REPO

ROOT = REPO
OVERLAY = ROOT / "recipes" / "overlays" / "push-to-hub.yaml"
RECIPE = """\
seed_everything: 0
model:
  model: forecaster-gru-20k
data:
  class_path: rnnzoo.data.TimeSeriesDataModule
  init_args: {{source: co2, input_length: 48, horizon: 24, batch_size: 32}}
trainer:
  max_epochs: 2
  accelerator: cpu
  enable_progress_bar: false
  enable_model_summary: false
  default_root_dir: {root}
"""


def recipe(tmp_path: Path) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE.format(root=tmp_path / "run"))
    return path


def test_fit_pushes_the_best_checkpoint_with_its_metrics(hub, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["fit", "-c", str(recipe(tmp_path)), "-c", str(OVERLAY),
                 "--push_to_hub.init_args.repo_id", "me/co2-gru"]) == 0
    commits = [r for r in hub.state.requests if r == "POST /api/models/me/co2-gru/commit/main"]
    assert len(commits) == 1
    assert sorted(hub.state.repos["me/co2-gru"][-1][1]) == ["README.md", "config.json", "model.safetensors"]
    pushed = rnnzoo.load("hf-hub:me/co2-gru")
    best = next((tmp_path / "run" / "checkpoints").glob("best-*.ckpt"))
    state = torch.load(best, map_location="cpu", weights_only=False)
    for name, value in pushed.state_dict().items():
        assert torch.equal(value, state["state_dict"][f"model.{name}"]), name  # the best checkpoint's weights
    info = json.loads(hub.state.repos["me/co2-gru"][-1][1]["config.json"])["pretrained"]
    assert info["split"] == "validation" and info["metrics"]["mae"] == pytest.approx(
        float(state["callbacks"][next(k for k in state["callbacks"] if k.startswith("ModelCheckpoint"))]
              ["best_model_score"]))
    assert info["data_sha256"] and info["recipe"].endswith("config.yaml")
    card = hub.state.repos["me/co2-gru"][-1][1]["README.md"].decode()
    assert 'rnnzoo.load("hf-hub:me/co2-gru")' in card and "model.forecast(history)" in card
    history = np.linspace(330, 340, 48)
    assert pushed.forecast(history).shape == (24,)  # the scaler travelled: the pushed model works on ppm


def test_a_failed_push_is_an_error_after_training_that_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_TOKEN", "dummy-token")
    with pytest.raises(HubPushError, match=r"training finished, but pushing to me/co2-gru failed: cannot reach "
                                           r"the Hub.*Nothing is lost.*rnnzoo push .*best-.*\.ckpt me/co2-gru"):
        main(["fit", "-c", str(recipe(tmp_path)), "-c", str(OVERLAY), "--push_to_hub.init_args.repo_id",
              "me/co2-gru"])
    checkpoints = tmp_path / "run" / "checkpoints"
    assert (checkpoints / "last.ckpt").is_file() and list(checkpoints.glob("best-*.ckpt"))
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1 and len(client.get_metric_history(runs[0].info.run_id, "val/mae")) == 2


def test_ddp_on_two_processes_pushes_once(hub, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "WORLD_SIZE", "NODE_RANK", "RANK",
                        "MLFLOW_TRACKING_URI")}
    result = subprocess.run(
        [sys.executable, "-m", "rnnzoo.cli", "fit", "-c", str(recipe(tmp_path)), "-c",
         str(ROOT / "recipes" / "overlays" / "ddp-cpu.yaml"), "-c", str(OVERLAY),
         "--push_to_hub.init_args.repo_id", "me/ddp"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    commits = [r for r in hub.state.requests if r == "POST /api/models/me/ddp/commit/main"]
    assert len(commits) == 1  # rank zero only
    assert rnnzoo.load("hf-hub:me/ddp").num_parameters == rnnzoo.create_model("forecaster-gru-20k").num_parameters
