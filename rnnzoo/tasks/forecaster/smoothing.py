"""Per-series multiplicative Holt-Winters smoothing (level and season, no trend) with learned coefficients: the
normaliser of the ES-RNN-style hybrid forecaster (``Forecaster(normalization="es")``, Smyl 2020).

    l_t = alpha y_t / s_{t-m} + (1 - alpha) l_{t-1}
    s_t = gamma y_t / l_t     + (1 - gamma) s_{t-m}
    alpha = sigmoid(a[series]),  gamma = sigmoid(g[series])          (one a, g per series and target)

Each window starts the recursion afresh from its own first season: ``l_{m-1} = mean(y_0 .. y_{m-1})``,
``s_j = y_j / l_{m-1}`` for ``j < m`` (with ``m = 1``: ``l_0 = y_0`` and no season).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class HoltWinters(nn.Module):
    """Learned smoothing coefficients for ``num_series`` series of ``channels`` targets, season ``season``."""

    def __init__(self, num_series: int, channels: int, season: int):
        super().__init__()
        if num_series < 1 or channels < 1 or season < 1:
            raise ValueError(f"num_series, channels and season must be >= 1, got {num_series}, {channels}, {season}")
        self.season = season
        self.alpha_logit = nn.Parameter(torch.zeros(num_series, channels))  # alpha = 0.5 at the start
        self.gamma_logit = nn.Parameter(torch.zeros(num_series, channels)) if season > 1 else None

    def forward(self, y: Tensor, series: Tensor) -> tuple[Tensor, Tensor]:
        """``y`` (B, T, K) > 0, ``series`` (B,) ids -> the last level (B, K) and the seasonal indices (B, T, K)
        (all ones when ``season == 1``)."""
        m, steps = self.season, y.shape[1]
        if steps < m:
            raise ValueError(f"season={m} is longer than the window ({steps} steps): the smoothing starts from the "
                             f"window's first full season. Use input_length >= season (better 2-3 seasons), or a "
                             f"shorter season")
        alpha = torch.sigmoid(self.alpha_logit[series])  # (B, K)
        if m == 1:
            level, seasons = y[:, 0], [torch.ones_like(y[:, 0])]
        else:
            level = y[:, :m].mean(1)  # (B, K)
            seasons = list((y[:, :m] / level.unsqueeze(1)).unbind(1))  # m x (B, K)
            gamma = torch.sigmoid(self.gamma_logit[series])  # (B, K)
        if torch.compiler.is_exporting():  # a symbolic number of steps: the same recursion as one torch scan
            return _scan_recursion(y, alpha, gamma if m > 1 else None, level, seasons)
        for t in range(max(m, 1), steps):
            s_back = seasons[t - m] if m > 1 else 1.0
            level = alpha * y[:, t] / s_back + (1 - alpha) * level  # (B, K)
            if m > 1:
                seasons.append(gamma * y[:, t] / level + (1 - gamma) * s_back)
        seasonal = torch.stack(seasons, 1) if m > 1 else torch.ones_like(y)  # (B, T, K)
        return level, seasonal


def _scan_recursion(y: Tensor, alpha: Tensor, gamma: Tensor | None, level: Tensor,
                    first_season: list[Tensor]) -> tuple[Tensor, Tensor]:
    """:meth:`HoltWinters.forward`'s loop as ``torch``'s scan, which ``torch.export`` keeps as a loop over the
    window's symbolic length (and the ONNX exporter writes as a ``Scan``): the carry holds the level and the last
    ``m`` seasonal indices (oldest first), so ``s_{t-m}`` is always the carry's first one."""
    from torch._higher_order_ops.scan import scan

    m = len(first_season)
    if gamma is None:  # no season: the level alone
        def level_step(carry, y_t):
            new = alpha * y_t + (1 - alpha) * carry[0]
            return (new,), new.clone()  # scan's outputs may not alias its carry

        (final,), _ = scan(level_step, (level.clone(memory_format=torch.contiguous_format),),
                           y[:, 1:].transpose(0, 1))
        return final, torch.ones_like(y)

    def step(carry, y_t):
        l_prev, ring = carry  # (B, K), (B, m, K)
        s_back = ring[:, 0]
        l_t = alpha * y_t / s_back + (1 - alpha) * l_prev
        s_t = gamma * y_t / l_t + (1 - gamma) * s_back
        return (l_t, torch.cat([ring[:, 1:], s_t.unsqueeze(1)], 1)), s_t.clone()

    start = torch.stack(first_season, 1)  # (B, m, K)
    carry = (level.clone(memory_format=torch.contiguous_format), start)  # scan wants carries laid out as it
    (final, _), later = scan(step, carry, y[:, m:].transpose(0, 1))  # later: (T-m, B, K)
    return final, torch.cat([start, later.transpose(0, 1)], 1)
