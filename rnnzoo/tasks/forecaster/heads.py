"""A forecaster's heads: how many values the linear head gives per target and step, and how they become the
forecast (a point, a Gaussian's mean and std, or ordered quantiles), decoded by the forecaster's normalization
(:mod:`rnnzoo.tasks.forecaster.normalizations`) into scaled units.

``forecast(out, normalization, context, offsets)`` reads the linear head's output ``out`` (B, H * K * per_value);
``offsets`` are a calibrated quantile model's ``interval_offsets`` buffer (None otherwise). The linear layer
itself stays the forecaster's ``head`` (its weights keep their keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor


def check_levels(levels: Any, what: str = "quantiles") -> list[float]:
    """Quantile levels as a list of floats, each strictly inside (0, 1), distinct; else a ValueError saying so."""
    try:
        values = [float(t) for t in levels]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a list of numbers in (0, 1), e.g. [0.1, 0.5, 0.9]; got {levels!r}") from None
    bad = [t for t in values if not 0.0 < t < 1.0]  # NaN fails both comparisons, so it is refused too
    if not values or bad:
        raise ValueError(f"{what}={values}: every quantile level must lie strictly between 0 and 1 (0 and 1 are "
                         f"the unbounded ends of the distribution; {bad or 'none given'}); e.g. [0.1, 0.5, 0.9]")
    if len(set(values)) != len(values):
        raise ValueError(f"{what}={values} repeats a level; give each once")
    return values


class PointHead:
    """One value per target and step (trained on squared error): ``y = decode(z)``, (B, H, K)."""

    per_value = 1
    levels: list[float] | None = None

    def __init__(self, horizon: int, targets: int):
        self.horizon, self.targets = horizon, targets

    def forecast(self, out: Tensor, normalization: Any, context: Any, offsets: Tensor | None = None) -> Tensor:
        z = out.view(out.shape[0], self.horizon, self.targets, 1)
        return normalization.decode(z, context)[..., 0]


class GaussianHead(PointHead):
    """A mean and a standard deviation per target and step (trained with ``gaussian_nll_loss``): ``(mean, std)``,
    both (B, H, K), ``std = softplus(raw) + 1e-4`` before the normalization scales it."""

    per_value = 2

    def forecast(self, out, normalization, context, offsets=None):
        mean, raw_scale = out.view(out.shape[0], self.horizon, -1).chunk(2, dim=-1)  # (B, H, K) each
        # softplus keeps std positive with a gradient everywhere; the floor keeps the NLL finite.
        std = F.softplus(raw_scale) + 1e-4
        return normalization.decode(mean.unsqueeze(-1), context)[..., 0], normalization.decode_scale(std, context)


class QuantileHead(PointHead):
    """Q quantile levels per target and step (trained with the pinball loss): (B, H, K, Q), ascending along Q.

    The levels are rearranged into ascending order so that they never cross (Chernozhukov et al. 2010, which never
    raises the pinball loss); a calibrated model's conformal offsets (H, K, Q), in scaled units, are added to the
    ordered quantiles, which are then ordered again (an offset never makes two levels cross). The normalization
    decides where, relative to its own equations, that happens (:meth:`rearrange`).
    """

    def __init__(self, horizon: int, targets: int, levels: Sequence[float]):
        super().__init__(horizon, targets)
        self.levels = list(levels)
        self.per_value = len(self.levels)

    def forecast(self, out, normalization, context, offsets=None):
        q = out.view(out.shape[0], self.horizon, self.targets, self.per_value)  # (B, H, K, Q)
        return normalization.decode(q, context, lambda y: self.rearrange(y, offsets))

    @staticmethod
    def rearrange(q: Tensor, offsets: Tensor | None = None) -> Tensor:
        """``q`` (B, H, K, Q) sorted along Q (the k-th smallest is the k-th level's quantile), plus ``offsets``
        and sorted again when given."""
        q = q.sort(dim=-1).values
        return q if offsets is None else (q + offsets.to(q.dtype)).sort(dim=-1).values


def make_head(horizon: int, targets: int, *, gaussian: bool = False, quantiles: Sequence[float] | None = None,
              calibrated: bool = False) -> PointHead:
    """The head for the forecaster's ``gaussian``, ``quantiles`` (checked, sorted) and ``calibrated`` arguments."""
    if quantiles is not None:
        quantiles = sorted(check_levels(quantiles))
        if gaussian:
            raise ValueError("gaussian=True and quantiles=... are two ways of forecasting a distribution; "
                             "choose one (gaussian=False with quantiles, or quantiles=None)")
    if calibrated and quantiles is None:
        raise ValueError("calibrated=True adds conformal offsets to the quantile levels of an interval; "
                         "it needs a quantile head: pass quantiles=[...] (e.g. [0.1, 0.5, 0.9]) or "
                         "calibrated=False")
    if quantiles is not None:
        return QuantileHead(horizon, targets, quantiles)
    return GaussianHead(horizon, targets) if gaussian else PointHead(horizon, targets)
