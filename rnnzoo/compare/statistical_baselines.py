"""Statistical forecasters fitted on the training range of each series and scored on the same validation and test
windows as the networks, in the same units: the naive forecast (the last value), the random walk with drift, the
seasonal naive forecast where a season is found (STL seasonal strength above 0.64), ETS (additive trend and season, statsmodels' state-space
form), an automatic ARIMA (a stepwise AIC search in the manner of Hyndman & Khandakar 2008, on statsmodels'
SARIMAX) and, for seasonal data, the "airline" seasonal ARIMA(0,1,1)(0,1,1)_m.

Each model's parameters are estimated on the training range only; for every test window they are kept fixed and
the model is run over the values observed up to the window's origin (``results.apply``), then forecasts
``horizon`` steps, as the networks do from their input window. Per-window errors are kept, in the DataModule's
window order, so a verdict can compare a network with a baseline window by window.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def split_origins(length: int, proportions, horizon: int, stride: int, split: str = "test") -> list[int]:
    """Forecast origins of the ``split`` ("val" or "test") windows, as :class:`~rnnzoo.data.TimeSeriesDataModule`
    cuts them: a window whose targets are ``values[o : o + horizon]`` has origin ``o`` (values observed)."""
    from rnnzoo.data.splits import chronological_split

    _, val, test = chronological_split(length, proportions)
    part = {"val": val, "test": test}[split]
    # The DataModule's segment starts input_length before the range; its window i covers inputs
    # segment[i*stride : i*stride + input_length], so its first target is at part.start + i*stride.
    return [o for o in range(part.start, part.stop - horizon + 1, stride)]


#: the splits every baseline is scored on: validation (where the verdict chooses) and test (where it reports)
SPLITS = ("val", "test")


SEASON_THRESHOLD = 0.64  # the STL seasonal strength above which a season counts (Hyndman's nsdiffs)


def seasonal_strength(y: np.ndarray, season: int) -> float:
    """STL seasonal strength ``max(0, 1 - var(R) / var(S + R))`` of ``y`` at period ``season``; 0 without two
    full seasons."""
    if season < 2 or len(y) < 2 * season + 1:
        return 0.0
    from statsmodels.tsa.seasonal import STL

    fit = STL(np.asarray(y, dtype=np.float64), period=season, robust=True).fit()
    return float(max(0.0, 1.0 - np.var(fit.resid) / max(np.var(fit.seasonal + fit.resid), 1e-12)))


def seasonal_differences(y: np.ndarray, season: int) -> int:
    """0 or 1 seasonal difference: 1 when the seasonal strength exceeds :data:`SEASON_THRESHOLD` (with at least
    two full seasons)."""
    return int(seasonal_strength(y, season) > SEASON_THRESHOLD)


def differences(y: np.ndarray, max_d: int = 2) -> int:
    """Number of first differences (0..``max_d``) after which KPSS no longer rejects level stationarity at 5%."""
    from statsmodels.tsa.stattools import kpss

    for d in range(max_d + 1):
        series = np.diff(y, n=d) if d else y
        if len(series) < 10:
            return d
        if np.ptp(series) == 0:
            return d  # constant: nothing left to difference (and KPSS's lag rule divides by zero)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # KPSS warns when its p-value is off its table (outside 1%..10%)
            p_value = kpss(series, regression="c", nlags="auto")[1]
        if p_value >= 0.05:
            return d
    return max_d


def auto_arima(y: np.ndarray, season: int, max_fits: int = 20):
    """A fitted SARIMAX chosen by a stepwise AIC search: ``D`` from seasonal strength, ``d`` from KPSS, then
    (p, q, P, Q) from Hyndman & Khandakar's four starting models, moving one order by ±1 (or p and q together;
    p, q <= 5, P, Q <= 1) while the AIC falls, at most ``max_fits`` fits. Returns ``(results, order,
    seasonal_order)``."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal = season if season > 1 else 0
    D = seasonal_differences(y, season) if seasonal else 0
    d = differences(np.asarray(y[season:] - y[:-season]) if D else y)
    trend = "c" if d + D == 0 else None
    tried: dict[tuple[int, int, int, int], tuple[float, Any]] = {}

    def fit(p: int, q: int, P: int, Q: int) -> float:
        key = (p, q, P, Q)
        if key not in tried and len(tried) < max_fits:
            try:
                # simple_differencing: the differences are taken before the Kalman filter, whose state then
                # holds the ARMA part only (a seasonal model's state shrinks from ~40 to ~15 dimensions: ~5x faster)
                result = SARIMAX(y, order=(p, d, q), seasonal_order=(P, D, Q, seasonal) if seasonal else (0, 0, 0, 0),
                                 trend=trend, simple_differencing=True).fit(disp=False)
                tried[key] = (float(result.aic) if np.isfinite(result.aic) else np.inf, result)
            except (ValueError, np.linalg.LinAlgError):
                tried[key] = (np.inf, None)
        return tried.get(key, (np.inf, None))[0]

    starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)] if seasonal else \
        [(2, 2, 0, 0), (0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0)]
    best = min(starts, key=lambda k: fit(*k))
    improved = True
    while improved and len(tried) < max_fits:
        improved = False
        p, q, P, Q = best
        steps = [(1, 0, 0, 0), (-1, 0, 0, 0), (0, 1, 0, 0), (0, -1, 0, 0), (1, 1, 0, 0), (-1, -1, 0, 0)]
        if seasonal:
            steps += [(0, 0, 1, 0), (0, 0, -1, 0), (0, 0, 0, 1), (0, 0, 0, -1)]
        for dp, dq, dP, dQ in steps:
            cand = (p + dp, q + dq, P + dP, Q + dQ)
            if min(cand) < 0 or cand[0] > 5 or cand[1] > 5 or cand[2] > 1 or cand[3] > 1:
                continue
            if fit(*cand) < fit(*best):
                best, improved = cand, True
    p, q, P, Q = best
    order, seasonal_order = (p, d, q), (P, D, Q, seasonal) if seasonal else (0, 0, 0, 0)
    # The search's models forecast differences; the chosen one is fitted again on the levels (from the searched
    # parameters), so that it forecasts the series itself.
    final = SARIMAX(y, order=order, seasonal_order=seasonal_order, trend=trend).fit(
        start_params=tried[best][1].params, disp=False)
    return final, order, seasonal_order


def _methods(season: int) -> dict[str, Callable[[np.ndarray], Any]]:
    """name -> fit(train values) returning a statsmodels results object (``apply`` and ``forecast``)."""
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    methods = {
        "ETS (A,A,A)" if season > 1 else "ETS (A,A,N)":
            lambda y: ExponentialSmoothing(y, trend=True, seasonal=season if season > 1 else None).fit(disp=False),
        "AutoARIMA (stepwise AIC)": lambda y: auto_arima(y, season)[0],
    }
    if season > 1:
        methods[f"SARIMA(0,1,1)(0,1,1){season}"] = lambda y: SARIMAX(
            y, order=(0, 1, 1), seasonal_order=(0, 1, 1, season)).fit(disp=False)
    return methods


def statistical_baselines(series: np.ndarray | Sequence[np.ndarray], proportions, input_length: int, horizon: int,
                          stride: int, season: int, *, num_targets: int | None = None,
                          classical: bool = True,
                          quantiles: Sequence[float] | None = None,
                          seasonal_naive: bool | None = None) -> dict[str, dict[str, Any]]:
    """Per method: ``{"scores": {mae, rmse, mase}, "items": {"mae" | "mase": {"num", "den"}}, "orders": ...}`` on
    the test windows, and ``"val_scores"`` / ``"val_items"`` alike on the validation windows (the parameters are
    estimated once, on the training range, for both).

    ``series``: one ``(T,)``/``(T, F)`` array or a list of them (raw units; the first ``num_targets`` columns are
    forecast, each univariately, covariates are not used). Items are the test windows in the DataModule's order
    (series by series, origins ascending), each summing over its horizon and targets, so they pair with a
    network's per-window errors. MASE divides by each series' training-range seasonal naive MAE, as the
    DataModule does. ``classical=False`` scores the simple forecasts only. ``seasonal_naive``: None (default)
    includes the seasonal naive forecast where a season is found; True/False always/never (the forecasting suite
    ranks it on every series, a fixed protocol).

    ``quantiles``: levels in (0, 1) at which ETS and the ARIMAs also forecast quantiles, from their Gaussian
    forecast distributions (``mean + se * Phi^-1(level)``, statsmodels' ``get_forecast``), scored as the networks'
    are: ``scores["pinball"]`` (mean pinball loss over levels), ``scores["coverage"]`` (truths inside the lowest..
    highest level) and ``items["pinball"]``. The seasonal naive forecast has no distribution and gets none.
    """
    from rnnzoo.data.splits import chronological_split
    from rnnzoo.data.timeseries.windows import seasonal_naive_mae

    arrays = [series] if isinstance(series, np.ndarray) else list(series)
    arrays = [np.asarray(a, dtype=np.float64).reshape(len(a), -1) for a in arrays]
    targets = num_targets or arrays[0].shape[1]
    # The seasonal naive forecast only where a season is found in the training data (STL seasonal strength above
    # Hyndman's 0.64, as seasonal_differences decides): elsewhere it is a strawman beside the naive forecast.
    strength = {k: seasonal_strength(a[:chronological_split(len(a), proportions)[0].stop, 0], season)
                for k, a in enumerate(arrays)}
    seasonal = (season > 1 and max(strength.values()) > SEASON_THRESHOLD) if seasonal_naive is None else seasonal_naive
    simple = ["naive", "drift", *([f"seasonal naive (m={season})"] if seasonal else [])]
    names = [*simple, *(_methods(season) if classical else {})]
    # split -> method -> per window: (H, targets) absolute errors, scaled errors, (H, targets, Q) pinball losses
    errors = {split: {n: [] for n in names} for split in SPLITS}
    scaled = {split: {n: [] for n in names} for split in SPLITS}
    pinball = {split: {n: [] for n in names[len(simple):]} for split in SPLITS}  # models with a distribution
    inside = {split: {n: [] for n in names[len(simple):]} for split in SPLITS}
    orders: dict[str, list] = {n: [] for n in names}
    fits: dict[tuple, Any] = {}
    levels = None if quantiles is None else np.asarray(sorted(quantiles), dtype=np.float64)
    steps = np.arange(horizon)
    for split in SPLITS:
        for values in arrays:
            train, _, _ = chronological_split(len(values), proportions)
            origins = split_origins(len(values), proportions, horizon, stride, split)
            scale = seasonal_naive_mae(values[train].astype(np.float32), season)[:targets].astype(np.float64)
            per_method = {n: np.zeros((len(origins), horizon, targets)) for n in names}
            spread = {n: np.zeros((len(origins), horizon, targets)) for n in names}  # forecast standard errors
            truths = np.stack([values[o:o + horizon, :targets] for o in origins])  # (W, H, targets)
            last = np.stack([values[o - 1, :targets] for o in origins])  # (W, targets)
            per_method["naive"] = np.repeat(last[:, None], horizon, axis=1)
            # random walk with drift: the mean step of everything observed up to the origin, carried on
            slope = np.stack([(values[o - 1, :targets] - values[0, :targets]) / max(o - 1, 1) for o in origins])
            per_method["drift"] = last[:, None] + (steps[None, :, None] + 1) * slope[:, None]
            if seasonal:
                lag = season if season <= input_length else 1
                per_method[f"seasonal naive (m={season})"] = np.stack(
                    [values[o - lag + (steps % lag), :targets] for o in origins])
            for k in range(targets):
                y = values[:, k]
                for name, fit in (_methods(season) if classical else {}).items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # optimiser chatter; the scores speak for the fit
                        fitted = fits.get((id(values), k, name)) or fit(y[train])  # once per series, both splits
                        fits[(id(values), k, name)] = fitted
                        for w, o in enumerate(origins):
                            forecast = fitted.apply(y[:o]).get_forecast(horizon)
                            per_method[name][w, :, k] = np.asarray(forecast.predicted_mean)
                            spread[name][w, :, k] = np.asarray(forecast.se_mean)
                    if split == "test":
                        orders[name].append(getattr(fitted.model, "order", None) and
                                            [list(fitted.model.order), list(fitted.model.seasonal_order)])
            for name in names:
                err = np.abs(per_method[name] - truths)
                errors[split][name] += list(err)
                scaled[split][name] += list(err / scale)
                if levels is not None and name in pinball[split]:
                    from scipy.stats import norm

                    q = per_method[name][..., None] + spread[name][..., None] * norm.ppf(levels)  # (W, H, targets, Q)
                    diff = truths[..., None] - q
                    pinball[split][name] += list(np.maximum(levels * diff, (levels - 1) * diff))
                    inside[split][name] += list((q[..., 0] <= truths) & (truths <= q[..., -1]))
    out = {}
    for name in names:
        out[name] = {}
        for split in SPLITS:
            prefix = "" if split == "test" else "val_"
            err, sc = np.stack(errors[split][name]), np.stack(scaled[split][name])  # (W, H, targets)
            count = [float(err[0].size)] * len(err)
            out[name][f"{prefix}scores"] = {"mae": float(err.mean()), "rmse": float(np.sqrt((err ** 2).mean())),
                                            "mase": float(sc.mean())}
            out[name][f"{prefix}items"] = {"mae": {"num": err.sum((1, 2)).tolist(), "den": count},
                                           "mase": {"num": sc.sum((1, 2)).tolist(), "den": count}}
            if pinball[split].get(name):
                loss = np.stack(pinball[split][name])  # (W, H, targets, Q)
                out[name][f"{prefix}scores"].update(pinball=float(loss.mean()),
                                                    coverage=float(np.mean(inside[split][name])))
                out[name][f"{prefix}items"]["pinball"] = {"num": loss.sum((1, 2, 3)).tolist(),
                                                          "den": [float(loss[0].size)] * len(loss)}
        if any(orders[name]):
            out[name]["orders"] = orders[name]
    if seasonal:
        out[f"seasonal naive (m={season})"]["season_strength"] = [strength[k] for k in sorted(strength)]
    return out
