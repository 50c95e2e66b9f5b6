"""The verdict of a comparison: which cell (or no network at all) to use, chosen on validation, whether the
differences are larger than the noise, and what each costs.

The choice is made on the validation items only: the cells are ranked by their mean validation metric over
seeds, the best baseline is the one with the best validation metric, and a network is recommended over that
baseline only where it beats it on validation by the interval below. The test items report: every number there
is of models already chosen, and nothing is picked on them.

Differences are judged with a paired bootstrap over items (windows, sequences, pieces, text rows: the same
resampled items for both sides) and over the seeds (resampled for each side on its own, since seed k of one cell
shares nothing with seed k of another): each replicate is the metric of one side minus the other's, each side
averaged over its resampled seeds, the metric computed from the resampled items' summed scores
(:meth:`~rnnzoo.tasks.Objective.item_scores`). Items are resampled in circular blocks of ``block`` consecutive
items: forecast windows with stride 1 and horizon H share targets with their H - 1 neighbours, and resampling them
one by one treats them as independent (intervals far too narrow); a block of H windows keeps that overlap
together. A difference whose 95% percentile interval excludes zero is "better" (or "worse"); otherwise "not
distinguishable". With one seed or fewer than :data:`MIN_ITEMS` items there is no claim at all, and the
verdict says what to add.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from lightning.fabric.utilities import move_data_to_device

BOOTSTRAP_REPLICATES = 2000
MIN_ITEMS, MIN_SEEDS = 30, 2  # below either, a difference gets no "better" or "worse"


def method(block: int) -> str:
    """The interval method in words, for results.md."""
    blocks = (f"circular blocks of {block} consecutive items (overlapping forecast windows stay together)"
              if block > 1 else "items one by one")
    return (f"paired bootstrap over items ({blocks}, resampled together for both sides) and seeds (resampled per "
            f"side), {BOOTSTRAP_REPLICATES} replicates, 95% percentile interval; no claim below {MIN_SEEDS} seeds "
            f"or {MIN_ITEMS} items")


ItemScores = dict[str, list[float]]  # {"num": [...], "den": [...]}, one entry per test item


def collect_item_scores(task: Any, datamodule: Any, split: str = "test") -> dict[str, ItemScores]:
    """Per-item ``split`` ("val" or "test") scores of a trained task's model, in loader order:
    ``{metric: {"num", "den"}}``."""
    objective, model = task.objective, task.model
    was_training = model.training
    model.eval()
    objective.reset_state("items")
    device = next(model.parameters()).device
    out: dict[str, ItemScores] = {}
    with torch.no_grad():
        for batch in getattr(datamodule, f"{split}_dataloader")():
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


def _block_draw(rng: np.random.Generator, n: int, block: int) -> np.ndarray:
    """``n`` item indices: circular blocks of ``block`` consecutive items from random starts (block 1: iid)."""
    if block <= 1:
        return rng.integers(0, n, n)
    starts = rng.integers(0, n, -(-n // block))
    return ((starts[:, None] + np.arange(block)) % n).ravel()[:n]


def paired_difference(a: Sequence[ItemScores], b: Sequence[ItemScores], from_sums: Callable[[float, float], float],
                      *, replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0, block: int = 1) -> dict[str, Any]:
    """``metric(a) - metric(b)``, each side the mean over its seeds, and its 95% bootstrap interval (see module).

    ``a`` and ``b`` hold one :data:`ItemScores` per seed, over the same items in the same order; ``block`` is the
    length of the circular blocks items are resampled in.
    """
    a_num, a_den = (np.array([s[k] for s in a]) for k in ("num", "den"))  # (seeds, items)
    b_num, b_den = (np.array([s[k] for s in b]) for k in ("num", "den"))
    if a_num.shape[1] != b_num.shape[1]:
        raise ValueError(f"the two sides were scored on {a_num.shape[1]} and {b_num.shape[1]} items")
    n = a_num.shape[1]
    every = np.arange(n)

    def side(num, den, seeds, items):
        return float(np.mean([_metric(num[s], den[s], items, from_sums) for s in seeds]))

    point = side(a_num, a_den, range(len(a)), every) - side(b_num, b_den, range(len(b)), every)
    rng = np.random.default_rng(seed)
    draws = np.empty(replicates)
    for r in range(replicates):
        items = _block_draw(rng, n, block)
        seeds_a, seeds_b = rng.integers(0, len(a), len(a)), rng.integers(0, len(b), len(b))
        draws[r] = side(a_num, a_den, seeds_a, items) - side(b_num, b_den, seeds_b, items)
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": point, "ci95": [float(low), float(high)], "items": n, "seeds": [len(a), len(b)],
            "block": block}


def _conclusion(comparison: dict[str, Any], mode: str, seeds: int) -> str:
    """"better" / "worse" (side a against side b) when the interval excludes zero, else "not distinguishable";
    no claim at all with too few seeds or items, saying what to add."""
    if seeds < MIN_SEEDS:
        return f"no claim: {seeds} seed (give --seeds 0 1 2 for an interval over seeds)"
    if comparison["items"] < MIN_ITEMS:
        return f"no claim: {comparison['items']} items (at least {MIN_ITEMS} needed; more data)"
    low, high = comparison["ci95"]
    if (high < 0) if mode == "min" else (low > 0):
        return "better"
    if (low > 0) if mode == "min" else (high < 0):
        return "worse"
    return f"not distinguishable at {seeds} seeds"


def _split_metric(run: dict[str, Any], metric: str, split: str, from_sums) -> float | None:
    """A run's ``metric`` on ``split``: its test value, or its validation value from its per-item scores."""
    if split == "test":
        return run["test"][metric]
    items = (run.get("val_items") or {}).get(metric)
    return from_sums(float(np.sum(items["num"])), float(np.sum(items["den"]))) if items else None


def build_verdict(runs: Sequence[dict[str, Any]], metric: str, mode: str, from_sums: Callable[[float, float], float],
                  costs: dict[str, dict[str, float]], baselines: dict[str, dict[str, Any]] | None = None,
                  seed: int = 0, block: int = 1) -> dict[str, Any]:
    """The verdict from the compared runs (``RunResult.to_dict()`` with ``items`` and ``val_items``) and the
    forecasting baselines (with ``items``/``scores`` and ``val_items``/``val_scores``).

    Ranking: cells by their mean validation ``metric`` over seeds (test means beside). Test comparisons: the
    chosen cell against each other cell, reported. Recommended: the chosen cell, or the best baseline by
    validation unless the chosen cell beats it on validation by the interval.
    """
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_cell.setdefault(run["cell"], []).append(run)
    sign = 1 if mode == "min" else -1
    on = "validation" if all(_split_metric(r, metric, "val", from_sums) is not None for r in runs) else "test"
    ranking = []
    for cell, rs in by_cell.items():
        tests = [r["test"][metric] for r in rs]
        chosen_by = [_split_metric(r, metric, "val" if on == "validation" else "test", from_sums) for r in rs]
        ranking.append({"cell": cell, "mean": float(np.mean(tests)),
                        "std": float(np.std(tests, ddof=1)) if len(rs) > 1 else 0.0,
                        "val_mean": float(np.mean(chosen_by)) if on == "validation" else None,
                        "seeds": [r["seed"] for r in rs]})
    ranking.sort(key=lambda row: sign * (row["val_mean"] if on == "validation" else row["mean"]))
    best = ranking[0]["cell"]
    best_items = [r["items"][metric] for r in by_cell[best]]
    seeds = len(best_items)
    comparisons = []
    for row in ranking[1:]:
        c = paired_difference(best_items, [r["items"][metric] for r in by_cell[row["cell"]]], from_sums, seed=seed,
                              block=block)
        c.update(best=best, other=row["cell"], conclusion=_conclusion(c, mode, min(seeds, len(by_cell[row["cell"]]))))
        comparisons.append(c)
    verdict: dict[str, Any] = {"metric": metric, "mode": mode, "method": method(block), "chosen_on": on,
                               "ranking": ranking, "comparisons": comparisons, "cost": costs}
    word = "lowest" if mode == "min" else "highest"
    reason = (f"{word} mean validation {metric} ({ranking[0]['val_mean']:.4g}; test {ranking[0]['mean']:.4g})"
              if on == "validation" else f"{word} mean test {metric} ({ranking[0]['mean']:.4g}; no validation "
                                         f"scores to choose on)")
    beaten = [c["other"] for c in comparisons if c["conclusion"] == "better"]
    if beaten:
        reason += f"; on test better than {', '.join(beaten)}"
    recommended = {"choice": best, "kind": "cell", "reason": reason}
    if baselines:
        by_val = on == "validation" and all("val_scores" in b for b in baselines.values())
        key = "val_scores" if by_val else "scores"
        name = min(baselines, key=lambda k: sign * baselines[k][key][metric])
        b = baselines[name]
        value = b["scores"][metric]
        test = paired_difference(best_items, [b["items"][metric]], from_sums, seed=seed, block=block)
        test.update(best=best, other=name, baseline_value=value, conclusion=_conclusion(test, mode, seeds),
                    relative=(ranking[0]["mean"] - value) / value if value else None)
        if by_val:
            val = paired_difference([r["val_items"][metric] for r in by_cell[best]], [b["val_items"][metric]],
                                    from_sums, seed=seed, block=block)
            val.update(baseline_value=b["val_scores"][metric], conclusion=_conclusion(val, mode, seeds))
            test["validation"] = val
        decided = test.get("validation", test)
        verdict["best_baseline"] = test
        if decided["conclusion"] == "better":
            recommended["reason"] += (f"; beats the best baseline, {name}, on validation by "
                                      f"{abs(decided['difference']):.4g} (test: {test['difference']:+.4g}, "
                                      f"{test['conclusion']})")
        else:
            recommended = {"choice": name, "kind": "baseline", "reason": (
                f"no network beats {name} on {'validation' if by_val else 'test'} ({metric} "
                f"{decided['baseline_value']:.4g}; chosen network {best}, {decided['conclusion']}): use the "
                f"baseline, simpler and cheaper (test {metric} {value:.4g})")}
    verdict["recommended"] = recommended
    return verdict


def verdict_markdown(verdict: dict[str, Any], digits: int = 4, title: str = "Verdict") -> str:
    """The verdict as the top section of results.md (``title``: its heading)."""
    metric, rec = verdict["metric"], verdict["recommended"]
    on = verdict.get("chosen_on", "test")
    lines = [f"## {title}", "", f"**Recommended: {rec['choice']}** — {rec['reason']}.", "",
             (f"Chosen on the validation split; the test split reports and picked nothing." if on == "validation"
              else "Chosen on the test split (no validation scores were recorded): treat the choice as optimistic."),
             "", f"| rank | cell | validation {metric} (mean) | test {metric} (mean ± std) | chosen − this on test "
                 f"(95% CI) | | params | s / epoch | ms / step (batch 1) |", "|---|---|---|---|---|---|---|---|---|"]
    diffs = {c["other"]: c for c in verdict["comparisons"]}
    for rank, row in enumerate(verdict["ranking"], 1):
        c = diffs.get(row["cell"])
        diff = "–" if c is None else f"{c['difference']:+.{digits}g} [{c['ci95'][0]:+.{digits}g}, " \
                                     f"{c['ci95'][1]:+.{digits}g}]"
        cost = verdict["cost"].get(row["cell"], {})
        val = "–" if row.get("val_mean") is None else f"{row['val_mean']:.{digits}g}"
        lines.append(f"| {rank} | {row['cell']} | {val} | {row['mean']:.{digits}g} ± {row['std']:.2g} | {diff} | "
                     f"{'' if c is None else c['conclusion']} | {cost.get('params', 0):,} | "
                     f"{cost.get('train_seconds_per_epoch', float('nan')):.3g} | "
                     f"{cost.get('inference_ms_per_step', float('nan')):.3g} |")
    b = verdict.get("best_baseline")
    if b:
        val = b.get("validation")
        if val:
            lines += ["", f"Best baseline on validation: {b['other']}, {metric} "
                          f"{val['baseline_value']:.{digits}g}; chosen network − baseline on validation "
                          f"{val['difference']:+.{digits}g} [{val['ci95'][0]:+.{digits}g}, "
                          f"{val['ci95'][1]:+.{digits}g}]: {val['conclusion']} (this decides)."]
        lines += ["", f"On the same test items: {b['other']} {metric} {b['baseline_value']:.{digits}g}; chosen "
                      f"network − baseline {b['difference']:+.{digits}g} [{b['ci95'][0]:+.{digits}g}, "
                      f"{b['ci95'][1]:+.{digits}g}]: {b['conclusion']} (reported, not chosen on)."]
    lines += ["", f"Intervals: {verdict['method']}."]
    return "\n".join(lines) + "\n"
