"""The run step of a comparison (plan -> run -> report): the learning-rate searches, then every cell x seed trained
(or, resuming, taken from a finished run), each run's best checkpoint scored per item on validation and test."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rnnzoo.compare.models import CellModel
from rnnzoo.compare.parallel_runs import train_and_score
from rnnzoo.compare.resume import load_finished
from rnnzoo.compare.single_run import RunResult, TrainSettings, calibrates, run_overrides


@dataclass
class TrainedRuns:
    """What the run step hands to the report: every run, each cell's best run (by validation) with its task, the
    point forecasts the ensemble is built from, and the monitored metric."""

    runs: list[RunResult] = field(default_factory=list)
    best_task: dict[str, tuple[RunResult, Any]] = field(default_factory=dict)
    point_forecasts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (cell, seed) -> test
    val_point_forecasts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # and validation
    monitor: str | None = None
    mode: str = "min"

    @property
    def first_task(self) -> Any:
        """The first cell's best task: every cell of a comparison shares its task model class, objective and
        preprocessing, so this one answers for all of them."""
        return next(iter(self.best_task.values()))[1]

    def keep(self, cell: str, run: RunResult, task: Any) -> None:
        """Add a run; it becomes its cell's best when its validation metric is the best so far."""
        self.monitor, self.mode = run.monitor, run.mode
        self.runs.append(run)
        best = self.best_task.get(cell)
        if best is None or (run.best_val < best[0].best_val if run.mode == "min" else run.best_val > best[0].best_val):
            self.best_task[cell] = (run, task)


def search_learning_rates(models: list[CellModel], dm: Any, settings: TrainSettings, space: Any, storage: Any, *,
                          seed: int, out: Path, tracking_uri: str, experiment_name: str, parent_id: str,
                          data_name: str, client: Any, log: Callable[[str], None]):
    """An Optuna study per cell (:mod:`rnnzoo.compare.search`) on validation only; returns the cells' models
    (resized when the search also sizes them), their learning rates and each study's summary, all logged as
    parameters of the parent run."""
    from rnnzoo.compare.search import search_cell

    chosen_models, lrs, searched = [], {}, {}
    for m in models:
        chosen, lrs[m.cell], searched[m.cell] = search_cell(
            m, dm, settings.for_cell(m.cell), space, seed=seed, study_name=f"{space.study_name}-{m.cell}",
            storage=storage, out=out,
            tracking_uri=tracking_uri, experiment_name=experiment_name, parent_run_id=parent_id,
            data_name=data_name, log=log)
        chosen_models.append(chosen)
        client.log_param(parent_id, f"search.{m.cell}.lr", lrs[m.cell])
        client.log_param(parent_id, f"search.{m.cell}.study", searched[m.cell]["study"])
        client.log_param(parent_id, f"search.{m.cell}.best_trial", searched[m.cell]["best_trial"])
        if space.size_range:
            client.log_param(parent_id, f"search.{m.cell}.hidden_size", chosen.hidden_size)
            client.log_param(parent_id, f"search.{m.cell}.num_params", chosen.num_params)
        client.log_metric(parent_id, f"search/{m.cell}/best_value", searched[m.cell]["best_value"])
    return chosen_models, lrs, searched


def train_all(models: list[CellModel], seeds: list[int], settings: TrainSettings, lrs: dict[str, float], dm: Any,
              out: Path, *, tracking_uri: str, experiment_name: str, parent_id: str, calibrate: bool, resume: bool,
              ensemble: bool, log: Callable[[str], None], progress: Any = None, workers: int = 1,
              threads: int = 1, ray: dict[str, Any] | None = None) -> TrainedRuns:
    """Every cell x seed, in ``out/runs/<cell>-seed<k>``: trained (a child MLflow run) and scored per item, or,
    with ``resume``, taken from a run that finished there before. ``workers`` > 1 trains the runs in that many
    worker processes first (:mod:`rnnzoo.compare.parallel_runs`, ``threads`` shared among them), and ``ray`` (the
    cluster :func:`~rnnzoo.compare.ray_runs.connect` described) as Ray tasks on that cluster; either way each run
    is then taken back in the sequential order, and a run that failed there is reported and left out."""
    from rnnzoo.compare.ensemble import collect_point_forecasts
    from rnnzoo.compare.resume import RUN_FILE, interrupted_checkpoint

    trained = TrainedRuns()
    total, started = len(models) * len(seeds), time.perf_counter()
    grid = [(m, seed, dataclasses.replace(settings.for_cell(m.cell), lr=lrs[m.cell]),
             out / "runs" / f"{m.cell}-seed{seed}") for m in models for seed in seeds]
    in_workers: dict[tuple[str, int], Any] = {}
    pending = [job for job in grid if not (resume and (job[3] / RUN_FILE).is_file())]
    if ray is not None:
        from rnnzoo.compare.ray_runs import train_on_ray

        in_workers = train_on_ray(pending, dm, address=ray["address"], cpus_per_run=ray["cpus_per_run"],
                                  tracking_uri=tracking_uri, experiment_name=experiment_name, parent_id=parent_id,
                                  calibrate=calibrate, log=log, resume=resume)
    elif workers > 1:
        from rnnzoo.compare.parallel_runs import train_in_parallel

        log(f"training {len(pending)} runs in {workers} worker processes ...")
        in_workers = train_in_parallel(pending, dm, workers=workers, threads=threads, tracking_uri=tracking_uri,
                                       experiment_name=experiment_name, parent_id=parent_id, calibrate=calibrate,
                                       log=log, resume=resume)
    for m, seed, s, root in grid:
        if isinstance(in_workers.get((m.cell, seed)), BaseException):
            continue  # reported when it failed
        finished = load_finished(root, m.model, s, run_overrides(s, calibrates(m, s, calibrate))) \
            if resume or (m.cell, seed) in in_workers else None
        if finished is not None:
            r, task = finished
            if (m.cell, seed) not in in_workers:
                log(f"{m.name} seed {seed}: finished before (MLflow run {r.run_id}), kept (--resume)")
        else:
            if resume and (last := interrupted_checkpoint(root)) is not None:
                log(f"{m.name} seed {seed}: interrupted before, continues from {last} (--resume)")
            r, task = train_and_score(m, dm, seed, s, root, tracking_uri=tracking_uri,
                                      experiment_name=experiment_name, parent_id=parent_id, calibrate=calibrate,
                                      resume=resume)
        if ensemble and type(task.model).median_ensemble:
            trained.point_forecasts[(m.cell, seed)] = collect_point_forecasts(task, dm)
            trained.val_point_forecasts[(m.cell, seed)] = collect_point_forecasts(task, dm, "val")
        trained.keep(m.cell, r, task)
        tests = ", ".join(f"test/{k} {v:.4f}" for k, v in r.test.items() if k != "loss")
        log(f"[{len(trained.runs)}/{total}] {m.name} seed {seed} lr {s.lr:.3g}: {tests}; best {r.monitor} "
            f"{r.best_val:.4f} at epoch {r.best_epoch}/{r.epochs}, {r.seconds_per_epoch:.2f} s/epoch "
            f"({time.perf_counter() - started:.0f} s so far)")
        if progress is not None:
            progress.update(1)
    if not trained.runs or {m.cell for m in models} - set(trained.best_task):
        failed = [f"{cell} seed {seed}" for (cell, seed), v in in_workers.items() if isinstance(v, BaseException)]
        raise RuntimeError(f"every run of a cell failed ({', '.join(failed)}); see the messages above")
    return trained


@dataclass
class RunOutcome:
    """The run step's result: the trained runs, each cell's search summary (when searched), the baselines'
    scores on the same items (name -> ``{"scores", "items", "val_scores", "val_items", ...}``) and the median
    ensemble's pseudo-runs (one per seed, :func:`~rnnzoo.compare.ensemble.ensemble_runs`; empty without one),
    with the wall seconds the baselines took to fit and score (beside the runs' own ``fit_seconds``)."""

    trained: TrainedRuns
    searched: dict[str, Any]
    baseline_runs: dict[str, dict[str, Any]]
    median_runs: list[dict[str, Any]]
    baseline_seconds: float = 0.0


def run_plan(plan: Any, *, client: Any, parent_id: str, log: Callable[[str], None], progress: Any,
             threads: int) -> RunOutcome:
    """Search (when asked), train every cell x seed, then fit the baselines the verdict compares against."""
    o, settings = plan.options, plan.settings
    models, lrs, searched = plan.models, {m.cell: settings.for_cell(m.cell).lr for m in plan.models}, {}
    common = dict(tracking_uri=plan.tracking_uri, experiment_name=o.experiment_name, parent_id=parent_id)
    if plan.space is not None:
        models, lrs, searched = search_learning_rates(
            models, plan.dm, settings, plan.space, plan.storage, seed=o.seeds[0], out=plan.out,
            data_name=plan.data_name, client=client, log=log, **common)
    trained = train_all(models, list(o.seeds), settings, lrs, plan.dm, plan.out, calibrate=o.calibrate,
                        resume=o.resume, ensemble=o.ensemble, log=log, progress=progress, workers=o.jobs,
                        threads=threads, ray=plan.meta.get("ray_cluster"), **common)
    median_runs = []
    if trained.point_forecasts:
        from rnnzoo.compare.ensemble import ensemble_runs

        objective = trained.first_task.objective
        median_runs = ensemble_runs(trained.point_forecasts, objective.metric_from_sums, trained.val_point_forecasts)
    started = time.perf_counter()
    baseline_runs = fit_baselines(plan, trained, log)
    return RunOutcome(trained, searched, baseline_runs, median_runs, time.perf_counter() - started)


def fit_baselines(plan: Any, trained: TrainedRuns, log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """The baselines on the same items as the networks: for a series with a season, the statistical forecasts
    refitted at every origin (:mod:`rnnzoo.compare.statistical_baselines`); else what the task model class says
    its networks must beat (its ``baselines(datamodule)``), when it says."""
    dm, o = plan.dm, plan.options
    model_class = type(trained.first_task.model)
    if plan.statistical_baselines:
        from rnnzoo.compare.statistical_baselines import statistical_baselines

        if o.classical_baselines:
            log("refitting AutoETS, AutoARIMA and AutoTheta at every validation and test origin"
                + (f" (their form searched at every {o.reselect_every}th)" if o.reselect_every > 1 else "") + " ...")
        return statistical_baselines(dm.series_values, dm.proportions, dm.input_length, dm.horizon, dm.stride,
                                     dm.season, num_targets=getattr(dm, "num_targets", None),
                                     classical=o.classical_baselines, quantiles=scored_levels(trained),
                                     workers=o.jobs, reselect_every=o.reselect_every)
    if hasattr(model_class, "baselines"):
        log("fitting the task's baselines on the training split ...")
        return model_class.baselines(dm)
    return {}


def scored_levels(trained: TrainedRuns) -> tuple[float, ...] | None:
    """The quantile levels the networks' forecast distributions are scored at (the objective says: a quantile
    head's own, a Gaussian head's 0.1/0.5/0.9), else None."""
    task = trained.first_task
    return getattr(task.objective, "quantile_levels", lambda model: None)(task.model)
