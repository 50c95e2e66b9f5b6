"""A forecaster in the series' own units as one traceable module: raw window in, raw forecast out (what export
writes for a forecaster, so that an ONNX forecaster is called like :meth:`Forecaster.forecast`)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnzoo.tasks.base import PreprocessingError
from rnnzoo.tasks.forecaster.model import Forecaster


class RawUnitsForecaster(nn.Module):
    """``model.forecast``'s arithmetic around ``model.forward``, in torch ops: scale the window (and the horizon's
    future covariates) with the series' training statistics, run the forward, unscale its output.

    ``forward(window, lengths=None, future=None, series=None)``: ``window`` (B, T, input_size) in the data's units
    (targets, then covariates, as ``forecast`` reads a history); ``future`` (B, horizon, num_future) in the data's
    units; ``series`` (B,) int64, which trained series' scaler (and, for the hybrid, smoothing) each window takes:
    the index ``forecast(series=...)`` resolves a name to. It returns what the forward returns, in the data's
    units: (B, horizon, output_size) point forecasts, (B, horizon, output_size, Q) quantiles at the model's
    levels, or a Gaussian's ``(mean, std)``: ``forecast(history)``, ``forecast(history, quantiles=model.quantiles)``
    or ``forecast(history)``'s ``(mean, std)`` for one history, batched and over the model's whole horizon.

    A model without preprocessing reads the series' own values (its forward's convention, see
    ``normalizations.ScalerBuffers.statistics``): the scaling is then the identity. The scalers are buffers (float32 copies of
    ``model.preprocessing``), so an exported graph carries them as constants. Nothing here checks values
    (``forecast`` does: lengths, series ids, positive values for the hybrid): a data-dependent check cannot be
    exported.
    """

    def __init__(self, model: Forecaster):
        super().__init__()
        features = int(model.config["input_size"])
        scaler = model.preprocessing
        if scaler is None:
            mean, std = torch.zeros(1, features), torch.ones(1, features)
        else:
            mean = torch.tensor(scaler.mean, dtype=torch.float32)
            std = torch.tensor(scaler.std, dtype=torch.float32)
            if mean.dim() != 2 or mean.shape[1] != features or std.shape != mean.shape:
                raise PreprocessingError(
                    f"the model's scaler holds mean {list(mean.shape)} and std {list(std.shape)}, but the model reads "
                    f"{features} feature(s) per step: expected [series, {features}] each; reload the model with the "
                    f"preprocessing its DataModule wrote")
        self.register_buffer("mean", mean)  # (S, F), as SeriesScaler.encode/decode read it
        self.register_buffer("std", std)
        self.model = model
        smoothed = model.smoothing.alpha_logit.shape[0] if model.normalization == "es" else 1
        self.takes_series = mean.shape[0] > 1 or smoothed > 1  # one scaler and one smoothing: nothing to choose

    def keyword_names(self) -> list[str]:
        """The inputs after the window (and lengths), in order: ``future`` with future covariates, ``series``
        when the model has several scalers or smoothings."""
        return [*(["future"] if self.model.num_future else []), *(["series"] if self.takes_series else [])]

    def forward(self, window: Tensor, lengths: Tensor | None = None, future: Tensor | None = None,
                series: Tensor | None = None):
        """Raw window (and future covariates) -> raw forecast; see the class docstring."""
        mean, std = self._statistics(series)
        extra = {}
        if future is not None:
            n = self.model.num_future  # the window's last features, where the DataModule put them
            extra["future"] = (future - mean[..., -n:]) / std[..., -n:]
        if self.model.normalization == "es":  # forecast hands the hybrid the series id too
            extra["series"] = series if series is not None else torch.zeros_like(window[:, 0, 0], dtype=torch.long)
        out = self.model((window - mean) / std, lengths=lengths, **extra)
        k = self.model.output_size
        loc, scale = mean[..., :k], std[..., :k]  # (B or 1, 1, targets)
        if isinstance(out, tuple):  # a Gaussian: the mean moves and scales, the std only scales
            return out[0] * scale + loc, out[1] * scale
        if out.dim() == 4:  # quantiles (B, H, K, Q)
            return out * scale.unsqueeze(-1) + loc.unsqueeze(-1)
        return out * scale + loc

    def to_units(self, scaled: Tensor, series: Tensor | None = None, *, last: int | None = None) -> Tensor:
        """Scaled values (B, T, F) -> the data's units, with each window's series' scaler (``last``: the values
        are the last ``last`` features only, a forecaster's future covariates); the inverse of this graph's
        scaling, used to make raw example inputs from the model's scaled synthetic ones."""
        mean, std = self._statistics(series)
        if last is not None:
            mean, std = mean[..., -last:], std[..., -last:]
        return scaled * std + mean

    def _statistics(self, series: Tensor | None) -> tuple[Tensor, Tensor]:
        """Each window's scaler mean and std (B, 1, F), or series 0's (1, 1, F) when there is one scaler or no
        ``series`` (forecast's default)."""
        if self.mean.shape[0] > 1 and series is not None:
            return self.mean[series].unsqueeze(1), self.std[series].unsqueeze(1)
        return self.mean[:1].unsqueeze(1), self.std[:1].unsqueeze(1)
