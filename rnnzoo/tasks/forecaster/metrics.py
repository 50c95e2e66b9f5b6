"""MASE (Hyndman & Koehler 2006) as a torchmetrics accumulator: forecast MAE divided by the in-sample MAE of the
seasonal naive forecast. The scores of probabilistic forecasts (the pinball loss, CRPS) are plain functions in
:mod:`rnnzoo.tasks.forecaster.scores`, re-exported here.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from rnnzoo.tasks.forecaster.scores import (  # noqa: F401  (re-exported: the scores lived here)
    gaussian_crps, gaussian_quantiles, median_of, pinball_loss, quantile_crps,
)


class MASE(Metric):
    """Mean absolute scaled error. ``update(pred, target, scale)``: ``(B, H, F)`` forecasts and truths, ``scale``
    ``(B, F)`` the training-range MAE of the seasonal naive forecast ``y[t] = y[t - m]`` for each window's series.
    Below 1: better than the seasonal naive forecast on the training data."""

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_state("scaled_error", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, pred: Tensor, target: Tensor, scale: Tensor) -> None:
        err = (pred - target).abs() / scale.unsqueeze(1)
        self.scaled_error = self.scaled_error + err.sum().double()
        self.count = self.count + err.numel()

    def compute(self) -> Tensor:
        return (self.scaled_error / self.count.clamp(min=1)).float()
