"""What a comparison saves to be used afterwards: each cell's best network (``models/<cell>-seed<k>``), every
baseline that can read raw input (``baselines/<name>``) and the median ensemble (``ensemble/``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.compare.single_run import RunResult


def saved_model_name(run: RunResult) -> str:
    """The folder name of a run's saved model under ``<out>/models/``: ``gru-seed0``, never a zoo name."""
    return f"{run.cell}-seed{run.seed}"


def save_models(best_task: dict[str, Any], out: Path, data_name: str) -> dict[str, dict[str, Any]]:
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


def _training_run(run: RunResult, data_name: str, out: Path) -> dict[str, Any]:
    """What a saved model's config.json and card record of the compare run that trained it."""
    return {"data": data_name, "comparison": str(out), "cell": run.cell, "seed": run.seed, "lr": run.lr,
            "mlflow_run_id": run.run_id, "best_epoch": run.best_epoch, "epochs": run.epochs,
            "chosen_on": f"{run.monitor} (validation)", "validation": {run.monitor: run.best_val},
            "test": {k: v for k, v in run.test.items()}}


def save_ensemble(best_task: dict[str, Any], out: Path) -> Path:
    """The saved models' median ensemble in ``out/ensemble``, ready to load with
    ``ForecastEnsemble.from_pretrained``."""
    from rnnzoo.tasks.forecaster.ensemble import ForecastEnsemble

    members = [best_task[cell][1].model for cell in sorted(best_task)]
    return ForecastEnsemble(members).save_pretrained(out / "ensemble")


def save_statistical_baselines(baseline_runs: dict[str, dict[str, Any]], dm: Any, best_task: dict[str, Any],
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


def save_task_baselines(baseline_runs: dict[str, dict[str, Any]], best_task: dict[str, Any],
                        out: Path) -> dict[str, str]:
    """Save each task baseline that carries its fitted numbers (``"state"``) in ``<out>/baselines/<name>``, with
    the networks' preprocessing (front end or vocabulary) so it reads raw input as they do; the task model class
    says which saved-baseline kind its baselines are (``saved_baseline_kind``)."""
    from rnnzoo.baselines import baseline_folder_name, save_baseline
    from rnnzoo.baselines.arrays import save_arrays

    _, task = next(iter(best_task.values()))
    kind = type(task.model).saved_baseline_kind
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


@dataclass
class SavedOutputs:
    """Where a comparison saved what can be used afterwards (empty when ``save_models=False``)."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # cell -> {"path", "bytes", "seed", ...}
    baselines: dict[str, str] = field(default_factory=dict)  # name -> folder
    ensemble: str | None = None  # the median ensemble's folder (forecasters with ensemble=True)


def save_outputs(plan: Any, outcome: Any) -> SavedOutputs:
    """Save the plan's networks, baselines and (when ranked) ensemble under ``plan.out``, unless told not to."""
    if not plan.options.save_models:
        return SavedOutputs()
    best_task, baseline_runs = outcome.trained.best_task, outcome.baseline_runs
    baselines = save_statistical_baselines(baseline_runs, plan.dm, best_task, plan.out) \
        if plan.statistical_baselines else save_task_baselines(baseline_runs, best_task, plan.out)
    models = save_models(best_task, plan.out, plan.data_name)
    ensemble = str(save_ensemble(best_task, plan.out)) if outcome.median_runs else None
    return SavedOutputs(models, baselines, ensemble)
