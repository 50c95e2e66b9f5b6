"""The median of the compared forecasters as one more contender in the verdict (``rnnzoo compare --ensemble``).

For each seed, the ensemble forecasts the median over the cells of that seed's runs (each run's best checkpoint,
point forecasts in the data's units: a quantile model's median); scored on the same test windows with the same
per-window sums as the runs, so the verdict's paired bootstrap treats it like a cell with those seeds. It is what
:class:`~rnnzoo.tasks.forecaster.ensemble.ForecastEnsemble` gives from the saved models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from lightning.fabric.utilities import move_data_to_device

from rnnzoo.tasks.forecaster.objective import point_item_scores

#: the ensemble's name in the verdict's ranking
ENSEMBLE = "median of the cells"


def collect_point_forecasts(task: Any, datamodule: Any, split: str = "test") -> dict[str, np.ndarray]:
    """A forecaster run's ``split`` ("val" or "test") point forecasts, truths and MASE scales in the data's units,
    in loader order: ``{"forecast": (N, H, F), "truth": (N, H, F), "mase_scale": (N, F)}``."""
    objective, model = task.objective, task.model
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    parts: dict[str, list[np.ndarray]] = {"forecast": [], "truth": [], "mase_scale": []}
    with torch.no_grad():
        for batch in getattr(datamodule, f"{split}_dataloader")():
            batch = move_data_to_device(batch, device)
            point = objective.predict(model, batch)["forecast"]  # data units; a quantile model's median
            truth = batch["target"] * batch["scale"].unsqueeze(1) + batch["loc"].unsqueeze(1)  # undo the scaling
            parts["forecast"].append(point.double().cpu().numpy())
            parts["truth"].append(truth.double().cpu().numpy())
            parts["mase_scale"].append(batch["mase_scale"].double().cpu().numpy())
    model.train(was_training)
    return {k: np.concatenate(v) for k, v in parts.items()}


def _median_scores(members: list[dict[str, np.ndarray]], metric_from_sums) -> tuple[dict, dict]:
    """Per-item scores and metrics of the median of ``members``' forecasts (one split)."""
    median = np.median(np.stack([m["forecast"] for m in members]), axis=0)  # (N, H, F)
    sums = point_item_scores(torch.from_numpy(median), torch.from_numpy(members[0]["truth"]),
                             torch.from_numpy(members[0]["mase_scale"]))
    items = {name: {"num": num.tolist(), "den": den.tolist()} for name, (num, den) in sums.items()}
    metrics = {name: float(metric_from_sums(name, float(np.sum(s["num"])), float(np.sum(s["den"]))))
               for name, s in items.items()}
    return items, metrics


def ensemble_runs(forecasts: dict[tuple[str, int], dict[str, np.ndarray]], metric_from_sums,
                  val_forecasts: dict[tuple[str, int], dict[str, np.ndarray]] | None = None) -> list[dict[str, Any]]:
    """One pseudo-run per seed that every cell trained: ``{"cell": ENSEMBLE, "seed", "test", "items"}`` with the
    ``mae`` and ``mase`` of the median forecast over the cells (``metric_from_sums(name, num, den)`` turns summed
    scores into a metric, as the objective does); with ``val_forecasts``, ``"val_items"`` and ``"val"`` alike on
    the validation windows, where the verdict chooses."""
    seeds = sorted({seed for _, seed in forecasts})
    cells = sorted({cell for cell, _ in forecasts})
    runs = []
    for seed in seeds:
        keys = [(cell, seed) for cell in cells if (cell, seed) in forecasts]
        if len(keys) < 2:
            continue
        items, test = _median_scores([forecasts[k] for k in keys], metric_from_sums)
        run = {"cell": ENSEMBLE, "seed": seed, "test": test, "items": items, "members": cells}
        if val_forecasts:
            run["val_items"], run["val"] = _median_scores([val_forecasts[k] for k in keys], metric_from_sums)
        runs.append(run)
    return runs


def ensemble_cost(costs: dict[str, dict[str, float]]) -> dict[str, float]:
    """What the ensemble costs: the sum over its members (parameters, training and inference time)."""
    total = {key: float(sum(c.get(key, 0.0) for c in costs.values()))
             for key in ("train_seconds_per_epoch", "inference_ms_per_step")}
    return {"params": int(sum(c.get("params", 0) for c in costs.values())), **total}
