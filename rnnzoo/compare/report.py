"""The report step of a comparison (plan -> run -> report): the verdicts, results.md, curves.png and results.json,
and the summary metrics and files on the parent MLflow run."""

from __future__ import annotations

import json
from typing import Any, Callable

from rnnzoo.compare.notes import results_notes, season_note
from rnnzoo.compare.plan import plan_markdown
from rnnzoo.compare.plot import plot_curves
from rnnzoo.compare.run_phase import RunOutcome, scored_levels
from rnnzoo.compare.saving import SavedOutputs
from rnnzoo.compare.summary import results_markdown, summarise
from rnnzoo.compare.use_it import use_markdown, use_recommended
from rnnzoo.compare.verdict import build_verdict, inference_ms_per_step, verdict_markdown


def write_report(plan: Any, outcome: RunOutcome, saved: SavedOutputs, *, client: Any, parent_id: str,
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Write results.md, curves.png and results.json in ``plan.out``, log them on the parent run; returns what
    results.json holds."""
    trained, out = outcome.trained, plan.out
    summary = summarise(trained.runs)
    verdict, probabilistic = _verdicts(plan, outcome, summary)
    title = f"{plan.data_name}: {', '.join(summary)} at {plan.label} parameters"
    use = use_recommended(verdict, type(trained.first_task.model).predict_input_example, saved.models, saved.baselines,
                          saved.ensemble)
    files = {"results_md": str(out / "results.md"), "curves_png": str(out / "curves.png"),
             "results_json": str(out / "results.json")}
    if saved.ensemble:
        files["ensemble"] = saved.ensemble
    results = _results(plan, outcome, saved, summary, verdict, probabilistic)
    results["use"] = use
    verdicts = verdict_markdown(verdict) + "\n" + use_markdown(use)
    if probabilistic:
        verdicts += "\n" + verdict_markdown(probabilistic, title=(
            f"Probabilistic verdict (mean pinball loss at levels {probabilistic['levels']}; interval coverage "
            f"in the table below)"))
    (out / "results.md").write_text(verdicts + "\n" + plan_markdown(plan.meta["plan"]) + "\n" + results_markdown(
        summary, monitor=trained.monitor, mode=trained.mode, test_metrics=[k for k in trained.runs[0].test if k != "loss"],
        title=title, notes=_notes(plan, outcome, verdict, saved, log), baselines=results["baselines"]))
    levels = scored_levels(trained)
    plot_curves(trained.runs, trained.monitor, out / "curves.png", title=title,
                nominal_coverage=levels[-1] - levels[0] if levels else None)
    results["files"] = files
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    for cell, s in summary.items():
        for k, stat in s["test"].items():
            client.log_metric(parent_id, f"{cell}/test_{k}_mean", stat["mean"])
            client.log_metric(parent_id, f"{cell}/test_{k}_std", stat["std"])
    for path in files.values():
        client.log_artifact(parent_id, path)
    return results


def _verdicts(plan: Any, outcome: RunOutcome, summary: dict[str, Any]) -> tuple[dict[str, Any], dict | None]:
    """The verdict on the task's metric (networks, their median ensemble and the baselines on the same items), and
    for forecast distributions a second one on the pinball loss (None otherwise)."""
    from rnnzoo.compare.ensemble import ENSEMBLE, ensemble_cost

    trained, baseline_runs, seed = outcome.trained, outcome.baseline_runs, plan.options.seeds[0]
    costs = {cell: {"params": s["num_params"], "train_seconds_per_epoch": s["seconds_per_epoch"]["mean"],
                    "inference_ms_per_step": inference_ms_per_step(trained.best_task[cell][1].model)}
             for cell, s in summary.items()}
    if outcome.median_runs:
        costs[ENSEMBLE] = ensemble_cost(costs)
    objective = trained.first_task.objective
    metric = objective.verdict_metric(plan.dm)
    dm = plan.dm
    # overlapping forecast windows (horizon H, stride s) share targets with their H/s - 1 neighbours
    block = max(1, -(-dm.horizon // dm.stride)) if hasattr(dm, "horizon") and hasattr(dm, "stride") else 1
    runs = [r.to_dict() for r in trained.runs]
    verdict = build_verdict(runs + outcome.median_runs, metric, objective.item_metrics[metric],
                            lambda num, den: objective.metric_from_sums(metric, num, den), costs,
                            {k: v for k, v in baseline_runs.items() if metric in v["items"]}, seed=seed, block=block)
    probabilistic = None
    if all("pinball" in r.items for r in trained.runs):  # quantile or Gaussian forecasters: rank by the pinball loss
        probabilistic = build_verdict(
            runs, "pinball", "min", lambda num, den: objective.metric_from_sums("pinball", num, den), costs,
            {k: v for k, v in baseline_runs.items() if "pinball" in v["items"]}, seed=seed, block=block)
        probabilistic["levels"] = list(scored_levels(trained))
    return verdict, probabilistic


def _results(plan: Any, outcome: RunOutcome, saved: SavedOutputs, summary: dict[str, Any],
             verdict: dict[str, Any], probabilistic: dict[str, Any] | None) -> dict[str, Any]:
    """results.json's content (but ``use`` and ``files``)."""
    trained, baseline_runs = outcome.trained, outcome.baseline_runs
    return {"meta": {**plan.meta, "monitor": trained.monitor, "mode": trained.mode}, "verdict": verdict,
            "verdict_probabilistic": probabilistic, "cells": summary,
            "runs": [r.to_dict() for r in trained.runs], "lr_search": outcome.searched,
            "baselines": {name: b["scores"] for name, b in baseline_runs.items()},
            "baseline_items": {name: b["items"] for name, b in baseline_runs.items()},
            "baseline_val_scores": {name: b["val_scores"] for name, b in baseline_runs.items()},
            "baseline_val_items": {name: b["val_items"] for name, b in baseline_runs.items()},
            "baseline_chosen": {name: b["chosen"] for name, b in baseline_runs.items() if "chosen" in b},
            "baseline_fallbacks": {name: b["fallbacks"] for name, b in baseline_runs.items() if b.get("fallbacks")},
            "models": saved.models, "saved_baselines": saved.baselines,
            "seconds": {"baselines": outcome.baseline_seconds,
                        "networks": float(sum(r.fit_seconds for r in trained.runs))},
            "ensemble": [{k: v for k, v in row.items() if k not in ("items", "val_items")}
                         for row in outcome.median_runs]}


def _notes(plan: Any, outcome: RunOutcome, verdict: dict[str, Any], saved: SavedOutputs,
           log: Callable[[str], None]) -> list[str]:
    """results.md's notes: what a reader must know to read the table (see :mod:`rnnzoo.compare.notes`)."""
    o, trained = plan.options, outcome.trained
    notes = results_notes(settings=plan.settings, runs=trained.runs, user_data=plan.user_data,
                          data_name=plan.data_name, verdict=verdict,
                          forecasting_baselines=bool(outcome.baseline_runs) and plan.statistical_baselines,
                          normalization=(plan.meta.get("task_config") or {}).get("normalization"),
                          ensemble=o.ensemble, median_runs=outcome.median_runs,
                          ensemble_path=plan.out / "ensemble" if o.save_models else None,
                          searched=outcome.searched, monitor=trained.monitor, space=plan.space, lr_range=o.lr_range,
                          seed=o.seeds[0], storage=plan.meta["lr_search"].get("storage"), label=plan.label, log=log)
    if plan.statistical_baselines:
        notes.append(season_note(plan.dm))
    if outcome.baseline_runs:
        networks = sum(r.fit_seconds for r in trained.runs)
        # origins exist for the per-origin statistical forecasts only (not n-grams or classifiers), and a searched
        # form for the automatic models only (not the naive, drift and seasonal naive forecasts)
        searched = ("" if not o.classical_baselines else "; their form searched at every origin"
                    if o.reselect_every == 1 else f"; their form searched at every {o.reselect_every}th origin, "
                    f"parameters re-estimated at each")
        how = f" (every origin included{searched})" if plan.statistical_baselines else ""
        notes.append(f"Time: the baselines took {outcome.baseline_seconds:.1f} s to fit and score{how}; the networks "
                     f"{networks:.1f} s to train ({len(trained.runs)} runs, their fit time summed).")
    return notes
