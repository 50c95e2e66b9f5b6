"""The README.md model card of a saved model: YAML front matter the Hub indexes, then a human summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huggingface_hub import EvalResult, ModelCardData


def render_model_card(config: dict[str, Any], card_tags: tuple[str, str], repo_id: str | None = None,
                      usage: str | Callable[[dict[str, Any]], str] = "") -> str:
    """README.md text for a saved model's ``config`` (as written to config.json).

    ``card_tags`` is the task's (Hub pipeline tag, readable task name) and ``usage`` its raw-input call (both
    class attributes of the task model). The loading line names the model as a user would load it: the Hub repo,
    else the zoo entry, else a folder. Metrics go into ``model-index`` only when ``config["pretrained"]`` carries
    measured ones; an untrained or unevaluated model says so instead of showing numbers.
    """
    if callable(usage):  # a task model whose usage depends on its config (a quantile forecaster's levels)
        usage = usage(config)
    info = config.get("pretrained") or {}
    cell = config["init_args"].get("cell", "")
    tag, task_name = card_tags
    eval_results = [
        EvalResult(
            task_type=tag, task_name=task_name, dataset_type=info["dataset"], dataset_name=info["dataset"],
            dataset_split=info.get("split"), metric_type=metric, metric_value=value,
        )
        for metric, value in (info.get("metrics") or {}).items()
    ]
    data = ModelCardData(
        library_name="rnnzoo",
        license=info["license"].lower() if info.get("license") else None,  # the Hub wants lower-case SPDX ids
        tags=["rnnzoo", "pytorch", "recurrent-neural-network", cell.replace("_", "-"), tag],
        datasets=[info["dataset"]] if info.get("dataset") else None,
        # model-index (name + results) only for measured weights: no results, no index.
        model_name=(repo_id or config["architecture"]) if eval_results else None,
        eval_results=eval_results or None,
    )
    if repo_id:
        load_line = f'rnnzoo.load("hf-hub:{repo_id}")'
    elif info.get("architecture") and info.get("tag"):
        load_line = f'rnnzoo.load("{info["architecture"]}.{info["tag"]}")'
    else:
        load_line = 'rnnzoo.load("local-dir:PATH/TO/THIS/FOLDER")'
    lines = [
        "---", data.to_yaml(), "---", "",
        f"# {repo_id or config['architecture']}", "",
        f"An rnnzoo `{config['architecture']}` model: {task_name.lower()} with a `{cell}` layer, "
        f"{config.get('num_params', '?')} parameters.", "",
        "```python", "import rnnzoo", "", f"model = {load_line}", *([usage] if usage else []), "```", "",
        "## Architecture", "", "| argument | value |", "|---|---|",
        *[f"| `{k}` | `{v}` |" for k, v in config["init_args"].items()], "",
        "## Training and evaluation", "",
    ]
    if info:
        lines += [
            f"- dataset: {info['dataset']} (split measured: {info['split']}, data sha256 `{info['data_sha256']}`)",
            f"- recipe: `{info['recipe']}`", f"- paper: {info['paper']}", f"- license: {info['license']}",
            f"- weights sha256: `{info['weights_sha256']}`", "",
            "| metric | value |", "|---|---|", *[f"| {k} | {v} |" for k, v in info["metrics"].items()],
        ]
        lines += interval_lines(config)
    elif config.get("training_run"):
        run = config["training_run"]
        lines += [f"- {key.replace('_', ' ')}: {value}" for key, value in run.items() if not isinstance(value, dict)]
        for split in ("validation", "test"):
            if run.get(split):
                lines += ["", f"| {split} metric | value |", "|---|---|",
                          *[f"| {k} | {v:.6g} |" for k, v in run[split].items()]]
    else:
        lines.append("No training run or metrics are recorded with these weights.")
    return "\n".join(lines) + "\n"


def interval_lines(config: dict[str, Any]) -> list[str]:
    """A quantile forecaster's card section on its intervals: how they were calibrated and what they cover on
    test against their nominal coverage (nothing for other models or weights without measured coverage)."""
    levels = config["init_args"].get("quantiles")
    info = config.get("pretrained") or {}
    coverage = (info.get("metrics") or {}).get("coverage")
    if not levels or coverage is None:
        return []
    low, high = min(levels), max(levels)
    nominal = high - low
    extra = info.get("extra") or {}
    calibration = extra.get("calibration")
    if config["init_args"].get("calibrated") and calibration:
        how = (f"calibrated after training by conformalized quantile regression (Romano et al. 2019) on the "
               f"{calibration.get('n_windows', '?')} {calibration.get('split', 'val')} windows of the run that "
               f"trained them")
        raw = (extra.get("uncalibrated") or {}).get("coverage")
        before = f"; before calibration it was {raw:.3f}" if raw is not None else ""
    else:
        how, before = "not calibrated (the network's own quantiles)", ""
    verdict = "close to" if abs(coverage - nominal) <= 0.05 else ("below" if coverage < nominal else "above")
    return ["", "## Intervals", "",
            f"The {low:g}..{high:g} interval (nominal coverage {nominal:.0%}) is {how}. On the test split it covers "
            f"{coverage:.3f} of the true values{before}: {verdict} nominal."]
