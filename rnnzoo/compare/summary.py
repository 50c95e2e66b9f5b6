"""From the runs of a comparison to per-cell numbers (mean and spread over seeds) and the Markdown table."""

from __future__ import annotations

import statistics
from typing import Any

from rnnzoo.compare.single_run import RunResult


def mean_std(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (n - 1; 0 for one value) and the values themselves."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": list(values)}


def summarise(runs: list[RunResult]) -> dict[str, dict[str, Any]]:
    """Per cell, in the order the runs came: test metrics, best validation value, best epoch and seconds per
    epoch as :func:`mean_std`, plus the model's size and learning rate."""
    cells: dict[str, list[RunResult]] = {}
    for run in runs:
        cells.setdefault(run.cell, []).append(run)
    out = {}
    for cell, rs in cells.items():
        metrics = sorted({k for r in rs for k in r.test})
        out[cell] = {
            "model": rs[0].model, "hidden_size": rs[0].hidden_size, "num_params": rs[0].num_params,
            "lr": rs[0].lr, "seeds": [r.seed for r in rs],
            "test": {k: mean_std([r.test[k] for r in rs]) for k in metrics},
            "best_val": mean_std([r.best_val for r in rs]),
            "best_epoch": mean_std([float(r.best_epoch) for r in rs]),
            "epochs": mean_std([float(r.epochs) for r in rs]),
            "seconds_per_epoch": mean_std([r.seconds_per_epoch for r in rs]),
        }
    return out


def _pm(stat: dict[str, Any], digits: int) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def results_markdown(summary: dict[str, dict[str, Any]], *, monitor: str, mode: str, test_metrics: list[str],
                     title: str, notes: list[str] = (), baselines: dict[str, dict[str, float]] | None = None,
                     digits: int = 3) -> str:
    """The results table: one row per cell, test metrics as mean ± std over seeds (sample std), then size,
    learning rate, best validation value, best epoch, epochs run and seconds per epoch."""
    head = ["cell", "model", "hidden", "params", *[f"test {m}" for m in test_metrics], "lr",
            f"best {monitor} ({mode})", "best epoch", "epochs run", "s / epoch"]
    lines = [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell, s in summary.items():
        row = [cell, f"`{s['model']}`", str(s["hidden_size"]), f"{s['num_params']:,}",
               *[_pm(s["test"][m], digits) if m in s["test"] else "–" for m in test_metrics], f"{s['lr']:.3g}",
               _pm(s["best_val"], digits), _pm(s["best_epoch"], 1), _pm(s["epochs"], 1),
               _pm(s["seconds_per_epoch"], 3)]
        lines.append("| " + " | ".join(row) + " |")
    for name, scores in (baselines or {}).items():
        row = [name, "–", "–", "–", *[f"{scores[m]:.{digits}f}" if m in scores else "–" for m in test_metrics],
               "–", "–", "–", "–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    seeds = sorted({seed for s in summary.values() for seed in s["seeds"]})
    lines += ["", f"Mean ± sample standard deviation over seeds {seeds}; test metrics of each run's best "
                  f"checkpoint by `{monitor}`; the test split was used for nothing else.", *notes]
    return "\n".join(lines) + "\n"
