"""A callback that completes an MLflow run: tags, the resolved config, and the trained model as a saved folder.

Lightning's MLFlowLogger already logs hyperparameters, metrics and (``log_model=True``) checkpoints; this adds
what rnnzoo users look for in the run: which cell, task, dataset and parameter count, the git commit, the
``save_pretrained`` folder of the best checkpoint (loadable with ``rnnzoo.load("local-dir:...")`` once
downloaded), and optionally a Model Registry version of it.
"""

from __future__ import annotations

import json

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only

from rnnzoo.version import __version__
from rnnzoo.hub import save_pretrained
from rnnzoo.tracking import already_exists


def git_commit(directory: str | Path = ".") -> str | None:
    """The commit checked out in ``directory`` (with ``-dirty`` for local changes), or None outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _mlflow_loggers(trainer: L.Trainer) -> list[MLFlowLogger]:
    return [logger for logger in trainer.loggers if isinstance(logger, MLFlowLogger)]


RUN_FILE = "mlflow_run.json"  # beside the checkpoints: which MLflow run they belong to


def resume_mlflow_run(trainer: L.Trainer, checkpoint_dir: Path) -> None:
    """Point the trainer's MLflow loggers at the run the checkpoints in ``checkpoint_dir`` came from, so a
    resumed fit continues that run's metric history (and ends it FINISHED) instead of opening a new one while
    the killed run stays RUNNING. Nothing happens when the folder names no run or the store has it not."""
    record = Path(checkpoint_dir) / RUN_FILE
    if not record.is_file():
        return
    saved = json.loads(record.read_text())
    for logger in _mlflow_loggers(trainer):
        if logger._run_id is None and saved.get("tracking_uri") == logger._tracking_uri:
            logger._run_id = saved["run_id"]
            logger.experiment.set_tag(saved["run_id"], "rnnzoo.resumed", "true")


def register_version(client: Any, name: str, source: str, run_id: str) -> Any:
    """A new version of the registered model ``name`` pointing at ``source``, the model created if needed.

    Creating the model is tried and an "already exists" refusal taken as success: a look-then-create would race
    when two runs finish at once (both look, both create, one fails), as experiments did (see rnnzoo.tracking).
    """
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as err:
        if not already_exists(err):
            raise
    return client.create_model_version(name, source, run_id=run_id)


class MLflowModelExport(L.Callback):
    """Tag the run at fit start; at fit end log the best checkpoint (``checkpoints/``) and its model as a saved
    folder (``model/``: config.json, model.safetensors, README.md).

    Args:
        register_as: also create a version of this registered model in the MLflow Model Registry.
    """

    def __init__(self, register_as: str | None = None):
        self.register_as = register_as

    @rank_zero_only
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        model = pl_module.model
        datamodule = trainer.datamodule
        tags = {
            "cell": model.config.get("cell", ""),
            "task": model.task,
            "architecture": getattr(model, "architecture", model.task),
            "dataset": getattr(datamodule, "dataset_name", type(datamodule).__name__ if datamodule else ""),
            "num_params": str(model.num_parameters),
            "rnnzoo_version": __version__,
        }
        commit = git_commit()
        if commit:
            tags["git_commit"] = commit
        for logger in _mlflow_loggers(trainer):
            for key, value in tags.items():
                logger.experiment.set_tag(logger.run_id, key, value)
            folder = Path(trainer.default_root_dir) / "checkpoints"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / RUN_FILE).write_text(json.dumps({"run_id": logger.run_id,
                                                       "tracking_uri": logger._tracking_uri}) + "\n")

    @rank_zero_only
    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loggers = _mlflow_loggers(trainer)
        if not loggers:
            return
        best = getattr(trainer.checkpoint_callback, "best_model_path", "")
        task = type(pl_module).load_from_checkpoint(best, map_location="cpu") if best else pl_module
        model = task.model
        model.architecture = getattr(pl_module.model, "architecture", model.task)
        with tempfile.TemporaryDirectory(prefix="rnnzoo-export-") as tmp:
            save_pretrained(model, tmp, preprocessing=pl_module.model.preprocessing)
            for logger in loggers:
                logger.experiment.log_artifacts(logger.run_id, tmp, "model")
                if best:
                    logger.experiment.log_artifact(logger.run_id, best, "checkpoints")
        if self.register_as:
            for logger in loggers:
                client = logger.experiment
                source = f"{client.get_run(logger.run_id).info.artifact_uri}/model"
                register_version(client, self.register_as, source, logger.run_id)
