"""The verdict of a comparison: which cell (or no network at all) to use, whether the differences are larger than
the seed-to-seed noise, and what each costs.

Differences are judged with a paired bootstrap over the test items (windows, sequences, pieces, text rows: the same
resampled items for both sides) and over the seeds (resampled for each side on its own, since seed k of one cell
shares nothing with seed k of another): each replicate is the metric of one side minus the other's, each side
averaged over its resampled seeds, the metric computed from the resampled items' summed scores
(:meth:`~rnnzoo.tasks.Objective.item_scores`). A difference whose 95% percentile interval excludes zero is
"better"; otherwise it is "not distinguishable at this number of seeds".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from lightning.fabric.utilities import move_data_to_device

BOOTSTRAP_REPLICATES = 2000
METHOD = (f"paired bootstrap over test items (resampled together for both sides) and seeds (resampled per side), "
          f"{BOOTSTRAP_REPLICATES} replicates, 95% percentile interval")

ItemScores = dict[str, list[float]]  # {"num": [...], "den": [...]}, one entry per test item


def collect_item_scores(task: Any, datamodule: Any) -> dict[str, ItemScores]:
    """Per-item test scores of a trained task's model, in test-loader order: ``{metric: {"num", "den"}}``."""
    objective, model = task.objective, task.model
    was_training = model.training
    model.eval()
    objective.reset_state("items")
    device = next(model.parameters()).device
    out: dict[str, ItemScores] = {}
    with torch.no_grad():
        for batch in datamodule.test_dataloader():
            batch = move_data_to_device(batch, device)
            for name, (num, den) in objective.item_scores(model, batch).items():
                scores = out.setdefault(name, {"num": [], "den": []})
                scores["num"] += num.double().cpu().tolist()
                scores["den"] += den.double().cpu().tolist()
    objective.reset_state("items")
    model.train(was_training)
    return out


def inference_ms_per_step(model: torch.nn.Module, steps: int = 100, repeats: int = 7) -> float:
    """Milliseconds per time step of one forward pass at batch 1 on ``steps`` steps (median of ``repeats``, after
    a warm-up), on this machine and its current thread count."""
    was_training = model.training
    model.eval()
    x = model.synthetic_input(steps, torch.Generator().manual_seed(0)).to(next(model.parameters()).device)
    keywords = model.synthetic_keywords(x) if hasattr(model, "synthetic_keywords") else {}
    times = []
    with torch.no_grad():
        model(x, **keywords)  # warm-up: first-call allocations and kernel selection
        for _ in range(repeats):
            start = time.perf_counter()
            model(x, **keywords)
            times.append(time.perf_counter() - start)
    model.train(was_training)
    return float(np.median(times)) * 1000 / steps


def _metric(num: np.ndarray, den: np.ndarray, items: np.ndarray, from_sums: Callable[[float, float], float]) -> float:
    return from_sums(float(num[items].sum()), float(den[items].sum()))


def paired_difference(a: Sequence[ItemScores], b: Sequence[ItemScores], from_sums: Callable[[float, float], float],
                      *, replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> dict[str, Any]:
    """``metric(a) - metric(b)``, each side the mean over its seeds, and its 95% bootstrap interval (see module).

    ``a`` and ``b`` hold one :data:`ItemScores` per seed, over the same test items in the same order.
    """
    a_num, a_den = (np.array([s[k] for s in a]) for k in ("num", "den"))  # (seeds, items)
    b_num, b_den = (np.array([s[k] for s in b]) for k in ("num", "den"))
    if a_num.shape[1] != b_num.shape[1]:
        raise ValueError(f"the two sides were scored on {a_num.shape[1]} and {b_num.shape[1]} test items")
    n = a_num.shape[1]
    every = np.arange(n)

    def side(num, den, seeds, items):
        return float(np.mean([_metric(num[s], den[s], items, from_sums) for s in seeds]))

    point = side(a_num, a_den, range(len(a)), every) - side(b_num, b_den, range(len(b)), every)
    rng = np.random.default_rng(seed)
    draws = np.empty(replicates)
    for r in range(replicates):
        items = rng.integers(0, n, n)
        seeds_a, seeds_b = rng.integers(0, len(a), len(a)), rng.integers(0, len(b), len(b))
        draws[r] = side(a_num, a_den, seeds_a, items) - side(b_num, b_den, seeds_b, items)
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": point, "ci95": [float(low), float(high)], "items": n, "seeds": [len(a), len(b)]}


def _better(comparison: dict[str, Any], mode: str) -> bool:
    """Whether side a is better than side b: the whole interval on a's good side of zero."""
    low, high = comparison["ci95"]
    return high < 0 if mode == "min" else low > 0


def build_verdict(runs: Sequence[dict[str, Any]], metric: str, mode: str, from_sums: Callable[[float, float], float],
                  costs: dict[str, dict[str, float]], baselines: dict[str, dict[str, Any]] | None = None,
                  seed: int = 0) -> dict[str, Any]:
    """The verdict from the compared runs (``RunResult.to_dict()`` with ``items``) and the forecasting baselines.

    Ranking: cells by their mean test ``metric`` over seeds. Comparisons: the best cell against each other cell,
    and (forecasting) against the best baseline. Recommended: the best cell, or the best baseline when no
    network is better than it.
    """
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_cell.setdefault(run["cell"], []).append(run)
    sign = 1 if mode == "min" else -1
    ranking = sorted(
        ({"cell": cell, "mean": float(np.mean([r["test"][metric] for r in rs])),
          "std": float(np.std([r["test"][metric] for r in rs], ddof=1)) if len(rs) > 1 else 0.0,
          "seeds": [r["seed"] for r in rs]} for cell, rs in by_cell.items()),
        key=lambda row: sign * row["mean"])
    best = ranking[0]["cell"]
    best_items = [r["items"][metric] for r in by_cell[best]]
    seeds = len(best_items)
    comparisons = []
    for row in ranking[1:]:
        c = paired_difference(best_items, [r["items"][metric] for r in by_cell[row["cell"]]], from_sums, seed=seed)
        c.update(best=best, other=row["cell"],
                 conclusion="better" if _better(c, mode) else f"not distinguishable at {seeds} seeds")
        comparisons.append(c)
    verdict: dict[str, Any] = {"metric": metric, "mode": mode, "method": METHOD, "ranking": ranking,
                               "comparisons": comparisons, "cost": costs}
    indistinct = [c["other"] for c in comparisons if c["conclusion"] != "better"]
    beaten = [c["other"] for c in comparisons if c["conclusion"] == "better"]
    reason = (f"lowest" if mode == "min" else "highest") + f" mean test {metric} ({ranking[0]['mean']:.4g})"
    if beaten:
        reason += f", better than {', '.join(beaten)}"
    if indistinct:
        reason += f"; {', '.join(indistinct)} not distinguishable from it at {seeds} seeds"
    recommended = {"choice": best, "kind": "cell", "reason": reason}
    if baselines:
        name = min(baselines, key=lambda k: sign * baselines[k]["scores"][metric])
        b = baselines[name]
        c = paired_difference(best_items, [b["items"][metric]], from_sums, seed=seed)
        network_better = _better(c, mode)
        value = b["scores"][metric]
        c.update(best=best, other=name, baseline_value=value,
                 relative=(ranking[0]["mean"] - value) / value if value else None,
                 conclusion="better" if network_better else (
                     "worse" if _better({"ci95": [-c["ci95"][1], -c["ci95"][0]]}, mode)
                     else f"not distinguishable at {seeds} seeds"))
        verdict["best_baseline"] = c
        if network_better:
            recommended["reason"] += (f"; beats the best statistical baseline, {name} ({value:.4g}), by "
                                      f"{abs(c['difference']):.4g} ({abs(c['relative']):.1%})")
        else:
            recommended = {"choice": name, "kind": "baseline", "reason": (
                f"no network beats {name} ({metric} {value:.4g}; best network {best} {ranking[0]['mean']:.4g}, "
                f"{c['conclusion']}): use the statistical model, simpler and cheaper")}
    verdict["recommended"] = recommended
    return verdict


def verdict_markdown(verdict: dict[str, Any], digits: int = 4, title: str = "Verdict") -> str:
    """The verdict as the top section of results.md (``title``: its heading)."""
    metric, rec = verdict["metric"], verdict["recommended"]
    lines = [f"## {title}", "", f"**Recommended: {rec['choice']}** — {rec['reason']}.", "",
             f"| rank | cell | test {metric} (mean ± std) | best − this (95% CI) | | params | s / epoch | "
             f"ms / step (batch 1) |", "|---|---|---|---|---|---|---|---|"]
    diffs = {c["other"]: c for c in verdict["comparisons"]}
    for rank, row in enumerate(verdict["ranking"], 1):
        c = diffs.get(row["cell"])
        diff = "–" if c is None else f"{c['difference']:+.{digits}g} [{c['ci95'][0]:+.{digits}g}, " \
                                     f"{c['ci95'][1]:+.{digits}g}]"
        cost = verdict["cost"].get(row["cell"], {})
        lines.append(f"| {rank} | {row['cell']} | {row['mean']:.{digits}g} ± {row['std']:.2g} | {diff} | "
                     f"{'' if c is None else c['conclusion']} | {cost.get('params', 0):,} | "
                     f"{cost.get('train_seconds_per_epoch', float('nan')):.3g} | "
                     f"{cost.get('inference_ms_per_step', float('nan')):.3g} |")
    b = verdict.get("best_baseline")
    if b:
        lines += ["", f"Best statistical baseline on the same test windows: {b['other']}, {metric} "
                      f"{b['baseline_value']:.{digits}g}; best network − baseline {b['difference']:+.{digits}g} "
                      f"[{b['ci95'][0]:+.{digits}g}, {b['ci95'][1]:+.{digits}g}]: the network is "
                      f"{b['conclusion'] if b['conclusion'] != 'better' else 'better'}."]
    lines += ["", f"Intervals: {verdict['method']}."]
    return "\n".join(lines) + "\n"
