"""statsforecast's automatic models, fitted on one history and forecasting from its end: AutoETS (Hyndman et al.
2002: error, trend, damping and season chosen by AICc), AutoARIMA (Hyndman & Khandakar 2008: the stepwise search of
R's ``auto.arima``) and AutoTheta (Fiorucci et al. 2016: standard/optimised/dynamic Theta), and the median of the
three. A comparison refits them at every forecast origin (:mod:`rnnzoo.compare.statistical_baselines`); a saved
baseline refits them on the history it is given (:mod:`rnnzoo.baselines.forecast`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

#: the statistical models with automatic model selection
AUTO_MODELS = ("AutoETS", "AutoARIMA", "AutoTheta")
#: the median of the AUTO_MODELS' forecasts (and of their quantiles)
MEDIAN = "statistical median"
#: what a model that could not be fitted forecasts instead (and is recorded as)
FALLBACK = "naive (history too short)"


def auto_model(name: str, season: int, length: int):
    """A new statsforecast model ``name`` (one of :data:`AUTO_MODELS`) for a history of ``length`` values.

    AutoARIMA searches with the conditional-sum-of-squares approximation where R's ``auto.arima`` does (more than
    150 values or a season above 12), then fits the chosen model by maximum likelihood."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    m = max(int(season), 1)
    if name == "AutoARIMA":
        return AutoARIMA(season_length=m, approximation=length > 150 or m > 12)
    return {"AutoETS": AutoETS, "AutoTheta": AutoTheta}[name](season_length=m)


def model_form(name: str, model: Any) -> dict[str, Any] | None:
    """The form a fitted automatic model ``name`` selected, which :func:`fixed_model` refits without searching:
    ARIMA's orders and constant terms, ETS's error/trend/season/damping, Theta's variant (and decomposition)."""
    fitted = getattr(model, "model_", None) or {}
    if name == "AutoARIMA" and "arma" in fitted:
        p, q, big_p, big_q, _, d, big_d = (int(v) for v in fitted["arma"])
        coef = fitted.get("coef") or {}
        return {"order": (p, d, q), "seasonal_order": (big_p, big_d, big_q), "include_mean": "intercept" in coef,
                "include_drift": "drift" in coef}
    if name == "AutoETS" and "components" in fitted:
        error, trend, season, damped = fitted["components"][:4]
        return {"model": error + trend + season, "damped": damped == "D"}
    if name == "AutoTheta" and "modeltype" in fitted:
        return {"model": str(fitted["modeltype"]), "decomposition_type": model.decomposition_type}
    return None


def fixed_model(name: str, form: dict[str, Any], season: int):
    """A new statsforecast model of the automatic model ``name``'s selected ``form`` (:func:`model_form`): its
    parameters are estimated on the next history, its form is not searched again."""
    from statsforecast.models import ARIMA, AutoETS, AutoTheta

    m = max(int(season), 1)
    if name == "AutoARIMA":
        return ARIMA(season_length=m, **form)
    return {"AutoETS": AutoETS, "AutoTheta": AutoTheta}[name](season_length=m, **form)


def describe(model: Any) -> str:
    """The model a fitted statsforecast model selected, e.g. ``ARIMA(1,1,1)(0,1,1)[12]`` or ``ETS(M,Ad,A)``."""
    fitted = getattr(model, "model_", None) or {}
    if "arma" in fitted:
        from statsforecast.arima import arima_string

        return arima_string(fitted).strip()
    if "method" in fitted:
        return str(fitted["method"])
    if "modeltype" in fitted:  # AutoTheta: STM/OTM/DSTM/DOTM (standard/optimised, dynamic)
        return f"Theta {fitted['modeltype']}"
    return type(model).__name__


def _interval_level(q: float) -> int | float:
    """The two-sided interval level (percent) whose end is quantile ``q``: an int where it is whole, as
    statsforecast names its columns by it (``lo-80``, ``hi-97.5``)."""
    level = round(abs(2 * float(q) - 1) * 100, 6)
    return int(level) if level.is_integer() else level


def _quantile_levels(levels: np.ndarray) -> list[int | float]:
    """statsforecast's two-sided interval levels (percent) that hold the quantiles ``levels``."""
    return sorted({_interval_level(q) for q in levels if q != 0.5})


def _quantiles_from(forecast: dict[str, np.ndarray], levels: np.ndarray) -> np.ndarray:
    """(H, Q) quantiles from a statsforecast forecast with ``lo-L``/``hi-L`` intervals: level q < 0.5 is the
    lower end of the ``(1 - 2q)`` interval, q > 0.5 the upper end of the ``(2q - 1)`` one, 0.5 the point forecast
    (the models' forecast distributions are normal, so their median is their mean)."""
    columns = []
    for q in levels:
        if q == 0.5:
            columns.append(forecast["mean"])
            continue
        key = f"{'lo' if q < 0.5 else 'hi'}-{_interval_level(q)}"
        columns.append(forecast[key])
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=-1)


def fit_and_forecast(name: str, history: np.ndarray, season: int, horizon: int,
                     levels: np.ndarray | None = None,
                     form: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Fit the automatic model ``name`` on ``history`` (model selection included; with ``form``, the form an
    earlier selection chose, :func:`model_form`, with its parameters re-estimated) and forecast ``horizon`` steps:
    ``(point (H,), quantiles (H, Q) at levels or None, the model chosen)``."""
    point, quantiles, model = _fit(name, history, season, horizon, levels, form)
    return point, quantiles, describe(model)


def _fit(name: str, history: np.ndarray, season: int, horizon: int, levels: np.ndarray | None,
         form: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray | None, Any]:
    model = auto_model(name, season, len(history)) if form is None else fixed_model(name, form, season)
    intervals = _quantile_levels(levels) if levels is not None else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optimiser chatter; the scores speak for the fit
        model.fit(np.asarray(history, dtype=np.float64))
        forecast = model.predict(h=horizon, level=intervals) if intervals else model.predict(h=horizon)
    point = np.asarray(forecast["mean"], dtype=np.float64)
    quantiles = _quantiles_from(forecast, levels) if levels is not None else None
    return point, quantiles, model


#: what statsforecast raises for a history it cannot fit (too short, constant ...)
FIT_ERRORS = (NotImplementedError, ValueError, np.linalg.LinAlgError, ZeroDivisionError)


def _naive(history: np.ndarray, horizon: int, levels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, str]:
    mean = np.full(horizon, float(history[-1]))
    return mean, None if levels is None else np.repeat(mean[:, None], len(levels), axis=1), FALLBACK


def fit_or_fall_back(job: tuple) -> tuple[np.ndarray, np.ndarray | None, str]:
    """:func:`fit_and_forecast` on one ``(name, history, season, horizon, levels)``, or the naive forecast (as a
    point mass) where statsforecast refuses the history as too short."""
    name, history, season, horizon, levels = job
    try:
        return fit_and_forecast(name, history, season, horizon, levels)
    except FIT_ERRORS:
        return _naive(history, horizon, levels)


def fit_origins(job: tuple) -> list[tuple[np.ndarray, np.ndarray | None, str]]:
    """Forecasts of the automatic model ``name`` from each origin of one ``(name, values, origins, season,
    horizon, levels)`` job, each fitted on ``values[:origin]``: the model is selected at the first origin and its
    form kept for the others, whose parameters are re-estimated on their own history (a form that no longer
    fits, or a first origin too short for any, is searched again at the next origin). One origin per job is
    selection at every origin. Where nothing fits, the naive forecast, as :func:`fit_or_fall_back`."""
    name, values, origins, season, horizon, levels = job
    out, form = [], None
    for origin in origins:
        history = values[:origin]
        try:
            point, quantiles, model = _fit(name, history, season, horizon, levels, form)
        except FIT_ERRORS:
            if form is None:
                out.append(_naive(history, horizon, levels))
                continue
            form = None  # the kept form does not fit this history: search again
            try:
                point, quantiles, model = _fit(name, history, season, horizon, levels, None)
            except FIT_ERRORS:
                out.append(_naive(history, horizon, levels))
                continue
        if form is None:
            form = model_form(name, model)
        out.append((point, quantiles, describe(model)))
    return out
