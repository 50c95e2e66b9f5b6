"""The scores of probabilistic forecasts as plain functions of tensors: the pinball loss, CRPS (from quantiles, or
closed form for a normal forecast), a normal forecast's quantiles and a quantile head's median.

Elementwise and torch-only, so that the loss, the torchmetrics accumulators (:mod:`rnnzoo.tasks.forecaster.metrics`),
the per-window scores of a comparison's verdict and a forecast all compute the same thing, and so that forecasting
imports no torchmetrics (seconds of start-up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor


def pinball_loss(quantiles: Tensor, target: Tensor, levels: Tensor) -> Tensor:
    """The pinball (quantile) loss of each predicted quantile: ``rho_tau(y - q) = max(tau (y - q), (tau - 1) (y - q))``.

    ``quantiles`` (..., Q) predicted at ``levels`` (Q,) in (0, 1), ``target`` (...) the truth: returns (..., Q).
    Its expectation over y is minimised by the tau-quantile of y's distribution (Koenker & Bassett 1978).
    """
    diff = target.unsqueeze(-1) - quantiles  # (..., Q)
    return torch.maximum(levels * diff, (levels - 1) * diff)


def quantile_crps(quantiles: Tensor, target: Tensor, levels: Tensor) -> Tensor:
    """CRPS approximated from quantiles: ``2 * mean_k rho_{tau_k}(y - q_k)`` (..., ).

    Exact in the limit of a fine uniform grid of levels (``CRPS(F, y) = 2 * int_0^1 rho_tau(y - F^-1(tau)) dtau``,
    Gneiting & Raftery 2007); with a few levels (0.1, 0.5, 0.9) a coarse approximation, comparable between models
    scored at the same levels only.
    """
    return 2 * pinball_loss(quantiles, target, levels).mean(-1)


def gaussian_crps(mean: Tensor, std: Tensor, target: Tensor) -> Tensor:
    """The closed-form CRPS of a normal forecast N(mean, std^2) at ``target``, elementwise:
    ``std * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with ``z = (y - mean) / std`` (Gneiting et al. 2005)."""
    z = (target - mean) / std
    normal = torch.distributions.Normal(torch.zeros_like(z), torch.ones_like(z))
    return std * (z * (2 * normal.cdf(z) - 1) + 2 * normal.log_prob(z).exp() - 1 / math.sqrt(math.pi))


def gaussian_quantiles(mean: Tensor, std: Tensor, levels: Tensor) -> Tensor:
    """The ``levels`` (Q,) quantiles of N(mean, std^2): ``mean + std * Phi^-1(tau)``, (..., Q)."""
    z = torch.special.ndtri(levels.to(mean.dtype))  # (Q,)
    return mean.unsqueeze(-1) + std.unsqueeze(-1) * z


def median_of(quantiles: Tensor, levels: Sequence[float]) -> Tensor:
    """The point forecast of a quantile head: its 0.5 quantile, linearly interpolated between the two nearest
    levels when 0.5 is not one of them (the nearest level when 0.5 lies outside them). (..., Q) -> (...)."""
    levels = list(levels)
    if 0.5 in levels:
        return quantiles[..., levels.index(0.5)]
    above = [k for k, t in enumerate(levels) if t > 0.5]
    below = [k for k, t in enumerate(levels) if t < 0.5]
    if not above or not below:
        return quantiles[..., (above or below)[0] if above else below[-1]]
    lo, hi = below[-1], above[0]
    w = (0.5 - levels[lo]) / (levels[hi] - levels[lo])
    return (1 - w) * quantiles[..., lo] + w * quantiles[..., hi]
