"""Time-series forecasting: read a window, predict the next ``horizon`` steps at once (direct multi-step)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnzoo.models.base import TaskModel
from rnnzoo.models.cells import build_layer, last_layer_state

NORMALIZATIONS = ("none", "last_value")


class Forecaster(TaskModel):
    """Recurrent encoder over the window, its last state, a linear head to ``horizon`` future steps.

    Direct multi-step forecasting (one head for all steps) avoids feeding back the model's own errors.
    Inputs and targets are expected scaled; the scaler's state travels as the model's preprocessing.

    With ``normalization="last_value"`` the window's last value is subtracted from every step before the
    recurrent layer and added back to the forecast (``y_hat = last + f(x - last)``, the NLinear trick of Zeng et
    al. 2023): the network reads the window's shape, not its level, so a series whose test range lies beyond
    its training range (a trend, e.g. CO2) stays within the inputs it was trained on, and the forecast moves
    with any shift of the window: ``model(x + c) == model(x) + c``.

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        input_size: features per step of the window (targets and covariates).
        horizon: number of future steps predicted.
        output_size: target series per step; defaults to ``input_size``.
        hidden_size, num_layers, dropout: of the recurrent layer.
        gaussian: also predict a standard deviation per output (train with ``gaussian_nll_loss``).
        normalization: ``"none"`` or ``"last_value"`` (see above); the targets are the first ``output_size``
            features of the window.
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
    """

    task = "forecaster"

    def __init__(
        self,
        cell: str = "lstm",
        input_size: int = 1,
        horizon: int = 24,
        output_size: int | None = None,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        gaussian: bool = False,
        cell_options: dict[str, Any] | None = None,
        normalization: str = "none",
    ):
        super().__init__()
        output_size = input_size if output_size is None else output_size
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
        if normalization == "last_value" and output_size > input_size:
            raise ValueError(f"normalization='last_value' adds the window's last values back to the forecast, so "
                             f"output_size ({output_size}) cannot exceed input_size ({input_size})")
        self._store_config(
            cell=cell, input_size=input_size, horizon=horizon, output_size=output_size,
            hidden_size=hidden_size, num_layers=num_layers, dropout=dropout, gaussian=gaussian,
            cell_options=cell_options, normalization=normalization,
        )
        self.horizon, self.output_size, self.gaussian = horizon, output_size, gaussian
        self.normalization = normalization
        self.rnn = build_layer(cell, input_size, hidden_size, num_layers, dropout, cell_options=cell_options)
        self.head = nn.Linear(hidden_size, horizon * output_size * (2 if gaussian else 1))

    def forward(self, window: Tensor, *, lengths: Tensor | Sequence[int] | None = None):
        """``window`` (B, T, input_size) -> forecasts (B, horizon, output_size).

        With ``gaussian=True`` returns ``(mean, std)``, both (B, horizon, output_size), std > 0.
        ``lengths`` allows windows of different lengths in one batch (left-aligned, padded at the end).
        """
        level = None
        if self.normalization == "last_value":
            level = _last_values(window, lengths).unsqueeze(1)  # (B, 1, input_size)
            window = window - level
        _, state = self.rnn(window, lengths=lengths)
        out = self.head(last_layer_state(state, 1)).view(window.shape[0], self.horizon, -1)
        mean, raw_scale = out.chunk(2, dim=-1) if self.gaussian else (out, None)
        if level is not None:
            mean = mean + level[..., : self.output_size]
        if raw_scale is None:
            return mean
        # softplus keeps std positive with a gradient everywhere; the floor keeps the NLL finite.
        return mean, F.softplus(raw_scale) + 1e-4


def _last_values(window: Tensor, lengths: Tensor | Sequence[int] | None) -> Tensor:
    """``window[b, lengths[b] - 1]`` for each row (the last step when ``lengths`` is None): (B, features)."""
    if lengths is None:
        return window[:, -1]
    last = torch.as_tensor(lengths, device=window.device).long() - 1
    return window[torch.arange(window.shape[0], device=window.device), last]
