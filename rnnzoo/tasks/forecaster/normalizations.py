"""A forecaster's normalizations: what the recurrent layer reads instead of the scaled window, and how its outputs
become forecasts in the window's (scaled) units again.

Each is a small object built from the forecaster's arguments (it checks those it owns) with two methods:

* ``encode(window, lengths, series, future) -> (inputs, future, context)``: the layer's input (B, T', F), the
  horizon's future covariates as the head reads them, and what ``decode`` needs;
* ``decode(z, context, rearrange) -> forecasts``: the head's values ``z`` (B, H, K, P), one per target, step and
  output (P quantile levels, or 1), as forecasts in scaled units. ``rearrange`` is a quantile head's ordering
  (sort, then its calibration offsets), applied where the normalization's equations put it; ``decode_scale``
  turns a Gaussian's standard deviation into scaled units.

The equations (``x`` the scaled window, ``y`` the forecast, ``T`` its last step, ``z`` the network's output)::

    "none"                 reads x                   y_{T+h} = z_h
    "last_value"           reads x - x_T             y_{T+h} = x_T + z_h                      (NLinear)
    "es"                   reads log(y / (l s))      y_{T+h} = l s_{T+h-m} exp(z_h)  in units (ES-RNN)
    "seasonal_difference"  reads (d - c) / r         y_{T+h} = y_{T+h-m} + c + r z_h          (d_t = x_t - x_{t-m})

None of them has parameters of its own: the hybrid's smoothing coefficients (:class:`HoltWinters`) and its scaler
buffers are modules it names in :attr:`Normalization.modules`, which the forecaster registers under those names
(``smoothing.*`` are the keys the saved weights have).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnzoo.tasks.forecaster.smoothing import HoltWinters

NORMALIZATIONS = ("none", "last_value", "es", "seasonal_difference")


def _unchanged(y: Tensor) -> Tensor:
    return y


class Normalization:
    """``normalization="none"``: the network reads the scaled window and its outputs are the forecast. The base of
    the others: their ``__init__`` takes the same keywords (the forecaster's), each checking the ones it owns."""

    name = "none"

    def __init__(self, *, input_size: int, output_size: int, horizon: int, season: int = 1, num_series: int = 1,
                 drift: bool = False, gaussian: bool = False):
        _refuse_season(self.name, season, num_series)
        _refuse_drift(self.name, drift)
        self.output_size, self.horizon = output_size, horizon
        #: init arguments it adds to config.json (after all others), and modules the forecaster registers
        self.config: dict[str, Any] = {}
        self.modules: dict[str, nn.Module] = {}

    def initialize(self, head: nn.Linear) -> None:
        """Set the linear head's starting weights where the normalization has a natural start (default: as built)."""

    def set_preprocessing(self, scaler: Any, like: Tensor) -> None:
        """Take the model's preprocessing (a :class:`SeriesScaler` or None) when it is set; ``like``: a weight."""

    def encode(self, window: Tensor, lengths, series, future: Tensor | None) -> tuple[Tensor, Tensor | None, Any]:
        return window, future, None

    def decode(self, z: Tensor, context: Any, rearrange: Callable[[Tensor], Tensor] = _unchanged) -> Tensor:
        return rearrange(z)

    def decode_scale(self, std: Tensor, context: Any) -> Tensor:
        """A Gaussian's standard deviation (B, H, K) -> scaled units: a shift leaves it as it is."""
        return std


class LastValue(Normalization):
    """``y_hat = x_T + f(x - x_T)`` (NLinear, Zeng et al. 2023): the network reads the window relative to its last
    value (the future covariates relative to theirs), so ``model(x + c) == model(x) + c``."""

    name = "last_value"

    def __init__(self, *, input_size: int, output_size: int, **others: Any):
        if output_size > input_size:
            raise ValueError(f"normalization='last_value' adds the window's last values back to the forecast, so "
                             f"output_size ({output_size}) cannot exceed input_size ({input_size})")
        super().__init__(input_size=input_size, output_size=output_size, **others)

    def encode(self, window, lengths, series, future):
        level = _last_values(window, lengths).unsqueeze(1)  # (B, 1, F): x_T
        if future is not None:  # (B, H, N) - (B, 1, N): the window's last features are the future covariates
            future = future - level[..., -future.shape[-1]:]
        return window - level, future, level[..., : self.output_size].unsqueeze(-1)  # context (B, 1, K, 1)

    def decode(self, z, level, rearrange=_unchanged):
        # The quantiles are ordered (and calibrated) before the shift, which keeps their order.
        return rearrange(z) + level


class HoltWintersHybrid(Normalization):
    """``normalization="es"``, the ES-RNN-style hybrid (Smyl 2020), in the series' own units ``y = x std + mean``:

        inputs  log(y_t / (l s_t))  (targets; covariates as they are),    forecast  l s_{T+h-m} exp(z_h)

    with each window's last level ``l`` and seasonal indices ``s`` from learned multiplicative Holt-Winters
    smoothing (:class:`HoltWinters`, one set of coefficients per series). ``model(c x) == c model(x)`` in units.
    """

    name = "es"

    def __init__(self, *, input_size: int, output_size: int, horizon: int, season: int = 1, num_series: int = 1,
                 drift: bool = False, gaussian: bool = False):
        if gaussian:
            raise ValueError("normalization='es' transforms outputs through exp: a Gaussian head would not stay "
                             "Gaussian; use quantiles=[...] for a distribution")
        if output_size > input_size:
            raise ValueError(f"normalization='es' smooths the targets in the window, so output_size "
                             f"({output_size}) cannot exceed input_size ({input_size})")
        _refuse_drift(self.name, drift)
        self.output_size, self.horizon = output_size, horizon
        self.config = dict(season=int(season), num_series=int(num_series))
        self.smoothing = HoltWinters(int(num_series), output_size, int(season))
        self.scaler = ScalerBuffers()
        self.modules = {"smoothing": self.smoothing, "scaler": self.scaler}

    def set_preprocessing(self, scaler, like):
        self.scaler.set(scaler, like)

    def encode(self, window, lengths, series, future):
        if lengths is not None:
            raise ValueError("normalization='es' reads whole windows of one length; lengths= is not supported")
        batch, targets = window.shape[0], self.output_size
        series = torch.zeros(batch, dtype=torch.long, device=window.device) if series is None else \
            torch.as_tensor(series, device=window.device).long().view(-1)
        num_series = self.smoothing.alpha_logit.shape[0]
        exporting = torch.compiler.is_exporting()  # value checks cannot be traced: forecast() makes them
        if not exporting and (series.shape != (batch,) or bool((series < 0).any())
                              or bool((series >= num_series).any())):
            raise ValueError(f"series must hold one id in 0..{num_series - 1} per window (this model smooths "
                             f"{num_series} series), got {series.tolist()}")
        loc, scale = self.scaler.statistics(series, window)  # (B, F) each
        y = window[..., :targets] * scale[:, None, :targets] + loc[:, None, :targets]  # (B, T, K) series units
        if not exporting and bool((y <= 0).any()):
            raise ValueError(f"normalization='es' is multiplicative (it divides by the level and the season): "
                             f"every target value must be > 0, but a window holds {float(y.min()):.4g}. Use "
                             f"normalization='last_value' (additive) for series with zeros or negative values, or "
                             f"shift the series to positive values first")
        level, seasonal = self.smoothing(y, series)  # (B, K), (B, T, K)
        x = torch.log(y / (level.unsqueeze(1) * seasonal))  # (B, T, K): de-levelled, de-seasonalised
        m = self.smoothing.season
        ahead = [h % m for h in range(self.horizon)]  # s_{T+h-m}: the last season (of any window length) repeated
        factor = level[:, None, :] * seasonal[:, -m:][:, ahead]  # (B, H, K): l s_{T+h-m}
        context = factor.unsqueeze(-1), loc[:, None, :targets, None], scale[:, None, :targets, None]
        return torch.cat([x, window[..., targets:]], -1), future, context

    def decode(self, z, context, rearrange=_unchanged):
        factor, loc, scale = context
        y = factor * torch.exp(z.clamp(-20.0, 20.0))  # (B, H, K, P) series units
        return rearrange((y - loc) / scale)  # back to scaled units


class SeasonalDifference(Normalization):
    """``normalization="seasonal_difference"``: seasonal differences in, seasonal differences out, integrated onto
    the window's last season.

    The network reads ``d_t = x_t - x_{t-m}`` (every feature) over their mean size ``r`` in the window (with
    ``drift``, relative to their mean ``c``, the seasonal random walk with drift of Hyndman & Athanasopoulos'
    "snaive + drift"; else ``c = 0``) and predicts the horizon's ``(d_{T+h} - c) / r`` for the targets; the
    forecast is ``y_{T+h} = y_{T+h-m} + d_{T+h}``, with ``y_{T+h-m}`` from the window for ``h <= m`` and from the
    forecast itself beyond: the seasonal naive forecast plus the sum of the predicted differences of the same
    phase. Each quantile level is integrated the same way (then ordered); a Gaussian's mean is, its standard
    deviation is scaled by ``r``. Additive: ``model(x + c) == model(x) + c``.
    """

    name = "seasonal_difference"

    def __init__(self, *, input_size: int, output_size: int, horizon: int, season: int = 1, num_series: int = 1,
                 drift: bool = False, gaussian: bool = False):
        if int(season) < 1 or int(num_series) != 1:
            raise ValueError(f"normalization='seasonal_difference' takes a season >= 1 (got {season}) and no "
                             f"num_series (got {num_series}): it has no per-series parameters")
        if output_size > input_size:
            raise ValueError(f"normalization='seasonal_difference' adds the forecast to the window's last "
                             f"season, so output_size ({output_size}) cannot exceed input_size ({input_size})")
        self.output_size, self.horizon = output_size, horizon
        self.season, self.drift = int(season), bool(drift)
        self.config = {"season": self.season, "drift": True} if drift else {"season": self.season}  # drift if set
        self.modules = {}

    def initialize(self, head):
        # The forecast starts as the seasonal naive one (zero differences) and the network learns what to add to
        # it: a random head would start from noise as large as the yearly change of a smooth series.
        nn.init.zeros_(head.weight)
        nn.init.zeros_(head.bias)

    def encode(self, window, lengths, series, future):
        if lengths is not None:
            raise ValueError("normalization='seasonal_difference' reads whole windows of one length; lengths= is "
                             "not supported")
        steps, targets, m = window.shape[1], self.output_size, self.season
        if torch.compiler.is_exporting():  # a symbolic length: the exported graph asks for more than a season
            torch._check(steps > m)
        elif steps <= m:
            raise ValueError(f"season={m} needs windows longer than one season to difference (got {steps} "
                             f"steps): use input_length >= 2 * season, or a shorter season")
        differences = window[:, m:] - window[:, :-m]  # (B, T - m, F)
        spread = differences.abs().mean(1, keepdim=True).clamp_min(1e-3)  # (B, 1, F): r, scale-free input
        centre = differences.mean(1, keepdim=True) if self.drift else torch.zeros_like(spread)  # c
        context = window, centre[..., :targets].unsqueeze(-1), spread[..., :targets].unsqueeze(-1)  # (B, 1, K, 1)
        return (differences - centre) / spread, future, context

    def decode(self, z, context, rearrange=_unchanged):
        window, centre, spread = context
        return rearrange(integrate(centre + spread * z, window, self.season))

    def decode_scale(self, std, context):
        return context[2][..., 0] * std  # r sigma


def integrate(z: Tensor, window: Tensor, season: int) -> Tensor:
    """Predicted seasonal differences ``z`` (B, H, K, P) -> levels: ``y_{T+h} = y_{T+h-m} + z_h``."""
    batch, horizon, targets, per = z.shape
    m = season
    cycles = -(-horizon // m)  # ceil(H / m): seasons ahead, each adding its differences to the one before
    padded = F.pad(z, (0, 0, 0, 0, 0, cycles * m - horizon))  # (B, cycles * m, K, P)
    summed = padded.view(batch, cycles, m, targets, per).cumsum(1).view(batch, cycles * m, targets, per)
    last_season = window[:, -m:, :targets].repeat(1, cycles, 1)  # (B, cycles * m, K): y_{T-m+1..T} repeated
    return (last_season.unsqueeze(-1) + summed)[:, :horizon]


CLASSES = {c.name: c for c in (Normalization, LastValue, HoltWintersHybrid, SeasonalDifference)}


def make_normalization(name: str, **arguments: Any) -> Normalization:
    """The normalization called ``name`` (one of :data:`NORMALIZATIONS`), built from the forecaster's arguments."""
    if name not in CLASSES:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {name!r}")
    return CLASSES[name](**arguments)


class ScalerBuffers(nn.Module):
    """The preprocessing's per-series mean and std (S, F) as buffers, for the hybrid, which works in the series'
    units inside the forward: set with the preprocessing (:meth:`set`), moved with the model (``.to(device)``),
    never saved (``persistent=False``: config.json holds the statistics, the state dict stays as it was).

    They keep the preprocessing's float64 numbers whatever the model's dtype (``.half()``, ``.double()`` and a
    round trip like ``model.half().float()`` leave them as they are) and are cast to each window's dtype when
    read, so a window of any dtype gets the statistics ``torch.tensor(scaler.mean, dtype=window.dtype)`` gives
    (float32 on an MPS device, which has no float64)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", None, persistent=False)
        self.register_buffer("std", None, persistent=False)

    def set(self, scaler: Any, like: Tensor) -> None:
        """Copy a :class:`SeriesScaler`'s statistics (None: clear them) to the device of ``like`` (a weight)."""
        if scaler is None:
            self.mean = self.std = None
            return
        self.mean = torch.tensor(scaler.mean, dtype=_exact(like.device), device=like.device)
        self.std = torch.tensor(scaler.std, dtype=_exact(like.device), device=like.device)

    def _apply(self, fn, recurse=True):
        # Module.to/.cuda/.half/...: follow the conversion's device, keep the dtype (see the class docstring).
        for name, value in self._buffers.items():
            if value is not None:
                device = fn(torch.empty(0, device=value.device)).device  # where the conversion puts tensors
                self._buffers[name] = value.to(device=device, dtype=_exact(device))
        return self

    def statistics(self, series: Tensor, window: Tensor) -> tuple[Tensor, Tensor]:
        """The mean and std (B, F) of each window's series (0 and 1 without preprocessing: the window is then read
        as the series' own values)."""
        if self.mean is None:
            return torch.zeros_like(window[:, 0]), torch.ones_like(window[:, 0])
        mean, std = self.mean.to(window.dtype), self.std.to(window.dtype)
        if not torch.compiler.is_exporting() and int(series.max()) >= len(mean):
            raise ValueError(f"series id {int(series.max())} but the preprocessing has scalers for {len(mean)} series")
        return mean[series], std[series]


def _exact(device: torch.device) -> torch.dtype:
    """The dtype that holds a scaler's Python floats exactly on ``device``."""
    return torch.float32 if device.type == "mps" else torch.float64


def _refuse_season(name: str, season: int, num_series: int) -> None:
    if (season, num_series) != (1, 1):
        raise ValueError(f"season belongs to normalization='es' or 'seasonal_difference' and num_series to "
                         f"'es' (got normalization={name!r}); the other normalisations have no "
                         f"season and no per-series parameters")


def _refuse_drift(name: str, drift: bool) -> None:
    if drift:
        raise ValueError(f"drift=True belongs to normalization='seasonal_difference' (got {name!r}): it "
                         f"starts the forecast from the seasonal random walk with drift")


def _last_values(window: Tensor, lengths: Tensor | Sequence[int] | None) -> Tensor:
    """``window[b, lengths[b] - 1]`` for each row (the last step when ``lengths`` is None): (B, features)."""
    if lengths is None:
        return window[:, -1]
    last = torch.as_tensor(lengths, device=window.device).long() - 1
    if torch.compiler.is_exporting():  # the value checks below cannot be traced: the graph gathers as given
        return window[torch.arange(window.shape[0], device=window.device), last]
    if last.shape != (window.shape[0],) or bool((last < 0).any()) or bool((last >= window.shape[1]).any()):
        raise ValueError(f"lengths must hold one length in 1..{window.shape[1]} (the window's steps) per window, "
                         f"got {torch.as_tensor(lengths).tolist()} for {window.shape[0]} windows")
    return window[torch.arange(window.shape[0], device=window.device), last]
