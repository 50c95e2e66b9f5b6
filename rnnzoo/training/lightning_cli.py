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
    as run parameters. (Lightning's own copy goes to the logger's folder, which an MLflow server run has not.)

    A resumed fit (``--ckpt_path``) keeps the first config and adds its own as ``config-resume-N.yaml``, in the
    folder and in the run: MLflow refuses to change a logged parameter (the resume's ``ckpt_path`` always differs,
    a longer ``max_epochs`` often), so only parameters the run has not yet are logged, and the changed ones are
    named on stdout.
    """

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        text = self.parser.dump(self.config, skip_none=False)
        root = Path(trainer.default_root_dir)
        root.mkdir(parents=True, exist_ok=True)
        name = resume_config_name(root) if self.config.get("ckpt_path") else "config.yaml"
        (root / name).write_text(text)
        for logger in trainer.loggers:
            if isinstance(logger, MLFlowLogger):
                logger.experiment.log_text(logger.run_id, text, name)
                logged = logger.experiment.get_run(logger.run_id).data.params
                params = flat_params({"config": self.config.as_dict()})
                changed = sorted(k for k, v in params.items() if k in logged and logged[k] != v)
                logger.log_hyperparams({k: v for k, v in params.items() if k not in logged})
                if changed:
                    print(f"MLflow run {logger.run_id} resumed with other values of "
                          f"{', '.join(k.removeprefix('config/') for k in changed)}: its parameters keep the first "
                          f"values (MLflow cannot change them); this fit's config is its artifact {name}")


def resume_config_name(root: Path) -> str:
    """The first ``config-resume-N.yaml`` free in ``root``: each resume of a run keeps its own config."""
    number = 1
    while (root / f"config-resume-{number}.yaml").exists():
        number += 1
    return f"config-resume-{number}.yaml"


def flat_params(params: dict) -> dict[str, str]:
    """``params`` as Lightning's MLFlowLogger logs them: flattened to ``a/b`` keys, values as text cut to 250
    characters (so they compare equal to what the run holds)."""
    from lightning.fabric.utilities.logger import _convert_params, _flatten_dict

    return {k: str(v)[:250] for k, v in _flatten_dict(_convert_params(params)).items()}


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
