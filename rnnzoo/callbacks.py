"""``HubPush``: at the end of fit, publish the run's model to the Hugging Face Hub from a recipe.

``rnnzoo fit -c recipes/co2-gru-20k.yaml -c recipes/overlays/push-to-hub.yaml`` (set ``repo_id`` there or with
``--push_to_hub.init_args.repo_id me/my-model``). On global rank zero only, the best checkpoint's model (or the
last state) is saved in the Hub layout with a model card holding what this run measured (the monitored validation
metric at that checkpoint), its recipe and its data hash, and pushed in one commit. A failed push is an error
raised after training, which names the checkpoint to push later with ``rnnzoo push``: the checkpoints and the
MLflow run are already written by then.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import lightning as L

from rnnzoo.errors import RnnzooError
from rnnzoo.hub import HubError


class HubPushError(RnnzooError, RuntimeError):
    """Training finished but the push did not; the message says where the checkpoint is and how to push it."""


class HubPush(L.Callback):
    """Push the trained model to ``repo_id`` when fit ends.

    Args:
        repo_id: the Hub repo, ``org/name`` (created if missing).
        private: create the repo private (only applies when it is created).
        revision: branch to push to (default: the repo's main branch).
        push: ``"best"`` (the best checkpoint by the task's validation metric) or ``"last"`` (the final state).
        commit_message: defaults to one naming the architecture, the metric and the run.
        token: Hub token (default: the logged-in one or ``HF_TOKEN``).
    """

    def __init__(self, repo_id: str, private: bool | None = None, revision: str | None = None, push: str = "best",
                 commit_message: str | None = None, token: str | None = None):
        from rnnzoo.hub import is_repo_id

        if not is_repo_id(repo_id):
            raise ValueError(f"repo_id must look like org/name, got {repo_id!r}")
        if push not in ("best", "last"):
            raise ValueError(f"push must be 'best' or 'last', got {push!r}")
        self.repo_id, self.private, self.revision, self.push = repo_id, private, revision, push
        self.commit_message, self.token = commit_message, token
        self.commit: Any = None  # huggingface_hub's CommitInfo once pushed

    def _chosen(self, trainer: L.Trainer, pl_module: L.LightningModule) -> tuple[Any, str, dict[str, float]]:
        """The model to publish, where it came from, and the metrics measured for it in this run."""
        checkpoint = trainer.checkpoint_callback
        path = getattr(checkpoint, "best_model_path", "") if self.push == "best" else ""
        if path and Path(path).is_file():
            task = type(pl_module).load_from_checkpoint(path, map_location="cpu")
            monitor = checkpoint.monitor
            metrics = {monitor.removeprefix("val/"): float(checkpoint.best_model_score)} if monitor else {}
            return task.model, path, metrics
        metrics = {k.removeprefix("val/"): float(v) for k, v in trainer.callback_metrics.items()
                   if k.startswith("val/") and getattr(v, "numel", lambda: 1)() == 1}
        return pl_module.model, "the final training state", metrics

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        from rnnzoo.factory import push_to_hub
        from rnnzoo.hub import WEIGHTS_NAME, save_pretrained, sha256_file, write_pretrained_info
        from rnnzoo.pretrained import PretrainedInfo
        from rnnzoo.version import __version__

        model, source, metrics = self._chosen(trainer, pl_module)
        datamodule = trainer.datamodule
        recipe = Path(trainer.default_root_dir) / "config.yaml"
        try:
            with tempfile.TemporaryDirectory(prefix="rnnzoo-hubpush-") as tmp:
                folder = save_pretrained(model, Path(tmp) / "model", repo_id=self.repo_id)
                architecture = getattr(model, "architecture", model.task)
                info = PretrainedInfo(
                    architecture=architecture, tag=self.repo_id.split("/")[-1], task=model.task,
                    dataset=getattr(datamodule, "dataset_name", type(datamodule).__name__ if datamodule else ""),
                    split="validation", data_sha256=str((getattr(datamodule, "info", {}) or {}).get(
                        "content_sha256", "")), num_params=model.num_parameters, metrics=metrics,
                    recipe=str(recipe) if recipe.is_file() else "", license="", paper="",
                    weights_sha256=sha256_file(folder / WEIGHTS_NAME), source=f"hf-hub:{self.repo_id}",
                    extra={"checkpoint": source, "epochs": trainer.current_epoch, "rnnzoo_version": __version__},
                )
                write_pretrained_info(model, folder, info, repo_id=self.repo_id)
                message = self.commit_message or (f"rnnzoo fit: {architecture}, {source}"
                                                  + "".join(f", {k} {v:.4g}" for k, v in metrics.items()))
                self.commit = push_to_hub(folder, self.repo_id, private=self.private, revision=self.revision,
                                          commit_message=message, token=self.token)
        except (HubError, OSError, ValueError) as err:
            raise HubPushError(
                f"training finished, but pushing to {self.repo_id} failed: {err}. Nothing is lost: the checkpoints "
                f"are in {Path(trainer.default_root_dir) / 'checkpoints'} and the MLflow run has the metrics; push "
                f"later with `rnnzoo push {source if source.endswith('.ckpt') else 'CHECKPOINT.ckpt'} {self.repo_id}`"
            ) from err
        except Exception as err:  # huggingface_hub's HTTP errors: a refused push (permissions, bad repo)
            if type(err).__module__.startswith("huggingface_hub"):
                raise HubPushError(f"training finished, but the Hub refused the push to {self.repo_id}: {err}. The "
                                   f"checkpoints are in {Path(trainer.default_root_dir) / 'checkpoints'}; fix the "
                                   f"cause and push with `rnnzoo push`") from err
            raise
