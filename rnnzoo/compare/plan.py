"""The plan of a comparison: every choice made for the user, and how it was made, said before any training.

The same lines are printed before the first run, written under the verdict in results.md, and kept in
results.json["plan"], so a reader can see what rnnzoo decided (and which option changes it) without reading code.
"""

from __future__ import annotations

import json
from typing import Any


def plan_lines(meta: dict[str, Any], out: Any) -> list[str]:
    """``meta`` (what :func:`~rnnzoo.compare.comparison.compare` records) -> the plan, one choice per line."""
    settings, user = meta["settings"], meta.get("user_data") or {}
    rules = user.get("rules", {})

    def rule(key: str) -> str:
        return f" ({rules[key]})" if key in rules else ""

    lines = [f"data: {meta['data']} ({meta['datamodule']})"]
    if user.get("kind") == "timeseries":
        lines += [f"forecast: {user.get('targets')}" + (f"; covariates {user['covariates']}" if user.get("covariates")
                                                       else ""),
                  *(user.get("columns_left_out") or []),
                  f"time column: {user.get('time_column') or 'none (--time-column to give one)'}; frequency "
                  f"{user.get('frequency') or 'unknown'}",
                  f"season: {user.get('season')}{rule('season')}",
                  f"horizon: {user.get('horizon')}{rule('horizon')}",
                  f"input length: {user.get('input_length')}{rule('input_length')}"]
    elif user:
        lines += [f"task: {user.get('kind')}"]
    config = meta.get("task_config") or {}
    if config.get("normalization"):
        lines.append(f"normalization: {config['normalization']}"
                     + (f" with drift" if config.get("drift") else "")
                     + (f" ({rules['normalization']}; --normalization to change)" if "normalization" in rules
                        else " (--normalization to change)"))
    lines += [f"budget: {meta['budget']} parameters per model{rule('budget')}",
              f"cells: {', '.join(meta['cells'])}; seeds: {', '.join(map(str, meta['seeds']))}",
              f"training: {settings.get('optimizer')}, lr {settings.get('lr')}, at most {settings.get('max_epochs')} "
              f"epochs, " + (f"early stopping after {settings['patience']} epochs without improvement on validation"
                             f"{rule('patience')}" if settings.get("patience") else "no early stopping"),
              *([f"model options for every cell: {json.dumps(settings['model_overrides'], sort_keys=True)}"
                 " (--dropout, --init-range, --forget-bias)"] if settings.get("model_overrides") else []),
              *([f"weights: an exponential moving average, decay {settings['ema']:g} per step (--ema); validation, "
                 f"test and the saved models use the averaged weights"] if settings.get("ema") else []),
              *([f"weight noise in training: Gaussian, standard deviation {settings['weight_noise']:g} "
                 f"(--weight-noise)"] if settings.get("weight_noise") else []),
              *([f"except, per cell (the dataset's settings where one does not suit every cell, chosen on "
                 f"validation; an option given to compare applies to every cell instead): "
                 f"{describe_cell_settings(settings['cell_settings'])}"] if settings.get("cell_settings") else []),
              "splits: " + ", ".join(f"{k} {v}" for k, v in (meta.get("split_sizes") or {}).items()),
              "choice: on the validation split; the test split only reports",
              f"output: {out} (MLflow: {meta.get('tracking_uri')})"]
    cluster = meta.get("ray_cluster")
    if cluster:
        lines.append(f"runs: Ray tasks on the cluster at {cluster['gcs_address']} ({cluster['nodes']} node(s), "
                     f"{cluster['cpus']:g} CPUs, {cluster['cpus_per_run']} per run; --ray {cluster['address']})"
                     + (f"; nodes on {', '.join(cluster['other_machines'])} read and write the run folders in "
                        f"{out}/runs, which must be on a filesystem they share" if cluster["other_machines"]
                        else "; every node on this machine"))
    elif meta.get("jobs", 1) > 1:
        lines.append(f"runs: {meta['jobs']} worker processes on this machine (--jobs)")
    return lines


def describe_cell_settings(cell_settings: dict[str, dict[str, Any]]) -> str:
    """``{"rnn": {"lr": 0.0025, "weight_noise": 0.0}}`` -> ``"rnn: lr 0.0025, no weight noise"``."""
    def one(entry: dict[str, Any]) -> str:
        parts = [f"lr {entry['lr']:g}"] if "lr" in entry else []
        if "dropout" in (entry.get("model_overrides") or {}):
            parts.append(f"dropout {entry['model_overrides']['dropout']:g}")
        if "ema" in entry:
            parts.append(f"weight averaging decay {entry['ema']:g}" if entry["ema"] else "no weight averaging")
        if "weight_noise" in entry:
            parts.append(f"weight noise {entry['weight_noise']:g}" if entry["weight_noise"] else "no weight noise")
        return ", ".join(parts)

    return "; ".join(f"{cell}: {one(entry)}" for cell, entry in cell_settings.items())


def plan_markdown(lines: list[str]) -> str:
    """The plan as a results.md section."""
    return "## Plan\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
