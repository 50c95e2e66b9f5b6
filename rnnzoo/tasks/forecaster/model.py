"""Time-series forecasting: read a window, predict the next ``horizon`` steps at once (direct multi-step)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnzoo.tasks.base import PreprocessingError, TaskModel
from rnnzoo.tasks.forecaster.objective import ForecastingObjective
from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler
from rnnzoo.tasks.layers import build_layer, last_layer_state
from rnnzoo.tasks.raw_input import as_sequences, is_one_sequence, load_array, write_or_return

NORMALIZATIONS = ("none", "last_value")


class Forecaster(TaskModel):
    """Recurrent encoder over the window, its last state, a linear head to ``horizon`` future steps.

    Direct multi-step forecasting (one head for all steps) avoids feeding back the model's own errors.
    ``forward`` reads scaled windows; :meth:`forecast` takes the raw series in its own units and scales it with
    the training-range statistics the model carries (``model.preprocessing``, a :class:`SeriesScaler`).

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
    objective_class = ForecastingObjective
    preprocessing_class = SeriesScaler
    card_tags = ("time-series-forecasting", "Time-series forecasting")
    input_kind = "lines"
    card_usage = ("forecast = model.forecast(history)  # the series up to now, in its own units; returns the "
                  "next horizon steps")

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


    def synthetic_input(self, steps, generator):
        """A seasonal (period 12) sine with noise on every input channel, standardised."""
        t = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
        noise = 0.2 * torch.randn(steps, self.config["input_size"], generator=generator)
        series = torch.sin(2 * math.pi * t / 12) + noise
        return ((series - series.mean(0)) / series.std(0)).unsqueeze(0)

    def forecast(self, history: Any, horizon: int | None = None, *,
                 series: int | str = 0) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Forecast the next ``horizon`` steps after ``history``, in the series' own units.

        Args:
            history: the raw series up to the forecast origin: ``(T,)`` or ``(T, features)`` (numpy, torch,
                a list, a pandas Series/DataFrame), at least the model's input length (``preprocessing
                .input_length``) long; a longer one is cut to its last ``input_length`` steps, which is all the
                model reads. A list of such histories (or a ``(N, T, features)`` array) forecasts each.
            horizon: steps ahead, at most the model's (it predicts all of them at once); None: the model's.
            series: which trained series' scaler to use (index or name) for a model trained on several.

        Returns numpy ``(horizon,)`` for one target series, ``(horizon, targets)`` otherwise (a leading ``N``
        axis for a list of histories); for a ``gaussian=True`` model a tuple ``(mean, std)`` of such arrays.
        """
        scaler = self.require_preprocessing("forecast()")
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise PreprocessingError(f"horizon={horizon}: this model predicts 1 to {self.horizon} steps at once "
                                     f"(direct multi-step); retrain with a longer horizon for more")
        index = scaler.series_index(series)
        histories = as_sequences(history, self.config["input_size"], "history")
        need = scaler.input_length
        for i, h in enumerate(histories):
            if len(h) < need:
                name = "history" if len(histories) == 1 else f"history[{i}]"
                raise PreprocessingError(f"{name} has {len(h)} steps; {self.architecture!r} reads windows of "
                                         f"{need} (its training input_length): pass at least {need} steps")
        windows = np.stack([scaler.encode(h[-need:], index) for h in histories])  # (N, L, F)
        with self.inference() as weight:
            out = self(torch.from_numpy(windows).to(device=weight.device, dtype=weight.dtype))
        mean, std = out if isinstance(out, tuple) else (out, None)
        mean = scaler.decode(mean[:, :horizon].float().cpu().numpy(), index, features=self.output_size)
        std = None if std is None else scaler.decode_scale(std[:, :horizon].float().cpu().numpy(), index,
                                                           features=self.output_size)
        single = is_one_sequence(history, paths=False)

        def shape(a):  # (N, H, targets) -> (H,) / (H, targets), with N dropped for one history
            a = a[..., 0] if self.output_size == 1 else a
            return a[0] if single else a

        return (shape(mean), shape(std)) if std is not None else shape(mean)

    def predict_from_files(self, inputs, options):
        """One series file (CSV/Parquet with ``--column``, or .npy) -> a CSV table of the forecast."""
        if len(inputs) != 1:
            raise PreprocessingError(f"give one series file (CSV, Parquet or .npy), got {len(inputs)} inputs")
        path = inputs[0]
        if path.lower().endswith(".npy"):
            history = load_array(path)
        else:
            history = self._read_columns(path, options.column)
        series = int(options.series) if str(options.series).isdigit() else options.series
        out = self.forecast(history, options.horizon, series=series)
        mean, std = out if isinstance(out, tuple) else (out, None)
        mean = mean.reshape(len(mean), -1)
        names = [f"target{k}" for k in range(mean.shape[1])] if mean.shape[1] > 1 else ["forecast"]
        header = ["step", *names, *([f"{n}_std" for n in names] if std is not None else [])]
        rows = [",".join(header)]
        for step in range(len(mean)):
            values = [*mean[step], *(std.reshape(len(mean), -1)[step] if std is not None else [])]
            rows.append(",".join([str(step + 1), *(f"{v:.6g}" for v in values)]))
        return write_or_return("\n".join(rows), options.out)

    def _read_columns(self, path: str, columns: list[str] | None) -> np.ndarray:
        """The value columns of a CSV/Parquet file: ``columns``, else those the model was trained on, else the
        numeric ones when their count is the model's input width."""
        from rnnzoo.data.timeseries.read_table import read_series_table

        scaler = self.require_preprocessing("forecast()")
        columns = columns or scaler.columns
        if columns is None:
            import pandas as pd

            head = pd.read_csv(path, nrows=5) if path.lower().endswith(".csv") else pd.read_parquet(path)
            numeric = list(head.select_dtypes("number").columns)
            if len(numeric) != self.config["input_size"]:
                raise PreprocessingError(
                    f"{path} has numeric columns {numeric} (all columns: {list(head.columns)}); the model reads "
                    f"{self.config['input_size']} per step: name them with --column")
        return read_series_table(path, columns)


def _last_values(window: Tensor, lengths: Tensor | Sequence[int] | None) -> Tensor:
    """``window[b, lengths[b] - 1]`` for each row (the last step when ``lengths`` is None): (B, features)."""
    if lengths is None:
        return window[:, -1]
    last = torch.as_tensor(lengths, device=window.device).long() - 1
    if torch.compiler.is_exporting():  # the value checks below cannot be traced; the graph gathers as given
        return window[torch.arange(window.shape[0], device=window.device), last]
    if last.shape != (window.shape[0],) or bool((last < 0).any()) or bool((last >= window.shape[1]).any()):
        raise ValueError(f"lengths must hold one length in 1..{window.shape[1]} (the window's steps) per window, "
                         f"got {torch.as_tensor(lengths).tolist()} for {window.shape[0]} windows")
    return window[torch.arange(window.shape[0], device=window.device), last]
