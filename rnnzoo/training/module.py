"""``TrainingModule``: one LightningModule that trains any rnnzoo task model with its task's objective."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn

from rnnzoo.tasks import TASKS, task_model_class
from rnnzoo.training.lr_schedule import build_lr_scheduler, check_lr_scheduler
from rnnzoo.training.progress import ThrottledProgressBar

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD,
}


def build_task_model(model: str | dict[str, Any]) -> nn.Module:
    """A zoo name (``"pianoroll-gru-20k"``, built untrained) or a config ``{"task": ..., **init_args}``."""
    if isinstance(model, str):
        import rnnzoo

        return rnnzoo.create_model(model)
    config = dict(model)
    task = config.pop("task", None)
    if task is None:
        raise ValueError(f"a model config needs 'task' (one of {sorted(TASKS)}), got keys {sorted(config)}")
    return task_model_class(task).from_config(config)


class TrainingModule(L.LightningModule):
    """Train, validate, test and predict with an rnnzoo task model.

    Gradient-norm clipping is the Trainer's (``L.Trainer(gradient_clip_val=1.0)``, Chung et al.'s setting).
    The DataModule's ``preprocessing`` (scaler, vocabulary, feature settings) is copied onto the model when
    fitting starts, so ``rnnzoo.save_pretrained(task.model, folder)`` saves it with the weights.

    Args:
        model: a zoo architecture name or a task-model config dict with ``"task"`` (saved as a hyperparameter,
            so a checkpoint rebuilds the same model). Use :meth:`from_model` for a model object.
        optimizer: ``"adam"`` | ``"adamw"`` | ``"rmsprop"`` (Chung et al. 2014) | ``"sgd"``.
        lr, weight_decay: optimizer settings; ``optimizer_options`` passes any others (e.g. ``{"momentum": 0.9}``).
        model_overrides: init arguments replacing a zoo architecture's (e.g. ``{"dropout": 0.2}``).
        lr_scheduler: a ``torch.optim.lr_scheduler`` class and its arguments, stepped each epoch (or each step
            with ``"interval": "step"``), e.g. Zaremba et al.'s halving after epoch 4:
            ``{"class_path": "MultiStepLR", "init_args": {"milestones": [4, 5, 6], "gamma": 0.5}}``.
    """

    def __init__(self, model: str | dict[str, Any], optimizer: str = "adam", lr: float = 1e-3,
                 weight_decay: float = 0.0, optimizer_options: dict[str, Any] | None = None,
                 model_overrides: dict[str, Any] | None = None, lr_scheduler: dict[str, Any] | None = None):
        super().__init__()
        self.save_hyperparameters()
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        check_lr_scheduler(lr_scheduler)
        if isinstance(model, str) and model_overrides:
            import rnnzoo

            self.model = rnnzoo.create_model(model, **model_overrides)
        else:
            self.model = build_task_model(model if model_overrides is None else {**model, **model_overrides})
        self.objective = type(self.model).objective_class()
        self.val_metrics = nn.ModuleDict(self.objective.metrics(self.model))
        self.test_metrics = nn.ModuleDict(self.objective.metrics(self.model))

    @classmethod
    def from_model(cls, model: nn.Module, **kwargs: Any) -> "TrainingModule":
        """Wrap an existing task model (its weights are kept; its config becomes the hyperparameter)."""
        task = cls({"task": model.task, **model.config}, **kwargs)
        task.model.load_state_dict(model.state_dict())
        task.model.architecture = getattr(model, "architecture", model.task)
        task.model.preprocessing = model.preprocessing
        return task

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    def on_fit_start(self) -> None:
        # A validate()/test() run before fit leaves metric states as inference-mode tensors, which fit's
        # validation (under no_grad, not inference mode) cannot update in place: start from fresh ones.
        with torch.inference_mode(False):
            for metric in [*self.val_metrics.values(), *self.test_metrics.values()]:
                metric.reset()
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None and getattr(datamodule, "preprocessing", None):
            self.model.preprocessing = datamodule.preprocessing  # a task of its own kind, checked

    def _run(self, batch, batch_idx: int, stage: str, metrics: nn.ModuleDict | None):
        if batch_idx == 0:  # a batch of another task's data: say so once, not as a KeyError deep in the step
            self.objective.check_batch(self.model, batch)
        loss, n = self.objective.step(self.model, batch, metrics, stage)
        if stage == "train":
            self._log_train_loss(loss, n)
        else:
            self.log(f"{stage}/loss", loss, batch_size=n, on_epoch=True)
        if metrics:
            for name, metric in metrics.items():
                self.log(f"{stage}/{name}", metric, on_epoch=True, on_step=False, prog_bar=name == "nll")
        return loss

    def training_step(self, batch, batch_idx):
        return self._run(batch, batch_idx, "train", None)

    def validation_step(self, batch, batch_idx):
        return self._run(batch, batch_idx, "val", self.val_metrics)

    def test_step(self, batch, batch_idx):
        return self._run(batch, batch_idx, "test", self.test_metrics)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self.objective.predict(self.model, batch)

    def _log_train_loss(self, loss: torch.Tensor, n: int) -> None:
        """``train/loss_step`` on the steps the loggers write, and the epoch's running sums for ``train/loss_epoch``:
        what ``self.log(..., on_step=True, on_epoch=True)`` gives, without its cost on every step.

        Each ``self.log`` call costs about 1.5 ms of CPU (Lightning moves its whole result record to the value's
        device), 10-15% of a training step of the zoo's small models (``benchmarks/train_throughput.py``). Step
        values are only written every ``log_every_n_steps``, so they are only logged then; the progress bar's
        step loss is refreshed as often."""
        self._epoch_loss += loss.detach() * n
        self._epoch_count += n
        connector = getattr(self.trainer, "_logger_connector", None)  # private: an unknown Lightning logs each step
        if connector is None or connector.should_update_logs:
            self.log("train/loss_step", loss, batch_size=n, prog_bar=True, on_step=True, on_epoch=False)

    def on_train_epoch_start(self):
        self.objective.reset_state("train")
        self._epoch_loss, self._epoch_count = torch.zeros((), device=self.device), 0

    def on_train_epoch_end(self):
        if self._epoch_count:  # weighted by frames or tokens per batch, as Lightning's epoch mean with batch_size
            self.log("train/loss_epoch", self._epoch_loss / self._epoch_count, prog_bar=True, on_epoch=True)

    def on_validation_epoch_start(self):
        self.objective.reset_state("val")

    def on_test_epoch_start(self):
        self.objective.reset_state("test")

    def on_test_start(self) -> None:
        offsets = getattr(self.model, "interval_offsets", None)
        if offsets is not None and not bool(offsets.any()):
            # calibrated=True with all-zero offsets: weights the end-of-fit calibration never reached (last.ckpt
            # is saved before it runs), so the test would report the raw quantiles' coverage as if calibrated.
            rank_zero_warn("this forecaster was built with calibrated=True but its interval offsets are all zero: "
                           "these weights were never calibrated (last.ckpt, the resume point, is saved before "
                           "CalibrateIntervals runs at the end of fit). Coverage and pinball loss below are the raw "
                           "quantiles'; test the best checkpoint (checkpoints/best-*.ckpt), which holds the "
                           "calibrated offsets")

    def configure_callbacks(self):
        """Keep the best checkpoint by the task's validation metric and the last one, in a fixed folder
        (``<default_root_dir>/checkpoints``) so that ``ckpt_path="last"`` finds them from a new process; none
        under ``Trainer(enable_checkpointing=False)``.

        Two callbacks: ModelCheckpoint's own ``save_last`` only refreshes last.ckpt when a best checkpoint is
        saved, so after an epoch without improvement it would not be the last state. Lightning's default progress
        bar is replaced by one that redraws at most ten times a second (:mod:`rnnzoo.training.progress`).
        """
        callbacks = self._checkpoint_callbacks() if self.trainer.checkpoint_callback is not None else []
        bar = self.trainer.progress_bar_callback
        if type(bar) is TQDMProgressBar:  # Lightning's default bar; a bar the user chose is left as it is
            callbacks.append(ThrottledProgressBar.replacing(bar))  # replaces it: a subclass
        return callbacks

    def _checkpoint_callbacks(self) -> list[ModelCheckpoint]:
        # Only where the trainer checkpoints at all: Trainer(enable_checkpointing=False) writes no file.
        monitor, mode = self.objective.monitor
        dirpath = Path(self.trainer.default_root_dir) / "checkpoints"
        best = ModelCheckpoint(dirpath=dirpath, filename="best-{epoch}-{step}", monitor=monitor, mode=mode,
                               save_top_k=1, auto_insert_metric_name=False)
        # monitor=None with save_top_k=1 keeps the newest epoch's state; the fixed name is overwritten each time.
        last = ModelCheckpoint(dirpath=dirpath, filename="last", monitor=None, save_top_k=1,
                               enable_version_counter=False)
        return [best, last]  # best first: trainer.checkpoint_callback is the best one

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The preprocessing is not a tensor, so it is not in the state dict: keep it so that a model exported
        # from a checkpoint (rnnzoo push run.ckpt) still works on raw input.
        if self.model.preprocessing is not None:
            checkpoint["rnnzoo_preprocessing"] = self.model.preprocessing.to_config()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Refuse a checkpoint made with another configuration instead of resuming something else.

        The model's definition must always match; when resuming under a Trainer, every hyperparameter must.
        """
        saved = checkpoint.get("hyper_parameters", {})
        current = dict(self.hparams)
        keys = set(saved) | set(current) if self._trainer is not None else {"model", "model_overrides"}
        differences = [f"{k}: {saved.get(k)!r} in the checkpoint, {current.get(k)!r} now"
                       for k in sorted(keys) if saved.get(k) != current.get(k)]
        if checkpoint.get("rnnzoo_preprocessing"):
            self.model.preprocessing = checkpoint["rnnzoo_preprocessing"]
        if differences:
            raise ValueError(
                "the checkpoint was made with another configuration (" + "; ".join(differences) + "). Resume "
                "with the config it was trained with, or start a new run without --ckpt_path"
            )

    def configure_optimizers(self):
        hp = self.hparams
        optimizer = OPTIMIZERS[hp.optimizer](self.model.parameters(), lr=hp.lr, weight_decay=hp.weight_decay,
                                             **(hp.optimizer_options or {}))
        if not hp.get("lr_scheduler"):
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": build_lr_scheduler(optimizer, hp.lr_scheduler)}
