"""Classical forecasters fitted on the training range of the same series and scored on the same test windows as
the networks: ETS (additive trend and season, statsmodels' state-space form) and a seasonal ARIMA (the "airline"
model, ARIMA(0,1,1)(0,1,1)_m), plus the seasonal naive forecast computed from the raw series."""

from __future__ import annotations

import warnings

import numpy as np


def test_origins(length: int, proportions, input_length: int, horizon: int, stride: int) -> list[int]:
    """Forecast origins of the test windows, as :class:`~rnnzoo.data.TimeSeriesDataModule` cuts them: a window
    whose targets are ``values[o : o + horizon]`` has origin ``o`` (the number of values observed)."""
    from rnnzoo.data.splits import chronological_split

    _, _, test = chronological_split(length, proportions)
    # The DataModule's test segment starts input_length before the test range; its window i covers inputs
    # segment[i*stride : i*stride + input_length], so its first target is at test.start + i*stride.
    return [o for o in range(test.start, test.stop - horizon + 1, stride)]


def _score(forecasts: np.ndarray, truths: np.ndarray, mase_scale: float) -> dict[str, float]:
    err = np.abs(forecasts - truths)
    return {"mae": float(err.mean()), "rmse": float(np.sqrt((err ** 2).mean())), "mase": float((err / mase_scale).mean())}


def statistical_baselines(values: np.ndarray, proportions, input_length: int, horizon: int, stride: int,
                          season: int) -> dict[str, dict[str, float]]:
    """MAE, RMSE and MASE on the test windows for seasonal naive, ETS and seasonal ARIMA.

    The models' parameters are estimated on the training range only; for each test window they are kept fixed
    and the model is run over the values observed up to the window's origin (``results.apply``), then forecasts
    ``horizon`` steps, as the networks do from their input window. MASE uses the training range's seasonal naive
    MAE, as the DataModule does.
    """
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from rnnzoo.data.splits import chronological_split
    from rnnzoo.data.timeseries.windows import seasonal_naive_mae

    y = np.asarray(values, dtype=np.float64).reshape(-1)
    train, _, _ = chronological_split(len(y), proportions)
    scale = float(seasonal_naive_mae(y[train].reshape(-1, 1).astype(np.float32), season)[0])
    origins = test_origins(len(y), proportions, input_length, horizon, stride)
    truths = np.stack([y[o:o + horizon] for o in origins])
    steps = np.arange(horizon)
    naive = np.stack([y[o - season + (steps % season)] for o in origins])
    out = {f"seasonal naive (m={season})": _score(naive, truths, scale)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimisers; the scores speak for the fit
        models = {
            "ETS (A,A,A)": ExponentialSmoothing(y[train], trend=True, seasonal=season),
            f"SARIMA(0,1,1)(0,1,1){season}": SARIMAX(y[train], order=(0, 1, 1),
                                                     seasonal_order=(0, 1, 1, season)),
        }
        for name, model in models.items():
            fitted = model.fit(disp=False)
            forecasts = np.stack([fitted.apply(y[:o]).forecast(horizon) for o in origins])
            out[name] = _score(forecasts, truths, scale)
    return out
