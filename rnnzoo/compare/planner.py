"""The plan step of a comparison (plan -> run -> report): from the data and the options, everything the runs need
— the data set up once, the models, the training settings, the search space, the output folder and the tracking
store — checked before anything is trained, with every choice made for the user in ``meta["plan"]``."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Callable

import lightning as L
import torch

from rnnzoo.compare.errors import CompareOptionError
from rnnzoo.compare.forecaster_config import NORMALIZATION_PREFIX, forecaster_config, with_normalization
from rnnzoo.compare.models import CellModel, resolve_models
from rnnzoo.compare.options import CompareOptions
from rnnzoo.compare.plan import plan_lines
from rnnzoo.compare.presets import PRESETS, DataPreset, get_preset
from rnnzoo.compare.single_run import TrainSettings

DataSource = str | os.PathLike | L.LightningDataModule | Callable[[], L.LightningDataModule]

#: what makes a folder a comparison's output (any of them): refused as ``out_dir`` without ``overwrite``
COMPARISON_FILES = ("results.json", "results.md", "comparison.json", "runs", "models", "ensemble", "baselines")


@dataclasses.dataclass
class ComparisonPlan:
    """What the run and report steps work from: the options, the data (set up), the models and how they train."""

    options: CompareOptions
    preset: DataPreset | None
    user_data: dict[str, Any] | None
    dm: Any
    models: list[CellModel]
    settings: TrainSettings
    out: Path
    tracking_uri: str
    data_name: str
    label: str  # the budget as the models' names say it ("20k")
    meta: dict[str, Any]
    space: Any = None  # the search's SearchSpace, when lr_search > 0
    storage: Any = None  # and its opened Optuna storage

    @property
    def statistical_baselines(self) -> bool:
        """Whether the statistical forecasts are this comparison's baselines (a series with a season)."""
        return bool(self.preset is not None and self.preset.seasonal_baseline and getattr(self.dm, "season", None))


def make_plan(data: DataSource, o: CompareOptions) -> ComparisonPlan:
    """Read the data and resolve every option into a :class:`ComparisonPlan`; refuses (before training) options
    that do not fit the data, an output folder that holds another comparison, an unusable tracking store, a
    resume of a different comparison and a search storage that cannot be opened."""
    from rnnzoo.compare.resume import check_resumable, write_identity
    from rnnzoo.tracking import check_tracking_uri, resolve_tracking_uri, sqlite_artifact_location

    o.check()
    preset, user_data = _preset_for(data, o)
    family, task_config, budget = _model_spec(preset, user_data, o)
    # with a normalization the models need the data (its season, its drift): resolved once the data is set up
    models = resolve_models(family, task_config, budget, o.cells) if o.normalization is None else []
    settings = _train_settings(preset, o)
    out = Path(o.out_dir) if o.out_dir is not None else default_out_dir(data)
    if not o.resume:
        check_out_dir(out, o.overwrite)  # before anything is trained or written
    out.mkdir(parents=True, exist_ok=True)
    uri = resolve_tracking_uri(o.tracking_uri)
    check_tracking_uri(uri, experiment_name=o.experiment_name, artifact_location=sqlite_artifact_location(uri))
    dm = _datamodule(data, preset, {} if user_data else dict(o.datamodule_options or {}))
    dm.prepare_data()
    dm.setup("fit")
    if o.normalization is not None:
        task_config, budget = with_normalization(family, task_config, budget, o.normalization, dm)
        family = None
        models = resolve_models(None, task_config, budget, o.cells)
    # not the zoo's point forecasters of the same size: say so in every label (sdiff-quantile-forecaster-...)
    prefix = NORMALIZATION_PREFIX.get(o.normalization, "") + ("quantile-" if o.quantiles is not None else "")
    models = [dataclasses.replace(m, name=f"{prefix}{m.name}") for m in models]
    data_name = preset.name if preset else type(dm).__name__
    label = models[0].name.rsplit("-", 1)[-1]
    meta = _meta(o, dm, data_name, user_data, family, task_config, label, models, settings, uri)
    if o.resume:  # before a parent run is opened: a refused resume changes nothing
        check_resumable(out, meta)
    write_identity(out, meta)
    plan = ComparisonPlan(o, preset, user_data, dm, models, settings, out, uri, data_name, label, meta)
    if o.lr_search:
        _open_search(plan)
    if o.ray:  # last, before the parent run: the plan names the cluster; one that cannot take the runs is refused
        from rnnzoo.compare.ray_runs import connect

        meta["ray_cluster"] = connect(o.ray, uri, cpus_per_run=o.threads or 1)
    meta["plan"] = plan_lines(meta, out)  # every choice made for the user, said before anything is trained
    return plan


def _preset_for(data: DataSource, o: CompareOptions) -> tuple[DataPreset | None, dict[str, Any] | None]:
    """The preset of a built-in dataset's name, or the one :mod:`rnnzoo.compare.user_data` plans for the path of
    the user's data (with what it read and chose); ``(None, None)`` for a DataModule or a factory."""
    if isinstance(data, (str, os.PathLike)) and not (isinstance(data, str) and data in PRESETS):
        from rnnzoo.compare.user_data import user_data_preset
        from rnnzoo.data.errors import DataError

        if not Path(data).expanduser().exists():
            raise DataError(f"--data {str(data)!r} is neither a built-in dataset ({', '.join(PRESETS)}) nor an "
                            f"existing file or folder; pass one of those names, or the path of your CSV/Parquet "
                            f"table, folder of label/*.wav, or .txt file")
        return user_data_preset(data, series=o.series_options, level=o.text_level, loader=o.datamodule_options)
    if isinstance(data, str):
        return get_preset(data), None
    return None, None


def _model_spec(preset: DataPreset | None, user_data: dict[str, Any] | None,
                o: CompareOptions) -> tuple[str | None, dict[str, Any] | None, int | str | None]:
    """The models' family, task config and budget: given, else the preset's; with a quantile head when asked."""
    family, task_config, budget = o.family, o.task_config, o.budget
    if preset is not None and family is None and task_config is None:
        family, task_config = preset.family, preset.task_config
        budget = budget or (preset.default_budget if task_config is not None else None)
    if o.quantiles is not None:
        family, task_config, budget = _with_quantiles(family, task_config, budget, o.quantiles)
        if user_data is not None and o.budget is None:  # the head is Q times wider: move up to a budget that fits
            from rnnzoo.compare.user_data import fitting_budget

            budget = fitting_budget(task_config, budget)
    for option, wanted in ((f"normalization={o.normalization!r}", o.normalization is not None),
                           ("ensemble=True (--ensemble)", o.ensemble)):
        if wanted:  # refused before any data is read
            forecaster_config(family, task_config, budget, option)
    return family, task_config, budget


def _with_quantiles(family: str | None, task_config: dict[str, Any] | None, budget: int | str | None,
                    quantiles: Any) -> tuple[None, dict[str, Any], int | str]:
    """The models' task config with a quantile head, at the family's budget (sizes matched again: the head is
    Q times wider). Only forecasters have one."""
    from rnnzoo.tasks.forecaster.model import check_levels

    levels = sorted(check_levels(quantiles))
    task_config, budget = forecaster_config(family, task_config, budget, f"quantiles={levels}")
    return None, {**task_config, "gaussian": False, "quantiles": levels}, budget


def _train_settings(preset: DataPreset | None, o: CompareOptions) -> TrainSettings:
    """How every run trains: what is given, else the preset's (those of docs/results.md's runs), else Adam 1e-3,
    50 epochs, patience 10, clip 1 (``patience=0``: no early stopping)."""
    settings = TrainSettings(
        optimizer=o.optimizer or (preset.optimizer if preset else "adam"),
        lr=o.lr if o.lr is not None else (preset.lr if preset else 1e-3),
        weight_decay=o.weight_decay, max_time=o.max_time,
        ema=o.ema if o.ema is not None else (preset.ema if preset else None),
        weight_noise=o.weight_noise if o.weight_noise is not None else (preset.weight_noise if preset else None),
        max_epochs=o.max_epochs or (preset.max_epochs if preset else 50),
        patience=(o.patience if o.patience is not None else (preset.patience if preset else 10)) or None,
        gradient_clip_val=(preset.gradient_clip_val if preset else 1.0) if o.gradient_clip_val == "preset"
        else o.gradient_clip_val,
        model_overrides=_model_overrides(preset, o), deterministic=o.deterministic, progress_bar=o.progress_bar,
        lr_scheduler=(preset.lr_scheduler if preset else None) if o.lr_scheduler == "preset" else o.lr_scheduler,
    )
    return dataclasses.replace(settings, cell_settings=_cell_settings(preset, o, settings.model_overrides))


def _cell_settings(preset: DataPreset | None, o: CompareOptions,
                   overrides: dict[str, Any] | None) -> dict[str, dict[str, Any]] | None:
    """The preset's per-cell settings that the user's options leave open (TrainSettings.cell_settings)."""
    chosen: dict[str, dict[str, Any]] = {}
    for cell, own in (preset.cell_settings if preset else {}).items():
        entry = {key: own[key] for key, given in (("lr", o.lr), ("ema", o.ema), ("weight_noise", o.weight_noise))
                 if key in own and given is None}
        if "dropout" in own and "dropout" not in (o.model_overrides or {}) and o.dropout_range is None:
            entry["model_overrides"] = {**(overrides or {}), "dropout": own["dropout"]}
        if entry:
            chosen[cell] = entry
    return chosen or None


def _model_overrides(preset: DataPreset | None, o: CompareOptions) -> dict[str, Any] | None:
    """The user's model overrides, with the preset's dropout unless a dropout is given or searched."""
    given = o.model_overrides or {}
    if preset is None or preset.dropout is None or "dropout" in given or o.dropout_range is not None:
        return o.model_overrides
    return {"dropout": preset.dropout, **given}


def _datamodule(data: DataSource, preset: DataPreset | None, options: dict[str, Any]) -> L.LightningDataModule:
    if preset is not None:
        return preset.datamodule(**{**preset.datamodule_defaults, **options})
    if isinstance(data, L.LightningDataModule):
        return data
    return data(**options)


def _meta(o: CompareOptions, dm: Any, data_name: str, user_data: dict[str, Any] | None, family: str | None,
          task_config: dict[str, Any] | None, label: str, models: list[CellModel], settings: TrainSettings,
          uri: str) -> dict[str, Any]:
    """results.json's ``meta``: what was compared, how, where and with which versions."""
    from rnnzoo.mlflow_export import git_commit
    from rnnzoo.version import __version__

    return {
        "data": data_name, "datamodule": type(dm).__name__, "datamodule_options": o.datamodule_options or {},
        "data_info": {k: v for k, v in getattr(dm, "info", {}).items() if k in ("content_sha256", "parsed")},
        "split_sizes": dm.split_sizes() if hasattr(dm, "split_sizes") else {},
        "user_data": user_data,
        "family": family, "task_config": task_config,
        "quantiles": task_config.get("quantiles") if task_config else None, "budget": label,
        "cells": [m.cell for m in models],
        "seeds": list(o.seeds), "settings": dict(vars(settings)), "calibrate": o.calibrate,
        "lr_search": {"n": o.lr_search, "range": list(o.lr_range), "epochs": o.search_epochs or settings.max_epochs,
                      "size_range": list(o.size_range) if o.search_size else None},
        "tracking_uri": uri, "experiment": o.experiment_name, "threads": o.threads or torch.get_num_threads(),
        "jobs": o.jobs, "ray": o.ray,
        "rnnzoo_version": __version__, "torch_version": torch.__version__,
        "git_commit": git_commit(Path(__file__).resolve().parent),
    }


def _open_search(plan: ComparisonPlan) -> None:
    """The learning-rate (and size, and dropout) search's space and its opened storage, on the plan; a missing Optuna, a bad
    URL or a corrupt database is refused here, before the parent run."""
    from rnnzoo.compare.search import SearchSpace, import_optuna, open_storage, public_url

    o = plan.options
    import_optuna()  # before any training: a missing Optuna is an error at once
    plan.space = SearchSpace(o.lr_search, tuple(o.lr_range), o.search_epochs,
                             tuple(o.size_range) if o.search_size else None,
                             o.study_storage or f"sqlite:///{plan.out.resolve() / 'optuna.db'}",
                             o.study_name or f"{o.experiment_name}-{plan.data_name}-{plan.label}", o.search_seed,
                             tuple(o.dropout_range) if o.dropout_range is not None else None)
    plan.meta["lr_search"].update(storage=public_url(plan.space.storage), study_prefix=plan.space.study_name,
                                  search_seed=o.search_seed if o.search_seed is not None else o.seeds[0],
                                  dropout_range=list(o.dropout_range) if o.dropout_range is not None else None)
    plan.storage = open_storage(plan.space.storage)


def default_out_dir(data: Any, now: float | None = None) -> Path:
    """A new folder for a comparison: ``runs/compare/<data>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3`` ... when two
    start in the same second)."""
    name = data if isinstance(data, str) and data in PRESETS else (
        Path(data).expanduser().resolve().name or "data" if isinstance(data, (str, os.PathLike)) else type(data).__name__)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = Path("runs") / "compare" / f"{''.join(c if c.isalnum() or c in '-_.' else '_' for c in name)}-{stamp}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse an output folder that already holds a comparison, unless told to overwrite it."""
    found = [name for name in COMPARISON_FILES if (out / name).exists()]
    if found and not overwrite:
        raise CompareOptionError(f"{out} already holds a comparison ({', '.join(found)}); nothing was changed. Give "
                                 f"another --out (leave it out for a new folder per comparison), or --overwrite to "
                                 f"replace it")
