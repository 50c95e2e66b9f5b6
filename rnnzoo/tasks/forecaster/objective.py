"""Multi-step forecasting: loss on scaled values, metrics in the data's own units."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnzoo.tasks.base import Objective
from rnnzoo.tasks.forecaster.scores import gaussian_crps, gaussian_quantiles, median_of, pinball_loss, quantile_crps

#: the levels at which a ``gaussian=True`` model's pinball loss and interval coverage are scored (an 80% interval)
GAUSSIAN_LEVELS = (0.1, 0.5, 0.9)


class ForecastingObjective(Objective):
    """Batches ``{"window" (B, L, F), "target" (B, H, F)}`` scaled (and ``"future"`` (B, H, N) for a model with
    future-known covariates), with ``"loc"``, ``"scale"`` (B, F) to undo the
    scaling and ``"mase_scale"`` (B, F).

    Loss on scaled values: MSE for a point forecaster, Gaussian NLL for ``gaussian=True``, the pinball loss
    averaged over levels for ``quantiles=[...]``. Metrics in the data's units: ``mae``, ``rmse`` and ``mase``
    (against the seasonal naive forecast) of the point forecast (the mean; a quantile model's median), and for
    the two probabilistic heads ``pinball`` (mean pinball loss over the levels: the model's, or 0.1/0.5/0.9 of a
    Gaussian), ``crps`` (closed form for a Gaussian; ``2 * pinball`` for quantiles, an approximation) and
    ``coverage`` (share of truths inside the lowest..highest level: 80% nominal for 0.1..0.9).
    """

    input_key = "window"
    monitor = ("val/mae", "min")
    item_metrics = {"mae": "min", "mase": "min", "pinball": "min"}

    def metrics(self, model):
        # torchmetrics (and the Lightning and scipy under it) is seconds of start-up that loading a model for a
        # forecast never needs: this module is imported for Forecaster.objective_class
        from torchmetrics import MeanAbsoluteError, MeanMetric, MeanSquaredError

        from rnnzoo.tasks.forecaster.metrics import MASE

        out = {"mae": MeanAbsoluteError(), "rmse": MeanSquaredError(squared=False), "mase": MASE()}
        if scored_levels(model) is not None:
            out.update(pinball=MeanMetric(), crps=MeanMetric(), coverage=MeanMetric())
        return out

    def verdict_metric(self, datamodule) -> str:
        """``mae``, or ``mase`` when the forecasts span several series or targets of different scales (an MAE
        summed over them would weigh each by its units)."""
        series = getattr(datamodule, "series_values", None)
        if series is not None and (len(series) > 1 or (datamodule.num_targets or series[0].shape[1]) > 1):
            return "mase"
        return "mae"

    def quantile_levels(self, model) -> tuple[float, ...] | None:
        """The levels at which ``model``'s forecast distribution is scored (None: a point forecaster)."""
        return scored_levels(model)

    def _unscale(self, x, batch):
        return x * batch["scale"].unsqueeze(1) + batch["loc"].unsqueeze(1)

    def _outputs(self, model, batch, out=None) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """``(point (B, H, F), quantiles (B, H, F, Q) or None, crps (B, H, F) or None)`` in the data's units, from
        the model's output ``out`` on the batch (computed here when None)."""
        out = _run(model, batch) if out is None else out
        scale, loc = batch["scale"].unsqueeze(1), batch["loc"].unsqueeze(1)  # (B, 1, F)
        true = self._unscale(batch["target"], batch)
        levels = scored_levels(model)
        if getattr(model, "quantiles", None):
            q = out * scale.unsqueeze(-1) + loc.unsqueeze(-1)  # (B, H, F, Q)
            lv = torch.tensor(levels, device=q.device, dtype=q.dtype)
            return median_of(q, levels), q, quantile_crps(q, true, lv)
        if isinstance(out, tuple):
            mean, std = self._unscale(out[0], batch), out[1] * scale
            lv = torch.tensor(levels, device=mean.device, dtype=mean.dtype)
            return mean, gaussian_quantiles(mean, std, lv), gaussian_crps(mean, std, true)
        return self._unscale(out, batch), None, None

    def step(self, model, batch, metrics, stage):
        out = _run(model, batch)
        if getattr(model, "quantiles", None):
            levels = torch.tensor(model.quantiles, device=out.device, dtype=out.dtype)
            loss = pinball_loss(out, batch["target"], levels).mean()
        elif isinstance(out, tuple):
            mean, std = out
            loss = F.gaussian_nll_loss(mean, batch["target"], std ** 2)
        else:
            loss = F.mse_loss(out, batch["target"])
        if metrics:
            with torch.no_grad():
                self._update(model, batch, metrics, out)
        return loss, len(batch["target"])

    def _update(self, model, batch, metrics, out) -> None:
        point, q, crps = self._outputs(model, batch, out)
        true = self._unscale(batch["target"], batch)
        for name in ("mae", "rmse"):
            metrics[name].update(point, true)
        metrics["mase"].update(point, true, batch["mase_scale"])
        if q is not None:
            levels = torch.tensor(scored_levels(model), device=q.device, dtype=q.dtype)
            metrics["pinball"].update(pinball_loss(q, true, levels))
            metrics["crps"].update(crps)
            inside = (q[..., 0] <= true) & (true <= q[..., -1])
            metrics["coverage"].update(inside.float())

    def item_scores(self, model, batch):
        point, q, _ = self._outputs(model, batch)
        true = self._unscale(batch["target"], batch)
        scores = point_item_scores(point, true, batch["mase_scale"])
        if q is not None:
            levels = torch.tensor(scored_levels(model), device=q.device, dtype=q.dtype)
            loss = pinball_loss(q, true, levels)  # (B, H, F, Q)
            scores["pinball"] = (loss.sum((1, 2, 3)), torch.full((len(loss),), float(loss[0].numel())))
        return scores

    def predict(self, model, batch):
        out = _run(model, batch)
        if getattr(model, "quantiles", None):
            point, q, _ = self._outputs(model, batch, out)
            return {"forecast": point, "quantiles": q, "levels": list(model.quantiles)}
        mean, std = out if isinstance(out, tuple) else (out, None)
        result = {"forecast": self._unscale(mean, batch)}
        if std is not None:
            result["std"] = std * batch["scale"].unsqueeze(1)
        return result


def point_item_scores(point: Tensor, true: Tensor, mase_scale: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
    """Per-window sums of a point forecast's ``mae`` and ``mase`` scores and their counts, from forecasts and
    truths (B, H, F) in the data's units and the windows' MASE scales (B, F): the verdict's item scores."""
    error = (point - true).abs()  # (B, H, F)
    count = torch.full((len(error),), float(error[0].numel()), dtype=error.dtype)
    return {"mae": (error.sum((1, 2)), count), "mase": ((error / mase_scale.unsqueeze(1)).sum((1, 2)), count)}


def scored_levels(model) -> tuple[float, ...] | None:
    """The quantile levels a model is scored at: its own, a Gaussian's :data:`GAUSSIAN_LEVELS`, None for a point
    forecaster."""
    if getattr(model, "quantiles", None):
        return tuple(model.quantiles)
    return GAUSSIAN_LEVELS if getattr(model, "gaussian", False) else None


def _run(model, batch):
    """The model on a batch's windows, with their series ids for a hybrid (``normalization="es"``) model and the
    horizon's future-known covariates for a model that reads them."""
    extra = {}
    if getattr(model, "normalization", None) == "es" and "series" in batch:
        extra["series"] = batch["series"]
    if getattr(model, "num_future", 0):
        if "future" not in batch:
            raise KeyError(f"this forecaster reads {model.num_future} future-known covariate(s) from "
                           f"batch['future'], but the batch has {sorted(batch)}: use a TimeSeriesDataModule with "
                           f"num_future={model.num_future}")
        extra["future"] = batch["future"]
    return model(batch["window"], **extra)
