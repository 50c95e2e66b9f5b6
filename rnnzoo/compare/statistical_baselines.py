"""Statistical forecasters scored on the same validation and test windows as the networks, in the same units: the
naive forecast (the last value), the random walk with drift, the seasonal naive forecast where a season is found
(STL seasonal strength above 0.64), and three models with automatic model selection from statsforecast — AutoETS
(Hyndman et al. 2002: error, trend, damping and season chosen by AICc), AutoARIMA (Hyndman & Khandakar 2008: the
stepwise search of R's ``auto.arima``) and AutoTheta (Fiorucci et al. 2016: standard/optimised/dynamic Theta) — and
the median of those three forecasts, the M-competition style combination.

Every model is **refitted at every forecast origin** on everything observed up to it, model selection included, as
a forecaster in production would be (``reselect_every`` > 1 searches the form only at every that many origins and
re-estimates its parameters between; statsforecast's C++ cores: ~0.5 s for a seasonal AutoARIMA on 300 monthly
values, ~0.25 s AutoETS, ~0.02 s AutoTheta; statsmodels' SARIMAX search took ~10 s per origin). Per-window errors are
kept, in the DataModule's window order, so a verdict can compare a network with a baseline window by window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnzoo.baselines.auto_models import AUTO_MODELS, FALLBACK, MEDIAN, fit_and_forecast, fit_origins

__all__ = ["AUTO_MODELS", "FALLBACK", "MEDIAN", "SPLITS", "fit_and_forecast", "seasonal_strength",
           "split_origins", "statistical_baselines"]

#: the splits every baseline is scored on: validation (where the verdict chooses) and test (where it reports)
SPLITS = ("val", "test")
SEASON_THRESHOLD = 0.64  # the STL seasonal strength above which a season counts (Hyndman's nsdiffs)


def split_origins(length: int, proportions, horizon: int, stride: int, split: str = "test") -> list[int]:
    """Forecast origins of the ``split`` ("val" or "test") windows, as :class:`~rnnzoo.data.TimeSeriesDataModule`
    cuts them: a window whose targets are ``values[o : o + horizon]`` has origin ``o`` (values observed)."""
    from rnnzoo.data.splits import chronological_split

    _, val, test = chronological_split(length, proportions)
    part = {"val": val, "test": test}[split]
    # The DataModule's segment starts input_length before the range; its window i covers inputs
    # segment[i*stride : i*stride + input_length], so its first target is at part.start + i*stride.
    return [o for o in range(part.start, part.stop - horizon + 1, stride)]


#: a longer series' seasonal strength is measured on its last this many steps (robust STL costs ~0.2 ms a step on
#: a loaded 2-core machine: ~4 s here, ~25 minutes for a 7-million-step training range); every packaged series
#: (at most a few hundred steps) is far shorter, so measured whole as before
SEASONAL_STRENGTH_STEPS = 20_000


def seasonal_strength(y: np.ndarray, season: int) -> float:
    """STL seasonal strength ``max(0, 1 - var(R) / var(S + R))`` of ``y`` at period ``season``; 0 without two
    full seasons. A ``y`` longer than :data:`SEASONAL_STRENGTH_STEPS` (and than three seasons) is measured on its
    most recent that many steps (or three seasons), the part that says most about the season to forecast."""
    if season < 2 or len(y) < 2 * season + 1:
        return 0.0
    from statsmodels.tsa.seasonal import STL

    y = y[-max(SEASONAL_STRENGTH_STEPS, 3 * season):]
    fit = STL(np.asarray(y, dtype=np.float64), period=season, robust=True).fit()
    return float(max(0.0, 1.0 - np.var(fit.resid) / max(np.var(fit.seasonal + fit.resid), 1e-12)))


def _fit_all(jobs: list[tuple], workers: int) -> list:
    """:func:`fit_origins` over ``jobs``, in order; in ``workers`` spawned processes when there are enough
    jobs to pay for starting them (a fork of a process that ran torch's thread pools can hang)."""
    if workers <= 1 or len(jobs) < 8 * workers:
        return [fit_origins(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fit_origins, jobs, chunksize=max(1, len(jobs) // (4 * workers))))


def _fitted_in_order(arrays: list[np.ndarray], targets: int, proportions, horizon: int, stride: int, season: int,
                     levels: np.ndarray | None, workers: int, reselect_every: int) -> list:
    """Every automatic model's forecast at every origin, in the order :func:`statistical_baselines` reads them
    (split, series, target, origin, model). Each model's origins are fitted in blocks of ``reselect_every``
    consecutive origins, selected at a block's first (:func:`fit_origins`); blocks are independent jobs, so they
    run in parallel with ``workers``."""
    keys, jobs = [], []
    for split in SPLITS:
        for i, values in enumerate(arrays):
            origins = split_origins(len(values), proportions, horizon, stride, split)
            for k in range(targets):
                for name in AUTO_MODELS:
                    for start in range(0, len(origins), reselect_every):
                        keys.append((split, i, k, name))
                        jobs.append((name, values[:, k], origins[start:start + reselect_every], season, horizon,
                                     levels))
    per_model: dict[tuple, list] = {}
    for key, forecasts in zip(keys, _fit_all(jobs, workers)):
        per_model.setdefault(key, []).extend(forecasts)
    return [per_model[(split, i, k, name)][w] for split in SPLITS for i, values in enumerate(arrays)
            for k in range(targets)
            for w in range(len(split_origins(len(values), proportions, horizon, stride, split)))
            for name in AUTO_MODELS]


def statistical_baselines(series: np.ndarray | Sequence[np.ndarray], proportions, input_length: int, horizon: int,
                          stride: int, season: int, *, num_targets: int | None = None,
                          classical: bool = True,
                          quantiles: Sequence[float] | None = None,
                          seasonal_naive: bool | None = None, workers: int = 1,
                          reselect_every: int = 1) -> dict[str, dict[str, Any]]:
    """Per method: ``{"scores": {mae, rmse, mase}, "items": {"mae" | "mase": {"num", "den"}}}`` on the test
    windows, ``"val_scores"`` / ``"val_items"`` alike on the validation windows, and for the automatic models
    ``"chosen"``: how often each model was selected over the test origins (``{"ETS(A,A,N)": 40, ...}``, per series).

    ``series``: one ``(T,)``/``(T, F)`` array or a list of them (raw units; the first ``num_targets`` columns are
    forecast, each univariately, covariates are not used). Items are the windows in the DataModule's order
    (series by series, origins ascending), each summing over its horizon and targets, so they pair with a
    network's per-window errors. MASE divides by each series' training-range seasonal naive MAE, as the
    DataModule does. ``classical=False`` scores the simple forecasts only (no model fitting). ``seasonal_naive``:
    None (default) includes the seasonal naive forecast where a season is found; True/False always/never (the
    forecasting suite ranks it on every series, a fixed protocol).

    ``quantiles``: levels in (0, 1) at which the automatic models and their median also forecast quantiles (the
    models' normal forecast distributions), scored as the networks' are: ``scores["pinball"]`` (mean pinball loss
    over levels), ``scores["coverage"]`` (truths inside the lowest..highest level) and ``items["pinball"]``. The
    naive, drift and seasonal naive forecasts have no distribution and get none.

    At an origin whose history is too short for a model (statsforecast refuses a handful of values), that model
    forecasts the naive forecast there; ``"fallbacks"`` counts such origins.

    ``workers`` > 1 fits the origins in that many spawned processes (``compare --jobs``); the forecasts are the
    same, in the same order.

    ``reselect_every``: each automatic model searches its form (ARIMA orders, ETS components, Theta variant) at
    every this many consecutive origins of a split, and re-estimates that form's parameters at the origins between
    (one search and a cheap refit instead of a search at each origin; ``compare --reselect-every``). 1 (default):
    a full search at every origin.
    """
    if not isinstance(reselect_every, int) or reselect_every < 1:
        raise ValueError(f"reselect_every={reselect_every!r}: give a whole number of origins, 1 or more")
    from rnnzoo.data.splits import chronological_split
    from rnnzoo.data.timeseries.windows import seasonal_naive_mae

    arrays = [series] if isinstance(series, np.ndarray) else list(series)
    arrays = [np.asarray(a, dtype=np.float64).reshape(len(a), -1) for a in arrays]
    targets = num_targets or arrays[0].shape[1]
    # The seasonal naive forecast only where a season is found in the training data (STL seasonal strength above
    # Hyndman's 0.64): elsewhere it is a strawman beside the naive forecast.
    strength = {k: seasonal_strength(a[:chronological_split(len(a), proportions)[0].stop, 0], season)
                for k, a in enumerate(arrays)}
    seasonal = (season > 1 and max(strength.values()) > SEASON_THRESHOLD) if seasonal_naive is None else seasonal_naive
    simple = ["naive", "drift", *([f"seasonal naive (m={season})"] if seasonal else [])]
    fitted = [*AUTO_MODELS, MEDIAN] if classical else []
    names = [*simple, *fitted]
    levels = None if quantiles is None else np.asarray(sorted(quantiles), dtype=np.float64)
    scores = _Scores(names, fitted, levels)
    steps = np.arange(horizon)
    # Every fit of every split and series listed first, in the order the loop below reads them: one pool of
    # workers for all of them
    fitted_forecasts = iter(_fitted_in_order(arrays, targets, proportions, horizon, stride, season, levels, workers,
                                             reselect_every) if fitted else [])
    for split in SPLITS:
        for values in arrays:
            train, _, _ = chronological_split(len(values), proportions)
            origins = split_origins(len(values), proportions, horizon, stride, split)
            scale = seasonal_naive_mae(values[train].astype(np.float32), season)[:targets].astype(np.float64)
            truths = np.stack([values[o:o + horizon, :targets] for o in origins])  # (W, H, targets)
            point = _simple_forecasts(values, origins, steps, targets, season, input_length, seasonal)
            bands = _read_fitted(fitted_forecasts, point, scores, len(origins), horizon, targets, levels,
                                 split) if fitted else {}
            scores.add(split, point, bands, truths, scale)
    out = scores.summary()
    if seasonal:
        out[f"seasonal naive (m={season})"]["season_strength"] = [strength[k] for k in sorted(strength)]
    return out


def _simple_forecasts(values: np.ndarray, origins: Sequence[int], steps: np.ndarray, targets: int, season: int,
                      input_length: int, seasonal: bool) -> dict[str, np.ndarray]:
    """The naive, drift and (when ``seasonal``) seasonal naive forecasts ``(W, H, targets)`` at ``origins``."""
    horizon = len(steps)
    last = np.stack([values[o - 1, :targets] for o in origins])  # (W, targets)
    point = {"naive": np.repeat(last[:, None], horizon, axis=1)}
    # random walk with drift: the mean step of everything observed up to the origin, carried on
    slope = np.stack([(values[o - 1, :targets] - values[0, :targets]) / max(o - 1, 1) for o in origins])
    point["drift"] = last[:, None] + (steps[None, :, None] + 1) * slope[:, None]
    if seasonal:
        lag = season if season <= input_length else 1
        point[f"seasonal naive (m={season})"] = np.stack([values[o - lag + (steps % lag), :targets] for o in origins])
    return point


def _read_fitted(fitted_forecasts: Any, point: dict[str, np.ndarray], scores: "_Scores", windows: int,
                 horizon: int, targets: int, levels: np.ndarray | None, split: str) -> dict[str, np.ndarray]:
    """Take this series' automatic-model forecasts from ``fitted_forecasts`` (in the order the jobs were listed:
    target, window, model) into ``point`` (and their quantile bands, returned), with their median; counts the
    models chosen on test and the fallbacks in ``scores``."""
    bands = {}
    for name in AUTO_MODELS:
        point[name] = np.zeros((windows, horizon, targets))
        if levels is not None:
            bands[name] = np.zeros((windows, horizon, targets, len(levels)))
        if split == "test":
            scores.chosen[name].append(Counter())
    for k in range(targets):
        for w in range(windows):
            for name in AUTO_MODELS:
                mean, q, model = next(fitted_forecasts)
                point[name][w, :, k] = mean
                if levels is not None:
                    bands[name][w, :, k] = q
                scores.fallbacks[name] += model == FALLBACK
                if split == "test":
                    scores.chosen[name][-1][model] += 1
    point[MEDIAN] = np.median(np.stack([point[n] for n in AUTO_MODELS]), axis=0)
    if levels is not None:
        bands[MEDIAN] = np.median(np.stack([bands[n] for n in AUTO_MODELS]), axis=0)
    return bands


class _Scores:
    """Per split and method, the windows' errors (absolute, and scaled for MASE) and, for the fitted models with
    quantiles, pinball losses and interval hits; then the summary :func:`statistical_baselines` returns."""

    def __init__(self, names: list[str], fitted: list[str], levels: np.ndarray | None):
        self.names, self.levels = names, levels
        self.errors = {split: {n: [] for n in names} for split in SPLITS}  # per window: (H, targets)
        self.scaled = {split: {n: [] for n in names} for split in SPLITS}
        self.pinball = {split: {n: [] for n in fitted} for split in SPLITS}  # per window: (H, targets, Q)
        self.inside = {split: {n: [] for n in fitted} for split in SPLITS}
        self.chosen: dict[str, list[Counter]] = {n: [] for n in AUTO_MODELS}
        self.fallbacks: dict[str, int] = dict.fromkeys(AUTO_MODELS, 0)

    def add(self, split: str, point: dict[str, np.ndarray], bands: dict[str, np.ndarray], truths: np.ndarray,
            scale: np.ndarray) -> None:
        """Score one series' forecasts at one split's origins."""
        levels = self.levels
        for name in self.names:
            err = np.abs(point[name] - truths)
            self.errors[split][name] += list(err)
            self.scaled[split][name] += list(err / scale)
            if name in bands:
                q = np.sort(bands[name], axis=-1)  # a median of quantile sets stays ordered; sorting is a guard
                diff = truths[..., None] - q
                self.pinball[split][name] += list(np.maximum(levels * diff, (levels - 1) * diff))
                self.inside[split][name] += list((q[..., 0] <= truths) & (truths <= q[..., -1]))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per method: scores and per-window items on test (and ``val_`` alike), with the chosen models."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.names:
            out[name] = {}
            for split in SPLITS:
                prefix = "" if split == "test" else "val_"
                err, sc = np.stack(self.errors[split][name]), np.stack(self.scaled[split][name])  # (W, H, targets)
                count = [float(err[0].size)] * len(err)
                out[name][f"{prefix}scores"] = {"mae": float(err.mean()),
                                                "rmse": float(np.sqrt((err ** 2).mean())), "mase": float(sc.mean())}
                out[name][f"{prefix}items"] = {"mae": {"num": err.sum((1, 2)).tolist(), "den": count},
                                               "mase": {"num": sc.sum((1, 2)).tolist(), "den": count}}
                if self.pinball[split].get(name):
                    loss = np.stack(self.pinball[split][name])  # (W, H, targets, Q)
                    out[name][f"{prefix}scores"].update(pinball=float(loss.mean()),
                                                        coverage=float(np.mean(self.inside[split][name])))
                    out[name][f"{prefix}items"]["pinball"] = {"num": loss.sum((1, 2, 3)).tolist(),
                                                              "den": [float(loss[0].size)] * len(loss)}
            if name in self.chosen:
                out[name]["chosen"] = [dict(c.most_common()) for c in self.chosen[name]]
                out[name]["fallbacks"] = self.fallbacks[name]
        return out
