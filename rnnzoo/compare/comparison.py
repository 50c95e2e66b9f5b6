"""``compare``: train every cell x seed at one parameter budget on one dataset, and write the table, the curves
and every number (results.md, curves.png, results.json), with one parent MLflow run and a child run per run."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sys
import time
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Callable

import lightning as L
import numpy as np
import torch

from rnnzoo.compare.lifecycle import INTERRUPTS, end_killed, fail_abandoned_runs, owner_tags, sigterm_exits
from rnnzoo.compare.models import resolve_models
from rnnzoo.compare.plan import plan_lines, plan_markdown
from rnnzoo.compare.plot import plot_curves
from rnnzoo.compare.presets import PRESETS, DataPreset, get_preset
from rnnzoo.compare.single_run import ROLE_TAG, RunResult, TrainSettings
from rnnzoo.compare.summary import results_markdown, summarise
from rnnzoo.compare.errors import CompareOptionError
from rnnzoo.compare.forecaster_config import NORMALIZATION_PREFIX, forecaster_config, with_normalization
from rnnzoo.families import CELL_NAMES as CELLS

DataSource = str | os.PathLike | L.LightningDataModule | Callable[[], L.LightningDataModule]


def _datamodule(data: DataSource, preset: DataPreset | None, options: dict[str, Any]) -> L.LightningDataModule:
    if preset is not None:
        return preset.datamodule(**{**preset.datamodule_defaults, **options})
    if isinstance(data, L.LightningDataModule):
        return data
    return data(**options)


def _parent_run(tracking_uri: str, experiment_name: str, run_name: str, params: dict[str, Any], out: Path):
    """The comparison's parent run, after marking FAILED the runs a dead process left RUNNING for ``out``; returns
    the client, the run's id and a line per run so marked."""
    from mlflow.tracking import MlflowClient

    from rnnzoo.tracking import experiment_id, sqlite_artifact_location

    client = MlflowClient(tracking_uri=tracking_uri)
    # Artifacts next to a SQLite store, not in the working directory (see sqlite_artifact_location).
    experiment = experiment_id(client, experiment_name, sqlite_artifact_location(tracking_uri))
    abandoned = fail_abandoned_runs(client, experiment, out)
    # The owner's tags go in with the run, in one write: a run that exists always says whose it is.
    run = client.create_run(experiment, run_name=run_name, tags={ROLE_TAG: "compare", **owner_tags(out)})
    for key, value in params.items():
        client.log_param(run.info.run_id, key, str(value)[:6000])  # MLflow's limit on a parameter value
    return client, run.info.run_id, abandoned


def _stoppable(function: Callable) -> Callable:
    """``function`` with SIGTERM turned into ``SystemExit(143)`` while it runs (see :func:`~rnnzoo.compare
    .lifecycle.sigterm_exits`), so that a stopped comparison ends its MLflow runs as KILLED."""

    @functools.wraps(function)
    def stoppable(*args: Any, **kwargs: Any) -> Any:
        with sigterm_exits():
            return function(*args, **kwargs)

    return stoppable


@_stoppable
def compare(
    data: DataSource,
    *,
    family: str | None = None,
    task_config: dict[str, Any] | None = None,
    budget: int | str | None = None,
    cells: tuple[str, ...] = tuple(CELLS),
    seeds: tuple[int, ...] = (0, 1, 2),
    max_epochs: int | None = None,
    max_time: float | None = None,
    patience: int | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    weight_decay: float = 0.0,
    gradient_clip_val: float | None | str = "preset",
    model_overrides: dict[str, Any] | None = None,
    lr_scheduler: dict[str, Any] | None | str = "preset",
    lr_search: int = 0,
    lr_range: tuple[float, float] = (1e-4, 3e-2),
    search_epochs: int | None = None,
    search_size: bool = False,
    size_range: tuple[float, float] = (0.5, 1.0),
    study_storage: str | None = None,
    study_name: str | None = None,
    search_seed: int | None = None,
    datamodule_options: dict[str, Any] | None = None,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    tracking_uri: str | None = None,
    experiment_name: str = "rnnzoo-compare",
    threads: int | None = None,
    jobs: int = 1,
    progress_bar: bool = False,
    deterministic: bool = False,
    save_models: bool = True,
    classical_baselines: bool = True,
    series_options: Any = None,
    text_level: str = "char",
    quantiles: Sequence[float] | None = None,
    normalization: str | None = None,
    calibrate: bool = True,
    ensemble: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train every cell with every seed at one parameter budget and report them side by side.

    Args:
        data: a preset name (``"jsb"``, ``"japanese_vowels"``, ``"co2"``, ``"sunspots"``, ``"ptb"``, see
            :mod:`rnnzoo.compare.presets`: it also brings the models and a training set-up), the path of the
            user's own data (a CSV/Parquet table, a folder of label/*.wav, a .txt file or folder: see
            :mod:`rnnzoo.compare.user_data`, which chooses the task, models and budget from it), a DataModule, or
            a factory called with ``datamodule_options``. The same DataModule (same split) serves every run.
        family, task_config, budget: the models (see :func:`rnnzoo.compare.models.resolve_models`); a preset
            supplies them when left out.
        cells, seeds: what to train; ``seeds`` seed model initialisation and dropout (the data split is the
            DataModule's own ``seed``, fixed across runs so every run sees the same split).
        max_epochs, max_time, patience: per-run budget (epochs, seconds) and early stopping on the task's
            validation metric (``RecurrentTask.objective.monitor``); None: the preset's (those of
            docs/results.md's runs), else 50 epochs and patience 10. ``patience=0`` turns early stopping off.
        optimizer, lr, weight_decay, gradient_clip_val, model_overrides, lr_scheduler: training set-up (preset
            defaults when None / ``"preset"``; ``lr_scheduler`` as :class:`~rnnzoo.training.RecurrentTask` takes it).
        lr_search: when > 0, search each cell's learning rate with Optuna (:mod:`rnnzoo.compare.search`): this
            many trials in ``lr_range`` (TPE, log scale, seeded by ``search_seed``, default the first seed), each
            training the cell with the first seed for ``search_epochs`` (default ``max_epochs``) epochs, a median
            rule pruning trials that fall behind after an epoch; the rate of the best *validation* metric trains
            that cell's runs. The test split plays no part in it. Every trial is a child run of the parent run.
        search_size: also search each cell's hidden size, between ``size_range`` factors of its parameter-matched
            size (default 0.5 to 1.0: the budget becomes a ceiling, not an equal size for all cells; a factor
            above 1 lets a cell exceed the budget). Off by default: the comparison is then at equal budgets.
        study_storage, study_name: the Optuna database (default ``sqlite:///<out_dir>/optuna.db``; a shared
            database URL lets several machines add trials to the same studies) and the studies' name prefix
            (default ``<experiment_name>-<data>-<budget>``; one study per cell, ``<prefix>-<cell>``). A study
            that exists is continued: ``lr_search`` more trials, the best of all its trials chosen.
        out_dir: where results.md, curves.png, results.json, runs/ (checkpoints) and models/ go; None: a new
            folder ``runs/compare/<data>-<date>-<time>`` (:func:`default_out_dir`).
        overwrite: replace a comparison ``out_dir`` already holds; without it such a folder is refused, so a
            second comparison never deletes or mixes with the first's checkpoints and models.
        resume: continue the interrupted comparison in ``out_dir`` (:mod:`rnnzoo.compare.resume`): runs that
            finished are kept (their results and best checkpoints), the others trained; refused unless the
            folder's comparison was started with the same data, models and settings.
        tracking_uri: MLflow store (see :mod:`rnnzoo.tracking`); one parent run, a child run per trained run.
        threads: ``torch.set_num_threads`` during the comparison (tiny RNNs often run faster on one thread).
        jobs: train the cell x seed runs in this many worker processes (:mod:`rnnzoo.compare.parallel_runs`),
            the threads divided among them; results equal the sequential ones for the same seeds, within float
            noise. A run that fails in a worker is reported and left out; the others finish.
        classical_baselines: time-series data also score AutoETS, AutoARIMA, AutoTheta and their median, each
            refitted with model selection at every forecast origin (see
            :mod:`rnnzoo.compare.statistical_baselines`); the naive and drift forecasts (and the seasonal naive one
            where a season is found) always.
        series_options, text_level: for a user path, the time-series options
            (:class:`~rnnzoo.compare.user_data.SeriesOptions`) and the text level (``"char"`` or ``"word"``).
        quantiles: forecasting only: train every cell's forecaster with these quantile levels (pinball loss)
            instead of a point forecast, parameter-matched again at the budget (the head grows); the automatic
            statistical baselines then give the same levels (their normal forecast distributions), and a second
            verdict ranks by the pinball loss. The point metrics score the networks' medians.
        normalization: forecasting only: the forecasters' ``normalization`` instead of the preset's or the rule's
            (``"last_value"``, ``"es"``, ``"seasonal_difference"``, see
            :class:`~rnnzoo.tasks.forecaster.Forecaster`); the season is the data's, ``"seasonal_difference"``
            gets ``drift=True`` when the training range drifts (:mod:`rnnzoo.compare.trend`), ``"es"`` one
            smoothing per series. The models are then named ``sdiff-...`` / ``esrnn-...``.
        calibrate: quantile forecasters only (else ignored): build them with ``calibrated=True`` and calibrate
            each run's best checkpoint on the validation split (conformalized quantile regression,
            :func:`rnnzoo.tasks.forecaster.calibration.calibrate_intervals`) before it is tested and saved, so
            the test coverage, pinball loss and CRPS are those of the calibrated intervals; ``coverage_raw`` and
            ``pinball_raw`` keep the network's own. False (``--no-calibration``): the raw intervals only.
        ensemble: forecasting only: also rank the median of the cells' forecasts (per seed, each run's best
            checkpoint; :mod:`rnnzoo.compare.ensemble`) in the verdict, like one more cell whose cost is the sum
            of its members'; it can then be the recommendation (``ForecastEnsemble`` of the saved models).
        save_models: save each cell's best run (by validation) with ``rnnzoo.save_pretrained`` in models/.
        log: where the one-line progress messages go (default: printed, above a progress bar over the whole
            comparison when stderr is a terminal).

    Returns:
        Everything written to results.json (``meta``, ``verdict``, ``cells``, ``runs``, ``lr_search``,
        ``baselines``, ``models``, ``files``).
    """
    from rnnzoo.compare.ensemble import ENSEMBLE, ensemble_cost, ensemble_runs
    from rnnzoo.compare.quiet import quiet_training
    from rnnzoo.compare.resume import check_resumable, write_identity
    from rnnzoo.compare.run_phase import search_learning_rates, train_all
    from rnnzoo.compare.notes import results_notes
    from rnnzoo.compare.use_it import use_markdown, use_recommended
    from rnnzoo.compare.verdict import build_verdict, inference_ms_per_step, verdict_markdown
    from rnnzoo.mlflow_export import git_commit
    from rnnzoo.tracking import check_tracking_uri, resolve_tracking_uri, sqlite_artifact_location
    from rnnzoo.version import __version__

    preset, user_data = _preset_for(data, series_options, text_level, datamodule_options)
    budget_chosen_by_rule = user_data is not None and budget is None
    if preset is not None and family is None and task_config is None:
        family, task_config = preset.family, preset.task_config
        budget = budget or (preset.default_budget if task_config is not None else None)
    if quantiles is not None:
        family, task_config, budget = _with_quantiles(family, task_config, budget, quantiles)
        if budget_chosen_by_rule:  # the head is Q times wider: the rule moves up to a budget that still matches
            from rnnzoo.compare.user_data import fitting_budget

            budget = fitting_budget(task_config, budget)
    for option, wanted in ((f"normalization={normalization!r}", normalization is not None),
                           ("ensemble=True (--ensemble)", ensemble)):
        if wanted:  # refused before any data is read
            forecaster_config(family, task_config, budget, option)
    # with a normalization the models need the data (its season, its drift): resolved once the data is set up
    models = resolve_models(family, task_config, budget, cells) if normalization is None else []
    settings = _train_settings(preset, optimizer=optimizer, lr=lr, weight_decay=weight_decay, max_time=max_time,
                               max_epochs=max_epochs, patience=patience, gradient_clip_val=gradient_clip_val,
                               model_overrides=model_overrides, deterministic=deterministic,
                               progress_bar=progress_bar, lr_scheduler=lr_scheduler)
    if not isinstance(jobs, int) or jobs < 1:
        raise CompareOptionError(f"jobs={jobs!r}: give a whole number of worker processes, 1 or more")
    out = Path(out_dir) if out_dir is not None else default_out_dir(data)
    if resume and (overwrite or lr_search or out_dir is None):
        raise CompareOptionError("--resume continues the comparison in the --out folder it names, as it was started: "
                                 "give --out, and neither --overwrite (which starts over) nor --lr-search (its "
                                 "studies would add trials)")
    if not resume:
        check_out_dir(out, overwrite)  # before anything is trained or written
    out.mkdir(parents=True, exist_ok=True)
    uri = resolve_tracking_uri(tracking_uri)
    check_tracking_uri(uri, experiment_name=experiment_name, artifact_location=sqlite_artifact_location(uri))
    dm = _datamodule(data, preset, {} if user_data else dict(datamodule_options or {}))
    dm.prepare_data()
    dm.setup("fit")
    if normalization is not None:
        task_config, budget = with_normalization(family, task_config, budget, normalization, dm)
        family = None
        models = resolve_models(None, task_config, budget, cells)
    # not the zoo's point forecasters of the same size: say so in every label (sdiff-quantile-forecaster-...)
    prefix = NORMALIZATION_PREFIX.get(normalization, "") + ("quantile-" if quantiles is not None else "")
    models = [dataclasses.replace(m, name=f"{prefix}{m.name}") for m in models]
    data_name = preset.name if preset else type(dm).__name__
    label = models[0].name.rsplit("-", 1)[-1]
    meta = {
        "data": data_name, "datamodule": type(dm).__name__, "datamodule_options": datamodule_options or {},
        "data_info": {k: v for k, v in getattr(dm, "info", {}).items() if k in ("content_sha256", "parsed")},
        "split_sizes": dm.split_sizes() if hasattr(dm, "split_sizes") else {},
        "user_data": user_data,
        "family": family, "task_config": task_config, "quantiles": task_config.get("quantiles") if task_config else None, "budget": label, "cells": [m.cell for m in models],
        "seeds": list(seeds), "settings": {k: v for k, v in vars(settings).items()}, "calibrate": calibrate,
        "lr_search": {"n": lr_search, "range": list(lr_range), "epochs": search_epochs or settings.max_epochs,
                      "size_range": list(size_range) if search_size else None},
        "tracking_uri": uri, "experiment": experiment_name, "threads": threads or torch.get_num_threads(),
        "jobs": jobs,
        "rnnzoo_version": __version__, "torch_version": torch.__version__,
        "git_commit": git_commit(Path(__file__).resolve().parent),
    }
    if resume:  # before a parent run is opened: a refused resume changes nothing
        check_resumable(out, meta)
    write_identity(out, meta)
    space, storage = None, None
    if lr_search:
        from rnnzoo.compare.search import SearchSpace, import_optuna, open_storage, public_url

        import_optuna()  # before any training: a missing Optuna is an error at once
        space = SearchSpace(lr_search, tuple(lr_range), search_epochs, tuple(size_range) if search_size else None,
                            study_storage or f"sqlite:///{out.resolve() / 'optuna.db'}",
                            study_name or f"{experiment_name}-{data_name}-{label}", search_seed)
        meta["lr_search"].update(storage=public_url(space.storage), study_prefix=space.study_name,
                                 search_seed=search_seed if search_seed is not None else seeds[0])
        storage = open_storage(space.storage)  # a bad URL or a corrupt file is refused before the parent run
    elif search_size:
        raise ValueError("search_size needs a search: give lr_search=N (--lr-search N) trials")
    client, parent_id, abandoned = _parent_run(uri, experiment_name, f"compare-{data_name}-{label}",
                                    {"data": data_name, "budget": label, "cells": meta["cells"], "seeds": list(seeds),
                                     **{f"settings.{k}": v for k, v in meta["settings"].items()},
                                     "lr_search": lr_search,
                                     **({"search.storage": meta["lr_search"]["storage"],
                                         "search.study_prefix": space.study_name,
                                         "search.size_range": meta["lr_search"]["size_range"]} if space else {})},
                                    out)
    log, progress = _progress(log, len(models) * len(seeds))
    for line in abandoned:
        log(line)
    meta["plan"] = plan_lines(meta, out)  # every choice made for the user, said before anything is trained
    log("Plan:\n" + "\n".join(f"  {line}" for line in meta["plan"]))
    meta["parent_run_id"] = parent_id
    status = "FAILED"
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    context = contextlib.ExitStack()  # quiet warnings and the progress bar, closed whatever happens
    context.enter_context(quiet_training())
    if progress is not None:
        context.callback(progress.close)
    try:
        searched: dict[str, Any] = {}
        lrs = {m.cell: settings.lr for m in models}
        if space is not None:
            models, lrs, searched = search_learning_rates(
                models, dm, settings, space, storage, seed=seeds[0], out=out, tracking_uri=uri,
                experiment_name=experiment_name, parent_id=parent_id, data_name=data_name, client=client, log=log)
        trained = train_all(models, list(seeds), settings, lrs, dm, out, tracking_uri=uri,
                            experiment_name=experiment_name, parent_id=parent_id, calibrate=calibrate, resume=resume,
                            ensemble=ensemble, log=log, progress=progress, workers=jobs,
                            threads=threads or old_threads)
        runs, best_task, monitor, mode = trained.runs, trained.best_task, trained.monitor, trained.mode
        point_forecasts, val_point_forecasts = trained.point_forecasts, trained.val_point_forecasts
        baseline_runs = {}
        statistical = preset is not None and preset.seasonal_baseline and getattr(dm, "season", None)
        if statistical:
            if classical_baselines:
                log("refitting AutoETS, AutoARIMA and AutoTheta at every validation and test origin ...")
            baseline_runs = _baselines(dm, classical_baselines, _scored_levels(best_task), workers=jobs)
        elif hasattr(type(best_task[models[0].cell][1].model), "baselines"):  # what the task says it must beat
            log("fitting the task's baselines on the training split ...")
            baseline_runs = type(best_task[models[0].cell][1].model).baselines(dm)
        baselines = {name: b["scores"] for name, b in baseline_runs.items()}
        saved_baselines = {}
        if save_models:
            saved_baselines = _save_baselines(baseline_runs, dm, best_task, out) if statistical else \
                _save_task_baselines(baseline_runs, best_task, out)
        saved = _save_models(best_task, out, data_name) if save_models else {}
        summary = summarise(runs)
        test_metrics = [k for k in runs[0].test if k != "loss"]
        costs = {cell: {"params": s["num_params"], "train_seconds_per_epoch": s["seconds_per_epoch"]["mean"],
                        "inference_ms_per_step": inference_ms_per_step(best_task[cell][1].model)}
                 for cell, s in summary.items()}
        objective = best_task[models[0].cell][1].objective
        metric = _verdict_metric(objective, dm)
        median_runs = ensemble_runs(point_forecasts, objective.metric_from_sums, val_point_forecasts) \
            if point_forecasts else []
        if median_runs:
            costs[ENSEMBLE] = ensemble_cost(costs)
            if save_models:  # the saved models' ensemble, ready to load: ForecastEnsemble.from_pretrained(path)
                from rnnzoo.tasks.forecaster.ensemble import ForecastEnsemble

                members = [best_task[cell][1].model for cell in sorted(best_task)]
                saved_ensemble = ForecastEnsemble(members).save_pretrained(out / "ensemble")
        # overlapping forecast windows (horizon H, stride s) share targets with their H/s - 1 neighbours
        block = max(1, -(-dm.horizon // dm.stride)) if hasattr(dm, "horizon") and hasattr(dm, "stride") else 1
        verdict = build_verdict([r.to_dict() for r in runs] + median_runs, metric, objective.item_metrics[metric],
                                lambda num, den: objective.metric_from_sums(metric, num, den), costs,
                                {k: v for k, v in baseline_runs.items() if metric in v["items"]}, seed=seeds[0],
                                block=block)
        probabilistic = None
        if all("pinball" in r.items for r in runs):  # quantile or Gaussian forecasters: rank by the pinball loss too
            probabilistic = build_verdict(
                [r.to_dict() for r in runs], "pinball", "min",
                lambda num, den: objective.metric_from_sums("pinball", num, den), costs,
                {k: v for k, v in baseline_runs.items() if "pinball" in v["items"]}, seed=seeds[0], block=block)
            probabilistic["levels"] = list(_scored_levels(best_task))
        title = f"{data_name}: {', '.join(summary)} at {label} parameters"
        results = {"meta": {**meta, "monitor": monitor, "mode": mode}, "verdict": verdict,
                   "verdict_probabilistic": probabilistic, "cells": summary,
                   "runs": [r.to_dict() for r in runs], "lr_search": searched, "baselines": baselines,
                   "baseline_items": {name: b["items"] for name, b in baseline_runs.items()},
                   "baseline_val_scores": {name: b["val_scores"] for name, b in baseline_runs.items()},
                   "baseline_val_items": {name: b["val_items"] for name, b in baseline_runs.items()},
                   "baseline_chosen": {name: b["chosen"] for name, b in baseline_runs.items() if "chosen" in b},
                   "baseline_fallbacks": {name: b["fallbacks"] for name, b in baseline_runs.items()
                                          if b.get("fallbacks")},
                   "models": saved, "saved_baselines": saved_baselines,
                   "ensemble": [{k: v for k, v in row.items() if k not in ("items", "val_items")}
                                for row in median_runs]}
        season_note = _season_note(dm) if statistical else None
        notes = results_notes(settings=settings, runs=runs, user_data=user_data, data_name=data_name,
                              verdict=verdict, forecasting_baselines=bool(baseline_runs) and bool(statistical),
                              normalization=(task_config or {}).get("normalization"), ensemble=ensemble,
                              median_runs=median_runs, ensemble_path=out / "ensemble" if save_models else None,
                              searched=searched, monitor=monitor, space=space, lr_range=lr_range, seed=seeds[0],
                              storage=meta["lr_search"].get("storage"), label=label, log=log)
        if season_note:
            notes.append(season_note)
        files = {"results_md": str(out / "results.md"), "curves_png": str(out / "curves.png"),
                 "results_json": str(out / "results.json")}
        if median_runs and save_models:
            files["ensemble"] = str(saved_ensemble)
        use = use_recommended(verdict, objective_task(best_task), saved, saved_baselines,
                              str(saved_ensemble) if median_runs and save_models else None)
        results["use"] = use
        verdicts = verdict_markdown(verdict) + "\n" + use_markdown(use)
        if probabilistic:
            verdicts += "\n" + verdict_markdown(probabilistic, title=(
                f"Probabilistic verdict (mean pinball loss at levels {probabilistic['levels']}; interval coverage "
                f"in the table below)"))
        (out / "results.md").write_text(verdicts + "\n" + plan_markdown(meta["plan"]) + "\n" + results_markdown(
            summary, monitor=monitor, mode=mode, test_metrics=test_metrics, title=title, notes=notes,
            baselines=baselines))
        levels = _scored_levels(best_task)
        plot_curves(runs, monitor, out / "curves.png", title=title,
                    nominal_coverage=levels[-1] - levels[0] if levels else None)
        results["files"] = files
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
        for cell, s in summary.items():
            for k, stat in s["test"].items():
                client.log_metric(parent_id, f"{cell}/test_{k}_mean", stat["mean"])
                client.log_metric(parent_id, f"{cell}/test_{k}_std", stat["std"])
        for path in files.values():
            client.log_artifact(parent_id, path)
        status = "FINISHED"
        return results
    except INTERRUPTS:  # Ctrl+C, or SIGTERM through sigterm_exits
        status = "KILLED"
        raise
    finally:
        context.close()
        if status == "KILLED":
            end_killed(client, parent_id)  # a failing store must not replace the interruption
        else:
            client.set_terminated(parent_id, status)
        torch.set_num_threads(old_threads)



def _preset_for(data: DataSource, series_options: Any, text_level: str,
                datamodule_options: dict[str, Any] | None) -> tuple[DataPreset | None, dict[str, Any] | None]:
    """The preset of a built-in dataset's name, or the one :mod:`rnnzoo.compare.user_data` plans for the path of
    the user's data (with what it read and chose); ``(None, None)`` for a DataModule or a factory."""
    if isinstance(data, (str, os.PathLike)) and not (isinstance(data, str) and data in PRESETS):
        from rnnzoo.compare.user_data import user_data_preset
        from rnnzoo.data.errors import DataError

        if not Path(data).expanduser().exists():
            raise DataError(f"--data {str(data)!r} is neither a built-in dataset ({', '.join(PRESETS)}) nor an "
                            f"existing file or folder; pass one of those names, or the path of your CSV/Parquet "
                            f"table, folder of label/*.wav, or .txt file")
        return user_data_preset(data, series=series_options, level=text_level, loader=datamodule_options)
    if isinstance(data, str):
        return get_preset(data), None
    return None, None


def _train_settings(preset: DataPreset | None, *, optimizer: str | None, lr: float | None, weight_decay: float,
                    max_time: float | None, max_epochs: int | None, patience: int | None,
                    gradient_clip_val: float | None | str, model_overrides: dict[str, Any] | None,
                    deterministic: bool, progress_bar: bool, lr_scheduler: Any) -> TrainSettings:
    """How every run trains: what is given, else the preset's (those of docs/results.md's runs), else Adam 1e-3,
    50 epochs, patience 10, clip 1 (``patience=0``: no early stopping)."""
    return TrainSettings(
        optimizer=optimizer or (preset.optimizer if preset else "adam"),
        lr=lr if lr is not None else (preset.lr if preset else 1e-3),
        weight_decay=weight_decay, max_time=max_time,
        max_epochs=max_epochs or (preset.max_epochs if preset else 50),
        patience=(patience if patience is not None else (preset.patience if preset else 10)) or None,
        gradient_clip_val=(preset.gradient_clip_val if preset else 1.0) if gradient_clip_val == "preset"
        else gradient_clip_val,
        model_overrides=model_overrides, deterministic=deterministic, progress_bar=progress_bar,
        lr_scheduler=(preset.lr_scheduler if preset else None) if lr_scheduler == "preset" else lr_scheduler,
    )


def _season_note(dm: Any) -> str | None:
    """results.md's sentence on whether the seasonal naive forecast is a baseline here, and how that was found."""
    from rnnzoo.compare.statistical_baselines import SEASON_THRESHOLD, seasonal_strength
    from rnnzoo.data.splits import chronological_split

    season = int(getattr(dm, "season", 1) or 1)
    if season < 2:
        return f"Seasonal naive forecast: not a baseline (season {season})."
    strengths = []
    for values in dm.series_values:
        train = chronological_split(len(values), dm.proportions)[0]
        first_column = np.asarray(values, dtype=np.float64).reshape(len(values), -1)[train, 0]
        strengths.append(seasonal_strength(first_column, season))
    found = max(strengths) > SEASON_THRESHOLD
    return (f"Seasonal naive forecast (m={season}): {'a baseline' if found else 'left out'}: the STL seasonal "
            f"strength of the training range is {max(strengths):.2f} " + ("(the largest over the series) "
                                                                           if len(strengths) > 1 else "")
            + f"{'above' if found else 'not above'} {SEASON_THRESHOLD} (Hyndman's rule).")


def _save_models(best_task: dict[str, Any], out: Path, data_name: str) -> dict[str, dict[str, Any]]:
    """Each cell's best run (by validation) saved with ``save_pretrained`` in ``out/models/<cell>-seed<k>``: a
    folder name no zoo name can be (zoo names start with their family). Returns results.json's ``models``."""
    from rnnzoo.hub import save_pretrained

    saved = {}
    for cell, (r, task) in best_task.items():
        folder = save_pretrained(task.model, out / "models" / saved_model_name(r),
                                 preprocessing=task.model.preprocessing, training_run=_training_run(r, data_name, out))
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        saved[cell] = {"path": str(folder), "bytes": size, "seed": r.seed, "run_id": r.run_id,
                       "best_val": r.best_val, "test": r.test}
    return saved


def _baselines(dm, classical: bool, levels: Sequence[float] | None = None,
               workers: int = 1) -> dict[str, dict[str, Any]]:
    """The statistical baselines on the series ``dm`` read, cut and windowed exactly as ``dm`` cuts them (and their
    quantiles at ``levels``, when the networks forecast a distribution)."""
    from rnnzoo.compare.statistical_baselines import statistical_baselines

    return statistical_baselines(dm.series_values, dm.proportions, dm.input_length, dm.horizon, dm.stride, dm.season,
                                 num_targets=getattr(dm, "num_targets", None), classical=classical,
                                 quantiles=levels, workers=workers)


def objective_task(best_task: dict[str, Any]) -> str:
    """The task name of the compared models (``forecaster``, ``language_model``, ...)."""
    _, task = next(iter(best_task.values()))
    return task.model.task


def _save_baselines(baseline_runs: dict[str, dict[str, Any]], dm: Any, best_task: dict[str, Any],
                    out: Path) -> dict[str, str]:
    """Save each statistical baseline in ``<out>/baselines/<name>`` (:mod:`rnnzoo.baselines`), reading input as
    the saved networks do (their preprocessing: column names, time column, frequency, number format)."""
    from rnnzoo.baselines import baseline_folder_name, save_baseline
    from rnnzoo.baselines.forecast import StatisticalForecaster

    _, task = next(iter(best_task.values()))
    preprocessing = task.model.preprocessing
    series = getattr(dm, "series_values", [np.zeros((1, 1))])
    saved = {}
    for name, run in baseline_runs.items():
        model = StatisticalForecaster(name, int(dm.season), int(dm.horizon), int(dm.input_length),
                                      int(getattr(dm, "num_targets", None) or series[0].shape[1]),
                                      int(series[0].shape[1]), preprocessing.to_config() if preprocessing else {})
        folder = out / "baselines" / baseline_folder_name(name)
        scores = {"validation": run.get("val_scores", {}), "test": run.get("scores", {})}
        save_baseline(folder, {**model.to_spec(), "scores": scores}, model.card(str(out), scores))
        saved[name] = str(folder)
    return saved


#: the saved-baseline kind of each task whose baselines can be saved (rnnzoo.baselines)
TASK_BASELINE_KINDS = {"sequence_classifier": "classify", "language_model": "count-lm",
                       "piano_roll": "note-frequencies"}


def _save_task_baselines(baseline_runs: dict[str, dict[str, Any]], best_task: dict[str, Any],
                         out: Path) -> dict[str, str]:
    """Save each task baseline that carries its fitted numbers (``"state"``) in ``<out>/baselines/<name>``, with
    the networks' preprocessing (front end or vocabulary) so it reads raw input as they do."""
    from rnnzoo.baselines import baseline_folder_name, save_baseline
    from rnnzoo.baselines.arrays import save_arrays

    _, task = next(iter(best_task.values()))
    kind = TASK_BASELINE_KINDS.get(task.model.task)
    saved = {}
    for name, run in baseline_runs.items():
        if kind is None or "state" not in run:
            continue
        folder = out / "baselines" / baseline_folder_name(name)
        scores = {"validation": run.get("val_scores", {}), "test": run.get("scores", {})}
        card = (f"# {name} (a baseline)\n\nSaved by `rnnzoo compare` ({out}); reads raw input through the "
                f"comparison's networks' preprocessing.\n\n" + "".join(
                    f"- {split}: " + ", ".join(f"{k} {v:.4g}" for k, v in s.items()) + "\n"
                    for split, s in scores.items()) + f"\n```\nrnnzoo predict {folder} INPUT\n```\n")
        save_baseline(folder, {"kind": kind, "method": name,
                               "preprocessing": task.model.preprocessing.to_config(), "scores": scores}, card)
        save_arrays(folder, run["state"])
        saved[name] = str(folder)
    return saved


def _with_quantiles(family: str | None, task_config: dict[str, Any] | None, budget: int | str | None,
                    quantiles: Sequence[float]) -> tuple[None, dict[str, Any], int | str]:
    """The models' task config with a quantile head, at the family's budget (sizes matched again: the head is
    Q times wider). Only forecasters have one."""
    from rnnzoo.tasks.forecaster.model import check_levels

    levels = sorted(check_levels(quantiles))
    task_config, budget = forecaster_config(family, task_config, budget, f"quantiles={levels}")
    return None, {**task_config, "gaussian": False, "quantiles": levels}, budget


#: what makes a folder a comparison's output (any of them): refused as ``out_dir`` without ``overwrite``
COMPARISON_FILES = ("results.json", "results.md", "comparison.json", "runs", "models", "ensemble", "baselines")


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


def saved_model_name(run: RunResult) -> str:
    """The folder name of a run's saved model under ``<out>/models/``: ``gru-seed0``, never a zoo name."""
    return f"{run.cell}-seed{run.seed}"


def _training_run(run: RunResult, data_name: str, out: Path) -> dict[str, Any]:
    """What a saved model's config.json and card record of the compare run that trained it."""
    return {"data": data_name, "comparison": str(out), "cell": run.cell, "seed": run.seed, "lr": run.lr,
            "mlflow_run_id": run.run_id, "best_epoch": run.best_epoch, "epochs": run.epochs,
            "chosen_on": f"{run.monitor} (validation)", "validation": {run.monitor: run.best_val},
            "test": {k: v for k, v in run.test.items()}}


def _scored_levels(best_task: dict[str, Any]) -> tuple[float, ...] | None:
    """The quantile levels the networks' forecast distributions are scored at (the objective says: a quantile
    head's own, a Gaussian head's 0.1/0.5/0.9), else None."""
    for _, task in best_task.values():
        return getattr(task.objective, "quantile_levels", lambda model: None)(task.model)
    return None


def _verdict_metric(objective: Any, dm: Any) -> str:
    """The test metric the verdict ranks by: the task's first (``mae`` for forecasts), or ``mase`` when a forecast
    spans several series or targets of different scales."""
    metric = next(iter(objective.item_metrics))
    series = getattr(dm, "series_values", None)
    if metric == "mae" and series is not None and (len(series) > 1 or (dm.num_targets or series[0].shape[1]) > 1):
        return "mase"
    return metric


def _progress(log: Callable[[str], None] | None, total: int):
    """The log function and a progress bar over the whole comparison (one tick per run) when stderr is a terminal
    and no log function was given; the bar is None otherwise."""
    if log is not None or not sys.stderr.isatty():
        return log or print, None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="rnnzoo compare", unit="run", dynamic_ncols=True)
    return bar.write, bar
