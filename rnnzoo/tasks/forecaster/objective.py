"""Multi-step forecasting: loss on scaled values, metrics in the data's own units."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics import MeanAbsoluteError, MeanSquaredError

from rnnzoo.tasks.forecaster.metrics import MASE
from rnnzoo.tasks.base import Objective


class ForecastingObjective(Objective):
    """Batches ``{"window" (B, L, F), "target" (B, H, F)}`` scaled, with ``"loc"``, ``"scale"`` (B, F) to undo the
    scaling and ``"mase_scale"`` (B, F). Loss: MSE (Gaussian NLL for ``gaussian=True`` models) on scaled values;
    metrics ``mae``, ``rmse`` (data units) and ``mase`` (against the seasonal naive forecast)."""

    input_key = "window"
    monitor = ("val/mae", "min")
    item_metrics = {"mae": "min", "mase": "min"}

    def metrics(self, model):
        return {"mae": MeanAbsoluteError(), "rmse": MeanSquaredError(squared=False), "mase": MASE()}

    def _unscale(self, x, batch):
        return x * batch["scale"].unsqueeze(1) + batch["loc"].unsqueeze(1)

    def step(self, model, batch, metrics, stage):
        out = model(batch["window"])
        if isinstance(out, tuple):
            mean, std = out
            loss = F.gaussian_nll_loss(mean, batch["target"], std ** 2)
        else:
            mean = out
            loss = F.mse_loss(mean, batch["target"])
        if metrics:
            pred, true = self._unscale(mean.detach(), batch), self._unscale(batch["target"], batch)
            for name, metric in metrics.items():
                metric.update(pred, true, batch["mase_scale"]) if name == "mase" else metric.update(pred, true)
        return loss, len(mean)

    def item_scores(self, model, batch):
        out = model(batch["window"])
        mean = out[0] if isinstance(out, tuple) else out
        error = (self._unscale(mean, batch) - self._unscale(batch["target"], batch)).abs()  # (B, H, F)
        count = torch.full((len(error),), float(error[0].numel()))
        return {"mae": (error.sum((1, 2)), count),
                "mase": ((error / batch["mase_scale"].unsqueeze(1)).sum((1, 2)), count)}

    def predict(self, model, batch):
        out = model(batch["window"])
        mean, std = out if isinstance(out, tuple) else (out, None)
        result = {"forecast": self._unscale(mean, batch)}
        if std is not None:
            result["std"] = std * batch["scale"].unsqueeze(1)
        return result
