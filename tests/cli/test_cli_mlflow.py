"""`rnnzoo fit` end to end: LightningCLI, a real MLflow server on 127.0.0.1, the embedded default store, and
the errors a user meets first (bad recipe key, unreachable server)."""

from __future__ import annotations

import os

import pytest
import torch
from mlflow.tracking import MlflowClient

import rnnzoo
import rnnzoo.data
from tests.support.mlflow_server import MlflowServer, free_port
from rnnzoo.cli import main
from rnnzoo.tracking import TrackingUnavailableError

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

RECIPE = """\
seed_everything: 0
model:
  model: forecaster-gru-20k
  optimizer: adam
  lr: 0.01
data:
  class_path: rnnzoo.data.TimeSeriesDataModule
  init_args:
    source: co2
    input_length: 48
    horizon: 24
    batch_size: 32
trainer:
  max_epochs: 2
  log_every_n_steps: 1
  enable_progress_bar: false
  enable_model_summary: false
  default_root_dir: {root}
"""


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow")).start()
    yield server
    server.stop()


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE.format(root=tmp_path / "run"))
    return path


def only_run(client: MlflowClient):
    experiment = client.get_experiment_by_name("rnnzoo")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    return runs[0]


def test_fit_logs_params_metrics_checkpoints_and_model_to_server(mlflow_server, recipe, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)  # set after Lightning's import: must still count
    assert main(["fit", "-c", str(recipe)]) == 0
    client = MlflowClient(mlflow_server.uri)
    run = only_run(client)
    run_id = run.info.run_id

    assert run.data.tags["cell"] == "gru" and run.data.tags["task"] == "forecaster"
    assert run.data.tags["architecture"] == "forecaster-gru-20k"
    model = rnnzoo.create_model("forecaster-gru-20k")
    assert run.data.tags["num_params"] == str(sum(p.numel() for p in model.parameters()))
    assert run.data.params["lr"] == "0.01"  # TrainingModule's hyperparameters
    assert any(key.startswith("config/data/init_args/input_length") for key in run.data.params)
    # Per-step training loss (log_every_n_steps=1: every step of both epochs) and per-epoch validation metrics.
    data = rnnzoo.data.TimeSeriesDataModule("co2", input_length=48, horizon=24, batch_size=32)
    data.setup("fit")
    assert len(client.get_metric_history(run_id, "train/loss_step")) == 2 * len(data.train_dataloader())
    assert len(client.get_metric_history(run_id, "val/mae")) == 2
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "model", "checkpoints"} <= artifacts
    logged = [a.path for a in client.list_artifacts(run_id, "checkpoints")]
    best = next((tmp_path / "run" / "checkpoints").glob("best-*.ckpt"))
    assert logged == [f"checkpoints/{best.name}"]

    # The exported folder is the best checkpoint's model, loadable as a zoo model.
    folder = client.download_artifacts(run_id, "model", str(tmp_path / "downloaded"))
    exported = rnnzoo.load(f"local-dir:{folder}").eval()
    task = rnnzoo.training.TrainingModule.load_from_checkpoint(best, map_location="cpu").eval()
    window = torch.randn(3, 48, 1)
    torch.testing.assert_close(exported(window), task.model(window), atol=0, rtol=0)
    assert not (tmp_path / "mlflow.db").exists()  # everything went to the server


def test_without_tracking_uri_runs_go_to_embedded_sqlite_store(recipe, tmp_path):
    assert main(["fit", "-c", str(recipe), "--trainer.max_epochs", "1"]) == 0
    store = tmp_path / "mlflow.db"
    assert store.is_file()
    run = only_run(MlflowClient(f"sqlite:///{store}"))
    assert "val/mae" in run.data.metrics


def test_unreachable_server_fails_before_training(recipe, tmp_path, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with pytest.raises(TrackingUnavailableError, match=f"MLflow tracking server {uri} is unreachable"):
        main(["fit", "-c", str(recipe)])
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_file_store_uri_is_refused_with_the_fix(recipe, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "file:./mlruns")
    with pytest.raises(TrackingUnavailableError, match="sqlite:///mlflow.db"):
        main(["fit", "-c", str(recipe)])


def test_unknown_recipe_key_is_named(recipe, capsys):
    recipe.write_text(recipe.read_text().replace("  lr: 0.01", "  lr: 0.01\n  learning_rat: 0.1"))
    with pytest.raises(SystemExit):
        main(["fit", "-c", str(recipe)])
    assert "learning_rat" in capsys.readouterr().err


def test_wrong_type_is_named(recipe, capsys):
    recipe.write_text(recipe.read_text().replace("max_epochs: 2", "max_epochs: two"))
    with pytest.raises(SystemExit):
        main(["fit", "-c", str(recipe)])
    assert "max_epochs" in capsys.readouterr().err


def test_resume_without_checkpoint_is_an_error_not_a_fresh_start(recipe):
    with pytest.raises(FileNotFoundError, match="--ckpt_path last: no checkpoint at"):
        main(["fit", "-c", str(recipe), "--ckpt_path", "last"])


def test_list_and_help(capsys):
    assert main(["list", "pianoroll-*"]) == 0
    assert capsys.readouterr().out.split() == rnnzoo.list_models("pianoroll-*")
    assert main(["--help"]) == 0
    assert "fit" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2


def test_model_registry_version_points_at_the_exported_model(mlflow_server, recipe, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    callbacks = '[{"class_path": "rnnzoo.mlflow_export.MLflowModelExport", "init_args": {"register_as": "co2-gru"}}]'
    assert main(["fit", "-c", str(recipe), "--trainer.max_epochs", "1", "--trainer.logger.init_args.experiment_name",
                 "registry", "--trainer.callbacks", callbacks]) == 0
    client = MlflowClient(mlflow_server.uri)
    run = client.search_runs([client.get_experiment_by_name("registry").experiment_id])[0]
    versions = client.search_model_versions("name = 'co2-gru'")
    assert len(versions) == 1 and versions[0].run_id == run.info.run_id
    assert versions[0].source.endswith("/model")


def test_server_that_fails_writes_stops_fit_in_seconds(recipe, tmp_path, monkeypatch):
    import time

    from tests.support.mlflow_server import ReadOnlyServer

    for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.setenv(name, "")  # recorded, so the check's defaults are undone after the test
        monkeypatch.delenv(name)
    with ReadOnlyServer() as server:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
        started = time.perf_counter()
        with pytest.raises(TrackingUnavailableError, match=f"MLflow tracking server {server.uri} answers reads but "
                                                           f"fails writes"):
            main(["fit", "-c", str(recipe)])
        assert time.perf_counter() - started < 30  # was about 257 s of MLflow's retries, then a raw MlflowException
    assert not (tmp_path / "run" / "checkpoints").exists()
