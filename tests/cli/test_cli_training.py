"""Training through `rnnzoo fit` in fresh processes: kill and resume, data-parallel DDP on CPU, bf16-mixed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO
import torch
from mlflow.tracking import MlflowClient

import rnnzoo.data
from rnnzoo.cli import main

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

RECIPE = """\
seed_everything: 0
model:
  model: forecaster-{cell}-20k
  optimizer: adam
  lr: 0.01
data:
  class_path: rnnzoo.data.TimeSeriesDataModule
  init_args:
    source: co2
    input_length: {input_length}
    horizon: 24
    batch_size: {batch}
    shuffle: {shuffle}
trainer:
  max_epochs: {epochs}
  accelerator: cpu
  devices: {devices}
  strategy: {strategy}
  enable_progress_bar: false
  enable_model_summary: false
  default_root_dir: {root}
"""
KILL = """\
  callbacks:
    - class_path: tests.support.kill_callback.KillAtEpoch
      init_args:
        epoch: {epoch}
"""


def write_recipe(path: Path, *, cell="gru", batch=32, shuffle=True, epochs=4, devices=1, strategy="auto",
                 kill_at=None, input_length=48) -> Path:
    text = RECIPE.format(cell=cell, batch=batch, input_length=input_length, shuffle=str(shuffle).lower(), epochs=epochs, devices=devices,
                         strategy=strategy, root=path.parent / path.stem)
    if kill_at is not None:
        text += KILL.format(epoch=kill_at)
    path.write_text(text)
    return path


def fit(recipe: Path, *extra: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `rnnzoo fit` in a fresh process, as a user would (and as DDP needs: it re-launches the command)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "WORLD_SIZE", "NODE_RANK", "RANK",
                        "MLFLOW_TRACKING_URI")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])  # tests.support.kill_callback
    return subprocess.run([sys.executable, "-m", "rnnzoo.cli", "fit", "-c", str(recipe), *extra], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def final_weights(root: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(root / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    return checkpoint["state_dict"]


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    straight = write_recipe(tmp_path / "straight.yaml")
    killed = write_recipe(tmp_path / "killed.yaml", kill_at=2)
    assert fit(straight, cwd=tmp_path).returncode == 0
    died = fit(killed, cwd=tmp_path)
    assert died.returncode == 137, died.stderr[-3000:]
    assert (tmp_path / "killed" / "checkpoints" / "last.ckpt").is_file()
    resumed = fit(write_recipe(tmp_path / "killed.yaml"), "--ckpt_path", "last", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # It did resume (a fresh start would end on the same weights too: same seed, same data order).
    assert f"Restoring states from the checkpoint path at {tmp_path / 'killed' / 'checkpoints' / 'last.ckpt'}" in (
        resumed.stdout + resumed.stderr)
    expected, got = final_weights(tmp_path / "straight"), final_weights(tmp_path / "killed")
    assert expected.keys() == got.keys()
    for name in expected:
        # Same process layout, same data order (seeded per epoch), optimizer state restored: bit for bit.
        torch.testing.assert_close(got[name], expected[name], atol=0, rtol=0, msg=name)
    # The resumed fit continued the killed run in MLflow: two runs in all (straight, killed-and-resumed), both
    # FINISHED, one metric history with no step twice, ending where the straight run's ends. (MLflow logs in the
    # background: a metric queued in the moment of a SIGKILL can be lost, so not every killed epoch is asserted.)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"], [r.info.status for r in runs]
    resumed_run = next(r for r in runs if r.data.tags.get("rnnzoo.resumed") == "true")
    straight_run = next(r for r in runs if r.info.run_id != resumed_run.info.run_id)
    steps = [m.step for m in client.get_metric_history(resumed_run.info.run_id, "val/mae")]
    straight_steps = [m.step for m in client.get_metric_history(straight_run.info.run_id, "val/mae")]
    assert len(steps) == len(set(steps)) >= 2 and max(steps) == max(straight_steps) and set(steps) <= set(
        straight_steps)
    # The resume logged its config beside the first one, which it keeps, and changed no logged parameter. (MLflow
    # refuses a change in its background logging thread, losing the batch: that error reaches stderr only when the
    # thread runs before exit, so the firm checks are the message, the kept parameter and the two configs.)
    assert "Changing param values is not allowed" not in resumed.stdout + resumed.stderr
    # The killed run's parameters are logged in the background too, and os._exit can drop them: then the resume
    # logs them itself (ckpt_path "last") and has nothing to report; otherwise the first value stays and the
    # change is named.
    if resumed_run.data.params["config/ckpt_path"] == "None":
        assert "resumed with other values of ckpt_path" in resumed.stdout
    else:
        assert resumed_run.data.params["config/ckpt_path"] == "last" and "resumed with" not in resumed.stdout
    artifacts = sorted(a.path for a in client.list_artifacts(resumed_run.info.run_id) if a.path.endswith(".yaml"))
    assert artifacts == ["config-resume-1.yaml", "config.yaml"]
    local = tmp_path / "killed"
    assert "ckpt_path: null" in (local / "config.yaml").read_text()
    assert "ckpt_path: last" in (local / "config-resume-1.yaml").read_text()


def test_three_fits_at_once_on_a_new_store(tmp_path):
    # MLflow creates a new SQLite store's tables on first use; three processes doing it at once used to crash
    # (and could leave the store half-migrated). rnnzoo creates the store under a file lock.
    recipes = [write_recipe(tmp_path / f"run{i}.yaml", epochs=1, input_length=24) for i in range(3)]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    processes = [subprocess.Popen([sys.executable, "-m", "rnnzoo.cli", "fit", "-c", str(r)], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in recipes]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (_, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 3 and {r.info.status for r in runs} == {"FINISHED"}


def test_resume_with_another_config_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    recipe = write_recipe(tmp_path / "run.yaml", epochs=1)
    assert main(["fit", "-c", str(recipe)]) == 0
    with pytest.raises(ValueError, match=r"checkpoint was made with another configuration \(model: 'forecaster-gru-20k'"):
        main(["fit", "-c", str(recipe), "--model.model", "forecaster-lstm-20k", "--trainer.max_epochs", "2",
              "--ckpt_path", "last"])


def test_ddp_on_two_cpu_processes_equals_one_process_on_the_same_global_batch(tmp_path):
    data = rnnzoo.data.TimeSeriesDataModule("co2", input_length=47, horizon=24)
    data.setup("fit")
    # DistributedSampler pads an odd split with a repeated window; an even one splits exactly in two.
    assert len(data.datasets["train"]) % 2 == 0
    single = write_recipe(tmp_path / "single.yaml", batch=32, epochs=2, input_length=47)
    # Under DDP Lightning always shuffles the training split with DistributedSampler: randperm(seed + epoch), rank r
    # taking positions r, r+2, ... With shuffle: false our loader hands it the plain order, so that permutation is
    # the only one applied; the single process's EpochSeededSampler draws the same permutation.
    ddp = write_recipe(tmp_path / "ddp.yaml", batch=16, shuffle=False, epochs=2, devices=2, strategy="ddp",
                       input_length=47)
    for recipe in (single, ddp):
        result = fit(recipe, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
    expected, got = final_weights(tmp_path / "single"), final_weights(tmp_path / "ddp")
    for name in expected:
        # The two ranks' batches of 16 together are the single run's batch of 32 (see above).
        # DDP averages the two half-batch gradients where the single run averages 32 at once, so sums round
        # differently (~1e-7 relative per step); over 2 epochs of Adam steps that stays far below 1e-4.
        torch.testing.assert_close(got[name], expected[name], atol=1e-4, rtol=1e-4, msg=name)


def test_bf16_mixed_precision_trains_a_peephole_lstm(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    recipe = write_recipe(tmp_path / "bf16.yaml", cell="peephole-lstm", epochs=3)
    assert main(["fit", "-c", str(recipe), "--trainer.precision", "bf16-mixed"]) == 0
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.search_runs([client.get_experiment_by_name("rnnzoo").experiment_id])[0]
    losses = [m.value for m in sorted(client.get_metric_history(run.info.run_id, "train/loss_epoch"), key=lambda m: m.step)]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    weights = final_weights(tmp_path / "bf16")
    assert all(w.dtype == torch.float32 for w in weights.values())  # mixed precision keeps float32 weights
