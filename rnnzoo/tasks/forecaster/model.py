"""Time-series forecasting: read a window, predict the next ``horizon`` steps at once (direct multi-step)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnzoo.tasks.base import PreprocessingError, TaskModel
from rnnzoo.tasks.forecaster.heads import check_levels, make_head
# NORMALIZATIONS is imported from here by the comparison's option checks
from rnnzoo.tasks.forecaster.normalizations import NORMALIZATIONS, integrate, make_normalization  # noqa: F401
from rnnzoo.tasks.forecaster.objective import ForecastingObjective
from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler
from rnnzoo.tasks.forecaster.scores import gaussian_quantiles, median_of
from rnnzoo.tasks.forecaster.tables import dated, forecast_csv, forecast_dates, read_history, target_names
from rnnzoo.tasks.layers import build_layer, last_layer_state
from rnnzoo.tasks.raw_input import as_sequence, as_sequences, is_one_sequence, load_array, write_or_return


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

    ``forward`` composes the parts: the normalization's ``encode`` (``model.normalizer``), the recurrent layer,
    the linear ``head`` on its last state, and the head kind (``model.output``, :mod:`~rnnzoo.tasks.forecaster
    .heads`: point, Gaussian or quantiles), which reads the linear outputs as its distribution and has the
    normalization ``decode`` them into scaled units.

    Args:
        cell: "rnn" | "lstm" | "peephole_lstm" | "gru".
        input_size: features per step of the window (targets and covariates).
        horizon: number of future steps predicted.
        output_size: target series per step; defaults to ``input_size``.
        hidden_size, num_layers, dropout: of the recurrent layer.
        gaussian: also predict a standard deviation per output (train with ``gaussian_nll_loss``).
        quantiles: predict these quantile levels (each in (0, 1)) of every output instead of one value, trained
            with the pinball loss; ``forward`` then returns (B, horizon, output_size, Q) in ascending level order,
            sorted along the last axis so that the quantiles never cross (Chernozhukov et al. 2010's
            rearrangement, which never raises the pinball loss). None (default): a point forecast.
        normalization: what the recurrent layer reads and how its outputs become forecasts (one class each in
            :mod:`~rnnzoo.tasks.forecaster.normalizations`): ``"none"``, ``"last_value"`` (see above) or ``"es"``,
            the ES-RNN-style hybrid (Smyl 2020): learned per-series multiplicative Holt-Winters smoothing gives
            each window's last level ``l`` and seasonal indices ``s``; the network reads ``log(y_t / (l s_t))``
            (covariates as they are) and its outputs ``z`` become ``l * s_{T+h-m} * exp(z)``. It works in the
            series' own units (the model's preprocessing undoes the DataModule's standardisation), so the targets
            must be positive: a non-positive value is an error (use ``"last_value"``, additive, for such series).
            ``model(c * x) == c * model(x)`` in those units. The targets are the first ``output_size`` features of
            the window. ``"seasonal_difference"``: the network reads the window's seasonal differences ``x_t -
            x_{t-m}`` (over their mean size in the window) and predicts the horizon's, which are added to the
            seasonal naive forecast; the head starts at zero, so an untrained model forecasts the seasonal random
            walk. Additive: ``model(x + c) == model(x) + c``.
        cell_options: extra layer arguments (e.g. ``{"forget_bias": 0.0}``).
        season: ``normalization="es"`` or ``"seasonal_difference"`` only: the seasonal period m (1: level only,
            or first differences); windows must be at least this long (the hybrid) or longer (the differences).
        drift: ``normalization="seasonal_difference"`` only: start from the seasonal random walk with drift (the
            window's mean seasonal difference added for each season ahead), for trending series
            (:func:`rnnzoo.compare.trend.drifts` decides it in ``rnnzoo compare``).
        num_series: ``normalization="es"`` only: series with their own smoothing coefficients; ``forward``'s
            ``series`` (the DataModule's ``"series"`` batch key) picks them.
        num_future: future-known covariates (calendar features, planned values): the window's last
            ``num_future`` features, which ``forward`` also gets for the horizon (``future``, (B, horizon,
            num_future), the DataModule's ``"future"`` batch key). The head reads the last hidden state and the
            flattened horizon covariates together, ``head([h_T, vec(future)])``: every output step sees every
            future step's covariates, at ``horizon * num_future * horizon * output_size * (outputs per value)``
            extra weights (24 steps, 3 covariates, one target, point head: 1,728). With ``normalization=
            "last_value"`` the future covariates are taken relative to their last value in the window, like the
            window; with ``"es"`` they enter as they are. 0 (default): none (config.json then has no such key).
        calibrated: quantile models only: carry conformal interval offsets, a buffer ``interval_offsets``
            (horizon, output_size, Q) in scaled units that ``forward`` adds to the sorted quantiles (then sorts
            again). It starts at zeros (no change) and is filled by
            :func:`~rnnzoo.tasks.forecaster.calibration.calibrate_intervals` (conformalized quantile regression
            on the validation split); being a buffer, it is saved and loaded with the weights. False (default):
            no buffer, and config.json has no such key (the bundled weights load unchanged).
    """

    task = "forecaster"
    objective_class = ForecastingObjective
    preprocessing_class = SeriesScaler
    card_tags = ("time-series-forecasting", "Time-series forecasting")
    predict_input_example = "history.csv"
    median_ensemble = True
    input_kind = "lines"
    @staticmethod
    def card_usage(config: dict[str, Any]) -> str:
        """The card's raw-input call; a quantile model's card also shows ``forecast(..., quantiles=...)``."""
        usage = ("forecast = model.forecast(history)  # the series up to now, in its own units; returns the "
                 "next horizon steps")
        levels = config.get("init_args", {}).get("quantiles")
        if levels:
            usage += (f"\nbands = model.forecast(history, quantiles={list(levels)})  # (horizon, {len(levels)}): "
                      f"those quantiles, same units (the trained levels only)")
        return usage

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
        quantiles: Sequence[float] | None = None,
        season: int = 1,
        num_series: int = 1,
        num_future: int = 0,
        drift: bool = False,
        calibrated: bool = False,
    ):
        super().__init__()
        output_size = input_size if output_size is None else output_size
        self.normalizer = make_normalization(normalization, input_size=input_size, output_size=output_size,
                                             horizon=horizon, season=season, num_series=num_series, drift=drift,
                                             gaussian=gaussian)
        self.output = make_head(horizon, output_size, gaussian=gaussian, quantiles=quantiles, calibrated=calibrated)
        num_future = int(num_future)
        if num_future < 0:
            raise ValueError(f"num_future must be >= 0 (future-known covariates at the end of the window), got "
                             f"{num_future}")
        if num_future and num_future + output_size > input_size:
            raise ValueError(f"num_future={num_future} future-known features are the window's last ones, after "
                             f"the {output_size} target(s), so input_size ({input_size}) must be at least "
                             f"{num_future + output_size}")
        init_args = dict(cell=cell, input_size=input_size, horizon=horizon, output_size=output_size,
                         hidden_size=hidden_size, num_layers=num_layers, dropout=dropout, gaussian=gaussian,
                         cell_options=cell_options, normalization=normalization)
        # The optional arguments only when used, so that config.json stays as format 1 wrote it for the models
        # without them (the bundled weights' config.json and safetensors load unchanged).
        if self.output.levels is not None:
            init_args["quantiles"] = self.output.levels  # checked and sorted
        if num_future:
            init_args["num_future"] = num_future
        if calibrated:
            init_args["calibrated"] = True
        self._store_config(**init_args, **self.normalizer.config)  # the hybrid's season and num_series, ...
        self.horizon, self.output_size, self.gaussian = horizon, output_size, gaussian
        self.quantiles = self.output.levels
        self.normalization = normalization
        self.num_future = num_future
        self.season, self.drift = int(season), bool(drift)  # export reads the season (its windows' least length)
        for name, module in self.normalizer.modules.items():  # the hybrid's smoothing (its weights' keys), scaler
            self.add_module(name, module)
        self.rnn = build_layer(cell, input_size, hidden_size, num_layers, dropout, cell_options=cell_options)
        self.head = nn.Linear(hidden_size + horizon * num_future, horizon * output_size * self.output.per_value)
        self.normalizer.initialize(self.head)
        self.calibrated = bool(calibrated)
        if self.calibrated:  # persistent: model.safetensors and checkpoints carry the calibration with the weights
            self.register_buffer("interval_offsets", torch.zeros(horizon, output_size, len(self.quantiles)))

    @TaskModel.preprocessing.setter
    def preprocessing(self, value) -> None:
        """As every task model's; the hybrid's scaler buffers follow it (on the weights' device)."""
        TaskModel.preprocessing.fset(self, value)
        self.normalizer.set_preprocessing(self._preprocessing, next(self.rnn.parameters()))

    def _check_future(self, future, window: Tensor) -> Tensor | None:
        if not self.num_future:
            if future is not None:
                raise ValueError("this forecaster reads no future covariates (num_future=0); pass future=None, or "
                                 "train one with num_future=N on a DataModule with num_future=N")
            return None
        expected = (window.shape[0], self.horizon, self.num_future)
        if future is None:
            raise ValueError(f"this forecaster reads {self.num_future} future-known covariate(s) for each of its "
                             f"{self.horizon} horizon steps: pass future= of shape {expected} (the DataModule's "
                             f"'future' batch key)")
        future = torch.as_tensor(future, device=window.device, dtype=window.dtype)
        if tuple(future.shape) != expected:
            raise ValueError(f"future has shape {tuple(future.shape)}, expected {expected} (windows, horizon, "
                             f"future-known covariates)")
        return future

    def forward(self, window: Tensor, *, lengths: Tensor | Sequence[int] | None = None,
                series: Tensor | Sequence[int] | None = None, future: Tensor | None = None):
        """``window`` (B, T, input_size) -> forecasts (B, horizon, output_size).

        With ``gaussian=True`` returns ``(mean, std)``, both (B, horizon, output_size), std > 0; with
        ``quantiles`` (Q levels) one tensor (B, horizon, output_size, Q), non-decreasing along Q.
        ``lengths`` allows windows of different lengths in one batch (left-aligned, padded at the end).
        ``series`` (B,): which series each window comes from (``normalization="es"``; default: all series 0).
        ``future`` (B, horizon, num_future): the future-known covariates of the horizon, scaled like the window
        (required when ``num_future`` > 0, refused otherwise).
        """
        future = self._check_future(future, window)
        inputs, future, context = self.normalizer.encode(window, lengths, series, future)
        _, state = self.rnn(inputs, lengths=lengths)
        h = last_layer_state(state, 1)  # (B, hidden), beside it the flattened horizon covariates
        out = self.head(h if future is None else torch.cat([h, future.flatten(1)], -1))  # (B, H * K * per value)
        return self.output.forecast(out, self.normalizer, context, self.interval_offsets if self.calibrated else None)

    def _integrate(self, z: Tensor, window: Tensor) -> Tensor:
        """Seasonal differences (B, H, K, P) -> levels (see :func:`~rnnzoo.tasks.forecaster.normalizations
        .integrate`), with this model's season."""
        return integrate(z, window, self.season)

    def synthetic_input(self, steps, generator):
        """A seasonal (period 12) sine with noise on every input channel, standardised."""
        t = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
        noise = 0.2 * torch.randn(steps, self.config["input_size"], generator=generator)
        series = torch.sin(2 * math.pi * t / 12) + noise
        series = (series - series.mean(0)) / series.std(0)
        if self.normalization == "es":  # multiplicative: a positive series (level 1, +-25% season), then encoded
            series = 1 + 0.1 * series
            if self.preprocessing is not None:
                mean = torch.tensor(self.preprocessing.mean[0]).abs().clamp(min=1e-3)
                series = (series * mean - torch.tensor(self.preprocessing.mean[0])) / torch.tensor(
                    self.preprocessing.std[0])
        return series.unsqueeze(0)

    def synthetic_keywords(self, model_input: Tensor) -> dict[str, Tensor]:
        """Zero (the training mean, scaled) future-known covariates for a synthetic input, when the model has any,
        and for a hybrid of several series each window's series id (in turn: 0, 1, ..., 0, 1, ...)."""
        keywords = {}
        if self.num_future:
            keywords["future"] = model_input.new_zeros(model_input.shape[0], self.horizon, self.num_future)
        if self.normalization == "es" and self.smoothing.alpha_logit.shape[0] > 1:
            keywords["series"] = torch.arange(model_input.shape[0], device=model_input.device) % \
                self.smoothing.alpha_logit.shape[0]
        return keywords

    def forecast(self, history: Any, horizon: int | None = None, *, series: int | str = 0,
                 quantiles: Sequence[float] | None = None,
                 future: Any = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Forecast the next ``horizon`` steps after ``history``, in the series' own units.

        Args:
            history: the raw series up to the forecast origin: ``(T,)`` or ``(T, features)`` (numpy, torch,
                a list, a pandas Series/DataFrame), at least the model's input length (``preprocessing
                .input_length``) long; a longer one is cut to its last ``input_length`` steps, which is all the
                model reads. A list of such histories (or a ``(N, T, features)`` array) forecasts each. A
                DataFrame's columns are read by name (``preprocessing.columns``, any order, extra columns
                ignored) where the model knows them; its dates (the training time column, or a DatetimeIndex)
                give the calendar columns a ``--calendar`` model reads.
            horizon: steps ahead, at most the model's (it predicts all of them at once); None: the model's.
            series: which trained series' scaler to use (index or name) for a model trained on several.
            quantiles: levels in (0, 1) to return instead of the point forecast: a model trained with
                ``quantiles=`` returns its own quantiles at these levels (they must be among the levels it was
                trained with: it does not interpolate between them, an error lists them); a ``gaussian=True``
                model returns ``mean + std * Phi^-1(level)`` for any level. A point forecaster refuses.
            future: a model with future-known covariates (``num_future``) needs their values for each of its
                ``horizon`` steps (the model's, even when fewer are asked), in the data's units: an array
                ``(horizon, num_future)`` in the order of ``preprocessing.future_columns`` (``(horizon,)`` for
                one), or a pandas DataFrame with those columns; calendar features (``preprocessing.calendar``)
                missing from a DataFrame are computed from its DatetimeIndex, and a ``DatetimeIndex`` alone is
                enough when all future covariates are calendar features. A list of them for a list of histories.
                A model without future covariates refuses it.

        Returns numpy ``(horizon,)`` for one target series, ``(horizon, targets)`` otherwise (a leading ``N``
        axis for a list of histories); for a ``gaussian=True`` model a tuple ``(mean, std)`` of such arrays; a
        quantile model's median (its 0.5 level, or interpolated between the two nearest). With ``quantiles``: one
        array with a last axis of the levels in the order given, ``(horizon, Q)`` / ``(horizon, targets, Q)``.
        A dated history (a DataFrame or Series with dates) gets the same numbers as pandas objects indexed by the
        forecast dates: a Series named after the target, or a DataFrame (targets, or ``target_q0.1`` ... levels).
        """
        scaler = self.require_preprocessing("forecast()")
        levels = self._check_requested_levels(quantiles)
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise PreprocessingError(f"horizon={horizon}: this model predicts 1 to {self.horizon} steps at once "
                                     f"(direct multi-step); retrain with a longer horizon for more")
        index = scaler.series_index(series)
        table = read_history(history, scaler, self.config["input_size"])  # a DataFrame's columns by name
        histories = as_sequences(table.values, self.config["input_size"], "history")
        need = scaler.input_length
        for i, h in enumerate(histories):
            if len(h) < need:
                name = "history" if len(histories) == 1 else f"history[{i}]"
                raise PreprocessingError(f"{name} has {len(h)} steps; {self.architecture!r} reads windows of "
                                         f"{need} (its training input_length): pass at least {need} steps")
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is the error below
            windows = np.stack([scaler.encode(h[-need:], index) for h in histories])  # (N, L, F)
        if not np.isfinite(windows).all():
            raise PreprocessingError(
                f"the history's values, scaled by the training range's statistics (mean {scaler.mean[index]}, std "
                f"{scaler.std[index]}), overflow float32: they are far outside anything the model was trained "
                f"on; check the units (the model forecasts the series it was trained on)")
        single = is_one_sequence(table.values, paths=False)
        dates = forecast_dates(table, scaler, self.horizon) if single else None  # the model's whole horizon
        futures = self._encode_future(future, scaler, index, len(histories), dates)  # (N, H, num_future) or None
        with self.inference() as weight:
            ids = torch.full((len(windows),), index, dtype=torch.long, device=weight.device)
            extra = {"series": ids} if self.normalization == "es" else {}
            if futures is not None:
                extra["future"] = torch.from_numpy(futures).to(device=weight.device, dtype=weight.dtype)
            out = self(torch.from_numpy(windows).to(device=weight.device, dtype=weight.dtype), **extra)
        dates = None if dates is None else dates[:horizon]  # dated history in, dated forecast out
        names = target_names(scaler, self.output_size)

        def shape(a, levels=None):  # (N, H, targets[, Q]) -> (H[, targets][, Q]), with N dropped for one history
            if self.output_size == 1:
                a = a[:, :, 0]
            a = a[0] if single else a
            return a if dates is None else dated(a, dates, names, levels)

        if levels is not None:
            if self.quantiles:
                picked = out[..., [self._level_index(t) for t in levels]]  # (N, H_model, F, Q)
            else:
                mean, std = out
                picked = gaussian_quantiles(mean, std, torch.tensor(levels, device=mean.device))
            picked = picked[:, :horizon].float().cpu().numpy().swapaxes(-1, -2)  # (N, H, Q, F): decode reads F last
            return shape(scaler.decode(picked, index, features=self.output_size).swapaxes(-1, -2), levels)
        if self.quantiles:
            out = median_of(out, self.quantiles)  # (N, H_model, F)
        mean, std = out if isinstance(out, tuple) else (out, None)
        mean = scaler.decode(mean[:, :horizon].float().cpu().numpy(), index, features=self.output_size)
        std = None if std is None else scaler.decode_scale(std[:, :horizon].float().cpu().numpy(), index,
                                                           features=self.output_size)
        return (shape(mean), shape(std)) if std is not None else shape(mean)

    def _encode_future(self, future: Any, scaler: SeriesScaler, index: int, count: int,
                       dates: Any = None) -> np.ndarray | None:
        """``forecast(future=...)`` -> scaled ``(count, horizon, num_future)``, or an error naming the columns and
        rows it needs. ``dates`` (the horizon's, from a dated history) date a future table that has none, and are
        the whole future when every future column is a calendar feature."""
        if not self.num_future:
            if future is not None:
                raise PreprocessingError(f"future=: {self.architecture!r} reads no future-known covariates "
                                         f"(trained without num_future); leave future out")
            return None
        names = list(scaler.future_columns or [f"future{k}" for k in range(self.num_future)])
        need = f"{self.horizon} rows (the model's horizon) of the columns {names}"
        if future is None and dates is not None and names == scaler.calendar_columns:
            future = dates  # a calendar-only model: the horizon's dates are all it needs
        if future is None:
            raise PreprocessingError(f"{self.architecture!r} reads future-known covariates: pass future= with "
                                     f"{need}, in the data's units" + (
                                         f" (the calendar columns {scaler.calendar_columns} can come from a "
                                         f"DatetimeIndex of the horizon's dates)" if scaler.calendar else ""))
        if count == 1:
            items = [future]
        elif isinstance(future, (list, tuple)) or (hasattr(future, "shape") and len(future.shape) == 3):
            items = list(future)
        else:
            items = [future]
        if len(items) != count:
            raise PreprocessingError(f"future= holds {len(items)} set(s) of horizon covariates for {count} "
                                     f"histories; give one ({need}) per history")
        out = []
        for i, item in enumerate(items):
            what = "future" if count == 1 else f"future[{i}]"
            values = self._future_table(item, names, scaler, what, dates)
            values = as_sequence(values, self.num_future, what)
            if len(values) != self.horizon:
                raise PreprocessingError(f"{what} has {len(values)} rows; {self.architecture!r} needs {need} "
                                         f"(all of them even when fewer steps are asked)")
            out.append(scaler.encode_future(values, index))
        return np.stack(out)

    def _future_table(self, item: Any, names: list[str], scaler: SeriesScaler, what: str, dates: Any = None) -> Any:
        """A DataFrame or DatetimeIndex of future covariates -> ``(rows, num_future)`` in column order; arrays pass
        through (their shape is checked by the caller). A table without dates takes ``dates`` when it has one row
        per date."""
        import sys

        pd = sys.modules.get("pandas")
        if pd is None or not isinstance(item, (pd.DataFrame, pd.Series, pd.DatetimeIndex)):
            return item
        if not isinstance(item, pd.DatetimeIndex) and not isinstance(item.index, pd.DatetimeIndex) \
                and dates is not None and len(item) == len(dates):
            item = item.set_axis(dates)
        calendar = scaler.calendar_columns
        if isinstance(item, pd.DatetimeIndex):
            item = pd.DataFrame(index=item)
        elif isinstance(item, pd.Series):
            item = item.to_frame()
        frame = item.copy()
        missing_calendar = [c for c in calendar if c not in frame.columns]
        if missing_calendar:
            if not isinstance(frame.index, pd.DatetimeIndex):
                raise PreprocessingError(f"{what} lacks the calendar columns {missing_calendar} and has no "
                                         f"DatetimeIndex to compute them from; index it by the horizon's dates")
            from rnnzoo.data.timeseries.calendar import calendar_columns, calendar_features

            cycles = scaler.calendar["cycles"]
            frame[calendar_columns(cycles)] = calendar_features(frame.index, cycles)
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise PreprocessingError(f"{what} has no column(s) {missing} (it has {list(item.columns)}); the model "
                                     f"needs {self.horizon} rows of {names}")
        return frame[names].to_numpy()

    def _check_requested_levels(self, quantiles: Sequence[float] | None) -> list[float] | None:
        """``forecast(quantiles=...)``'s levels, checked against what this model can give."""
        if quantiles is None:
            return None
        try:
            levels = check_levels(quantiles)
        except ValueError as err:
            raise PreprocessingError(str(err)) from None
        if not (self.gaussian or self.quantiles):
            raise PreprocessingError(
                f"quantiles={levels}: {self.architecture!r} is a point forecaster (trained on squared error), it "
                f"has no distribution to take quantiles of. Train one with quantiles=[...] (pinball loss) or "
                f"gaussian=True")
        if self.quantiles:
            missing = [t for t in levels if self._level_index(t) is None]
            if missing:
                raise PreprocessingError(
                    f"quantiles={levels}: this model was trained for the levels {self.quantiles} and does not "
                    f"interpolate between them ({missing} not among them); ask for some of those, or train with "
                    f"quantiles={sorted(set(self.quantiles) | set(levels))}")
        return levels

    def _level_index(self, level: float) -> int | None:
        """The position of ``level`` among the trained quantile levels (to 1e-9), or None."""
        for k, t in enumerate(self.quantiles or ()):
            if abs(t - level) < 1e-9:
                return k
        return None

    def predict_from_files(self, inputs, options):
        """One series file (CSV/Parquet, or .npy) -> a CSV table of the forecast, dated when the file has dates.

        A table's columns are read by the names the model was trained on (``--column`` names them in the model's
        order instead); its dates come from the training time column when the file has it."""
        if len(inputs) != 1:
            raise PreprocessingError(f"give one series file (CSV, Parquet or .npy), got {len(inputs)} inputs")
        path = inputs[0]
        if not Path(path).is_file():
            raise PreprocessingError(f"{path}: no such file; give the series as a CSV, Parquet or .npy file")
        future_path = getattr(options, "future", None)
        if future_path is not None and not self.num_future:
            raise PreprocessingError(f"--future {future_path}: {self.architecture!r} reads no future-known "
                                     f"covariates (trained without them); leave --future out")
        if options.out and not Path(options.out).expanduser().resolve().parent.is_dir():
            raise PreprocessingError(f"--out {options.out}: the folder {Path(options.out).parent} does not exist; "
                                     f"create it first, or write elsewhere")
        history = load_array(path) if path.lower().endswith(".npy") else self._read_history_table(path, options.column)
        series = int(options.series) if str(options.series).isdigit() else options.series
        future = self._read_future(future_path, getattr(options, "future_time_column", None))
        levels = getattr(options, "quantiles", None)
        out = self.forecast(history, options.horizon, series=series, quantiles=levels, future=future)
        mean, std = out if isinstance(out, tuple) else (out, None)
        dates = getattr(mean, "index", None)
        mean = np.asarray(mean).reshape(len(mean), -1)  # (H, targets) or (H, targets * Q), levels last
        names = target_names(self.require_preprocessing("forecast()"), self.output_size)
        if levels:  # the quantile columns: every target's levels in the order asked
            names = [f"{n}_q{level:g}" for n in names for level in levels]
        return write_or_return(forecast_csv(mean, dates, names, std), options.out)

    def _read_future(self, path: str | None, time_column: str | None) -> Any:
        """``rnnzoo predict --future FILE``: the horizon's future-known covariates as a DataFrame (indexed by
        ``time_column``'s dates when given, so calendar features can be computed), or None."""
        if path is None:
            return None
        import pandas as pd

        from rnnzoo.data.timeseries.read_table import read_table

        frame = read_table(path, "a CSV or Parquet table of the horizon's future-known covariates")
        if time_column is not None:
            if time_column not in frame.columns:
                raise PreprocessingError(f"--future-time-column {time_column!r} is not a column of {path} (it has "
                                         f"{list(frame.columns)})")
            frame = frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame.pop(time_column))))
        return frame

    def _read_history_table(self, path: str, columns: list[str] | None) -> Any:
        """A CSV/Parquet history file, read as :func:`~rnnzoo.tasks.forecaster.tables.read_history_file` reads
        it for this model."""
        from rnnzoo.tasks.forecaster.tables import read_history_file

        return read_history_file(path, columns, self.require_preprocessing("forecast()"), self.config["input_size"])
