"""``rnnzoo fit | validate | test | predict -c RECIPE``: LightningCLI over :class:`~rnnzoo.training.TrainingModule`
and any LightningDataModule, with MLflow logging, model export and best/last checkpoints."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from jsonargparse import lazy_instance
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import MLFlowLogger

# imports the DataModules (rnnzoo.data loads them lazily) so that --data accepts their short names
from rnnzoo.data import PianoRollDataModule, SpeechFeaturesDataModule, TextDataModule, TimeSeriesDataModule  # noqa: F401
from rnnzoo.mlflow_export import MLflowModelExport, resume_mlflow_run
from rnnzoo.training.checkpoints import check_checkpoint_file
from rnnzoo.tracking import MLflowLogger, check_tracking_uri, resolve_tracking_uri, sqlite_artifact_location
from rnnzoo.training.module import TrainingModule


class MLflowSaveConfig(SaveConfigCallback):
    """Store the resolved config as ``<default_root_dir>/config.yaml``, in the MLflow run (``config.yaml``) and
    as run parameters. (Lightning's own copy goes to the logger's folder, which an MLflow server run has not.)"""

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        text = self.parser.dump(self.config, skip_none=False)
        root = Path(trainer.default_root_dir)
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.yaml").write_text(text)
        for logger in trainer.loggers:
            if isinstance(logger, MLFlowLogger):
                logger.experiment.log_text(logger.run_id, text, "config.yaml")
                logger.log_hyperparams({"config": self.config.as_dict()})


class RnnzooCLI(LightningCLI):
    """LightningCLI with rnnzoo's defaults: MLflow logging, model export, best/last checkpoints, and an optional
    ``push_to_hub`` section (a :class:`~rnnzoo.callbacks.HubPush`; recipes/overlays/push-to-hub.yaml)."""

    def add_arguments_to_parser(self, parser) -> None:
        # Its own section rather than an entry of trainer.callbacks: an overlay then adds the push without
        # replacing the recipe's callback list.
        from rnnzoo.callbacks import HubPush

        parser.add_lightning_class_args(HubPush, "push_to_hub", subclass_mode=True, required=False)

    def instantiate_trainer(self, **kwargs):
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks = [c for c in trainer.callbacks if c is not None]  # no push_to_hub section: no push
        return trainer

    def before_instantiate_classes(self) -> None:
        # Check where runs will go before anything is built, so a dead server is reported as itself (and not
        # wrapped in the parser's type errors) before any data is prepared or any training starts.
        loggers = self.config[self.subcommand].trainer.logger if self.subcommand else self.config.trainer.logger
        for logger in loggers if isinstance(loggers, list) else [loggers]:
            if getattr(logger, "class_path", None) == "rnnzoo.tracking.MLflowLogger":
                args = logger.init_args
                uri = resolve_tracking_uri(args.get("tracking_uri"))
                check_tracking_uri(uri, experiment_name=args.get("experiment_name") or "rnnzoo",
                                   artifact_location=args.get("artifact_location") or sqlite_artifact_location(uri))

    def _parse_ckpt_path(self) -> None:
        # Lightning reads a checkpoint file's hyperparameters here, before any hook: check the file first, so a
        # corrupt one is reported as such and not as an unpickling error.
        subcommand = self.config.get("subcommand")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if path and Path(path).is_file():
            check_checkpoint_file(path)
        super()._parse_ckpt_path()

    def _resolve_checkpoint(self, required: bool) -> str | None:
        """``--ckpt_path``: "last" -> the run folder's last.ckpt; any path checked to be a readable checkpoint.

        Lightning looks for "last" before the model's callbacks (which fix the checkpoint folder) are attached,
        finds nothing and starts afresh with a warning; it is resolved here, and refused when there is nothing.
        """
        config = self.config_init[self.subcommand]
        path = config.get("ckpt_path")
        if path is None:
            if required:
                raise ValueError(
                    f"rnnzoo {self.subcommand} needs --ckpt_path (a checkpoint file, or 'last' for the run folder's "
                    f"last one): without it the model is untrained and its metrics mean nothing")
            return None
        if path == "last":
            path = Path(self.trainer.default_root_dir) / "checkpoints" / "last.ckpt"
            if not path.is_file():
                raise FileNotFoundError(
                    f"--ckpt_path last: no checkpoint at {path}; run without --ckpt_path to start afresh, or point "
                    f"--trainer.default_root_dir at the folder of the run to resume"
                )
        check_checkpoint_file(path)
        config["ckpt_path"] = str(path)
        return str(path)

    def before_fit(self) -> None:
        checkpoint = self._resolve_checkpoint(required=False)
        if checkpoint is not None:
            resume_mlflow_run(self.trainer, Path(checkpoint).parent)

    def before_validate(self) -> None:
        self._resolve_checkpoint(required=True)

    def before_test(self) -> None:
        self._resolve_checkpoint(required=True)


def lightning_main(args: list[str] | None = None) -> RnnzooCLI:
    """Run a LightningCLI subcommand (``fit``, ``validate``, ``test``, ``predict``)."""
    from rnnzoo.compare.quiet import noise_filtered

    with noise_filtered():
        return make_cli(args)


def make_cli(args: list[str] | None, run: bool = True) -> RnnzooCLI:
    """The CLI of ``rnnzoo fit | ...``; ``run=False`` builds the model, data and trainer of ``args`` (no
    subcommand) without running anything."""
    return RnnzooCLI(
        TrainingModule,
        L.LightningDataModule,
        subclass_mode_data=True,
        save_config_callback=MLflowSaveConfig,
        save_config_kwargs={"save_to_log_dir": False},
        trainer_defaults={
            "logger": lazy_instance(MLflowLogger),  # resolves the tracking URI when the run starts
            "callbacks": [lazy_instance(MLflowModelExport)],
            "default_root_dir": "runs",
        },
        args=args,
        run=run,
        parser_kwargs={"description": "Train and evaluate rnnzoo models (LightningCLI)."},
    )
