"""Train one cell with one seed through the normal path: TrainingModule + Trainer + MLflowLogger (a child run),
then score the best checkpoint (by the validation metric) on the test split."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping

from rnnzoo.compare.curves import ValidationCurve
from rnnzoo.compare.lifecycle import INTERRUPTS, PARENT_TAG, ROLE_TAG, end_killed
from rnnzoo.compare.models import CellModel
from rnnzoo.training import TrainingModule
from rnnzoo.tracking import MLflowLogger


@dataclass(frozen=True)
class TrainSettings:
    """How every run of a comparison trains: the same for all cells, except ``lr`` after a search and what
    ``cell_settings`` sets for a cell (:meth:`for_cell`)."""

    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int | None = 50
    max_time: float | None = None  # seconds of fitting per run; None: no limit
    patience: int | None = None  # early stopping on the validation metric; None: train every epoch
    gradient_clip_val: float | None = 1.0
    model_overrides: dict[str, Any] | None = None
    lr_scheduler: dict[str, Any] | None = None  # TrainingModule's lr_scheduler, e.g. Zaremba et al.'s decay
    ema: float | None = None  # decay of Lightning's EMAWeightAveraging: validated, tested and saved weights averaged
    weight_noise: float | None = None  # sigma of rnnzoo.training.weight_noise.WeightNoise, in training only
    # cell -> the fields above that differ for that cell (a preset's settings chosen per cell on validation)
    cell_settings: dict[str, dict[str, Any]] | None = None
    deterministic: bool = False
    progress_bar: bool = False
    accelerator: str = "cpu"

    def for_cell(self, cell: str) -> "TrainSettings":
        """The settings one cell's runs train with: these, with the cell's own entries of ``cell_settings``."""
        return replace(self, **(self.cell_settings or {}).get(cell, {}), cell_settings=None)


@dataclass
class RunResult:
    """What one run measured; ``compare`` writes these to results.json and the same numbers to MLflow."""

    cell: str
    seed: int
    lr: float
    role: str
    model: str
    hidden_size: int
    num_params: int
    run_id: str
    monitor: str  # the task's validation metric, e.g. "val/nll"
    mode: str  # "min" or "max"
    best_val: float  # the monitored validation metric at the best checkpoint
    best_epoch: int  # 1-based epoch whose validation gave best_val
    epochs: int  # epochs completed (validated)
    seconds_per_epoch: float  # wall-clock seconds per epoch, training and validation
    fit_seconds: float
    best_checkpoint: str
    test: dict[str, float] = field(default_factory=dict)  # test metrics of the best checkpoint (empty: not tested)
    curve: dict[str, list] = field(default_factory=dict)  # ValidationCurve.as_dict()
    items: dict[str, dict[str, list]] = field(default_factory=dict)  # per-test-item scores (verdict.py)
    val_items: dict[str, dict[str, list]] = field(default_factory=dict)  # per-validation-item scores: the choice
    calibration: dict[str, Any] = field(default_factory=dict)  # calibrate_intervals' summary (empty: none)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _train_batches(datamodule: L.LightningDataModule) -> int:
    try:
        return len(datamodule.train_dataloader())
    except (TypeError, RuntimeError):  # an iterable loader without a length, or one not set up yet
        return 50


def _has_quantile_head(model: str | dict[str, Any], overrides: dict[str, Any] | None) -> bool:
    """Whether ``model`` (a zoo name or a task config, with ``overrides``) is a quantile forecaster."""
    if isinstance(model, dict):
        return bool({**model, **(overrides or {})}.get("quantiles"))
    import rnnzoo

    # Built before the run's seed is set, so this draws nothing from the run's random stream.
    return bool(getattr(rnnzoo.create_model(model, **(overrides or {})), "quantiles", None))


def run_overrides(settings: TrainSettings, calibrated: bool) -> dict[str, Any] | None:
    """The model overrides a run builds its model with: the settings', and ``calibrated=True`` for a quantile
    forecaster whose intervals are calibrated (the buffer is not a parameter: the same initial weights and
    training as without it)."""
    if calibrated:
        return {**(settings.model_overrides or {}), "calibrated": True}
    return settings.model_overrides


def calibrates(cell_model: CellModel, settings: TrainSettings, calibrate: bool) -> bool:
    """Whether a tested run of ``cell_model`` calibrates its intervals (``calibrate`` asked, and it has a quantile
    head)."""
    return calibrate and _has_quantile_head(cell_model.model, settings.model_overrides)


def train_one(cell_model: CellModel, datamodule: L.LightningDataModule, seed: int, settings: TrainSettings,
              root_dir: str | Path, *, tracking_uri: str | None, experiment_name: str, parent_run_id: str | None,
              role: str = "run", run_test: bool = True, export_model: bool = True,
              callbacks: list[L.Callback] | None = None,
              tags: dict[str, str] | None = None, calibrate: bool = False,
              resume_from: str | Path | None = None) -> tuple[RunResult, TrainingModule]:
    """Fit ``cell_model`` with ``seed``, log a child MLflow run, and test the best checkpoint.

    Returns the result and the task, whose weights are the best checkpoint's when ``run_test`` (else the last).

    With ``calibrate`` (and ``run_test``), a quantile forecaster is built with ``calibrated=True`` and its
    intervals are calibrated on the validation split when fit ends (:class:`~rnnzoo.training.callbacks
    .CalibrateIntervals`, which writes the offsets into the best checkpoint, before the MLflow export reads it):
    the test metrics are then those of the calibrated intervals, with ``coverage_raw`` and ``pinball_raw`` of
    the network's own quantiles (the same weights, offsets zeroed) beside them. Other models ignore it.

    Args:
        root_dir: the run's ``default_root_dir``; checkpoints go to ``root_dir/checkpoints`` (TrainingModule's rule).
        parent_run_id: the comparison's MLflow run; this run is tagged as its child.
        run_test: score the best checkpoint on the test split (learning-rate trials do not look at test data).
        export_model: log the best model's ``save_pretrained`` folder as the run's ``model`` artifact.
        callbacks, tags: more Lightning callbacks (e.g. a search's pruning) and MLflow run tags.
        resume_from: a checkpoint of this run that was interrupted (its ``last.ckpt``): the fit continues from it
            (weights, optimizer, schedule, epoch, best checkpoint, early stopping and the validation curve) and
            logs to the interrupted MLflow run when the checkpoint folder names it. The data order is the same
            as without the interruption (the samplers are seeded by epoch); dropout's random draws are not.
    """
    from rnnzoo.training.callbacks import CalibrateIntervals

    calibrate = run_test and calibrates(cell_model, settings, calibrate)
    overrides = run_overrides(settings, calibrate)
    L.seed_everything(seed, workers=True, verbose=False)
    task = TrainingModule(cell_model.model, optimizer=settings.optimizer, lr=settings.lr,
                         weight_decay=settings.weight_decay, model_overrides=overrides,
                         lr_scheduler=settings.lr_scheduler)
    monitor, mode = task.objective.monitor
    tags = {**(tags or {}), ROLE_TAG: role, "seed": str(seed), "cell": cell_model.cell}
    if parent_run_id:
        tags[PARENT_TAG] = parent_run_id
    logger = MLflowLogger(experiment_name=experiment_name, run_name=f"{cell_model.name}-seed{seed}-{role}",
                          tracking_uri=tracking_uri, tags=tags, log_model=False)
    try:
        curve = ValidationCurve(monitor)
        calibration = CalibrateIntervals() if calibrate else None
        trainer = _trainer(settings, root_dir, datamodule, logger, [curve, *(callbacks or [])], monitor, mode,
                           calibration, export_model)
        if resume_from is not None:
            from rnnzoo.mlflow_export import resume_mlflow_run

            resume_mlflow_run(trainer, Path(resume_from).parent)
        trainer.fit(task, datamodule=datamodule, ckpt_path=None if resume_from is None else str(resume_from))
        if not curve.values:
            raise RuntimeError(f"{cell_model.name} seed {seed}: no validation ran; raise max_epochs or max_time")
        checkpoint = trainer.checkpoint_callback
        best_val = float(checkpoint.best_model_score)
        pick = min if mode == "min" else max
        # ModelCheckpoint keeps the first epoch that reached the best value (it saves on strict improvement only).
        best_epoch = curve.epochs[curve.values.index(pick(curve.values))]
        test: dict[str, float] = {}
        raw: dict[str, float] = {}
        if run_test:
            task, test, raw = _test_best(task, trainer, datamodule, checkpoint.best_model_path, calibration)
        result = RunResult(
            cell=cell_model.cell, seed=seed, lr=settings.lr, role=role, model=cell_model.name,
            hidden_size=cell_model.hidden_size, num_params=cell_model.num_params, run_id=logger.run_id,
            monitor=monitor, mode=mode, best_val=best_val, best_epoch=best_epoch, epochs=len(curve.epochs),
            seconds_per_epoch=curve.seconds[-1] / len(curve.epochs), fit_seconds=curve.fit_seconds,
            best_checkpoint=str(checkpoint.best_model_path), test=test, curve=curve.as_dict(),
            calibration=(calibration.checkpoint_summary or {}) if calibration is not None else {},
        )
        # The summary numbers go to the run as well, so results.json and the tracking server never disagree.
        client = logger.experiment
        for key, value in (("best_val", best_val), ("best_epoch", best_epoch), ("epochs", result.epochs),
                           ("seconds_per_epoch", result.seconds_per_epoch)):
            client.log_metric(logger.run_id, f"compare/{key}", float(value))
        for key, value in raw.items():  # the second test's metrics replaced the first's; these keep the raw ones
            client.log_metric(logger.run_id, f"test/{key}", value)
        return result, task
    except INTERRUPTS:  # Ctrl+C or SIGTERM: Lightning marked the run FAILED (or it is still RUNNING)
        end_killed(logger._mlflow_client, logger._run_id)
        raise


def _trainer(settings: TrainSettings, root_dir: str | Path, datamodule: L.LightningDataModule, logger: Any,
             callbacks: list[L.Callback], monitor: str, mode: str, calibration: L.Callback | None,
             export_model: bool) -> L.Trainer:
    """A run's Trainer: early stopping on the task's metric, calibration before the MLflow export (which then
    exports the calibrated best checkpoint), no sanity steps or model summary (one line per run is said)."""
    from rnnzoo.mlflow_export import MLflowModelExport

    if settings.ema:
        from lightning.pytorch.callbacks import EMAWeightAveraging

        # Validation (and so early stopping and the best checkpoint) sees the averaged weights, and checkpoints
        # hold them: the tested and exported model is the average (Polyak averaging).
        callbacks.append(EMAWeightAveraging(decay=settings.ema))
    if settings.weight_noise:
        from rnnzoo.training.weight_noise import WeightNoise

        callbacks.append(WeightNoise(settings.weight_noise))
    if settings.patience:
        callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=settings.patience))
    if calibration is not None:
        callbacks.append(calibration)
    if export_model:
        callbacks.append(MLflowModelExport())
    return L.Trainer(
        default_root_dir=str(root_dir), max_epochs=settings.max_epochs,
        max_time={"seconds": settings.max_time} if settings.max_time else None,
        logger=logger, callbacks=callbacks, gradient_clip_val=settings.gradient_clip_val,
        enable_progress_bar=settings.progress_bar, enable_model_summary=False, num_sanity_val_steps=0,
        deterministic=settings.deterministic, accelerator=settings.accelerator, devices=1,
        # Lightning's default of 50 skips every step of an epoch of fewer batches (and warns about it).
        log_every_n_steps=max(1, min(50, _train_batches(datamodule))),
    )


def _test_best(task: TrainingModule, trainer: L.Trainer, datamodule: L.LightningDataModule, best_path: str,
               calibration: L.Callback | None) -> tuple[TrainingModule, dict[str, float], dict[str, float]]:
    """The best checkpoint's test metrics; with calibration, also the network's own intervals' coverage and
    pinball loss (``*_raw``: the best weights with the offsets zeroed), scored first."""
    from lightning.pytorch.callbacks import WeightAveraging

    # After fit, Lightning's weight averaging would load a checkpoint's trained weights (not its average, which
    # the checkpoint's state dict is) into a model tested by the trainer that fitted it: test without it, the
    # best weights loaded here (through ckpt_path Lightning would warn that the callback is missing).
    averaging = [c for c in trainer.callbacks if isinstance(c, WeightAveraging)]
    trainer.callbacks = [c for c in trainer.callbacks if c not in averaging]
    raw: dict[str, float] = {}
    if calibration is not None:
        task = _load_best(task, best_path)
        offsets = task.model.interval_offsets
        calibrated = offsets.detach().clone()
        offsets.zero_()
        scores = trainer.test(task, datamodule=datamodule, verbose=False)[0]
        raw = {f"{k}_raw": float(scores[f"test/{k}"]) for k in ("coverage", "pinball")}
        offsets.copy_(calibrated)
    if averaging:
        task = _load_best(task, best_path)
    scores = trainer.test(task, datamodule=datamodule, ckpt_path=None if averaging else best_path, verbose=False)[0]
    test = {k.removeprefix("test/"): float(v) for k, v in scores.items()}
    test.update(raw)
    return task, test, raw


def _load_best(task: TrainingModule, path: str) -> TrainingModule:
    """``task`` with the weights (and buffers) of the checkpoint at ``path``, as ``trainer.test(ckpt_path=)``
    loads them."""
    import torch

    state = torch.load(path, map_location=task.device, weights_only=True)  # tensors and plain containers only
    task.load_state_dict(state["state_dict"])
    if state.get("rnnzoo_preprocessing"):  # not in the state dict: a run taken back from its folder needs it too
        task.model.preprocessing = state["rnnzoo_preprocessing"]
    return task
