"""Does a series drift? The rule that turns on ``drift=True`` of the seasonal-difference forecaster.

A series drifts when its seasonal differences ``d_t = y_t - y_{t-m}`` over the training range have a mean of at
least half their standard deviation: the seasonal random walk then misses a steady change from one season to the
next (CO2's yearly rise, airline passengers' growth, an index such as the CPI). On the forecasting suite's
training ranges the ratio is 0.9-1.9 for those four trending series (co2, airpassengers, realgdp, cpi) and at
most 0.3 in absolute value for the nine others, so the threshold 0.5 lies in a wide gap.
"""

from __future__ import annotations

import numpy as np

#: |mean(d)| / std(d) from which a series is treated as drifting
DRIFT_THRESHOLD = 0.5


def trend_strength(values: np.ndarray, season: int) -> float:
    """``mean(d) / std(d)`` of the seasonal differences of ``values`` (T,) or (T, K) (first target column);
    0 when the differences do not vary."""
    values = np.asarray(values, dtype=np.float64)
    values = values[:, 0] if values.ndim == 2 else values
    if season < 1 or len(values) <= season + 1:
        raise ValueError(f"trend_strength needs more than season + 1 = {season + 1} values, got {len(values)}")
    d = values[season:] - values[:-season]
    d = d[np.isfinite(d)]
    spread = float(np.std(d)) if len(d) else 0.0
    return float(np.mean(d)) / spread if spread > 0 else 0.0


def drifts(values: np.ndarray, season: int, threshold: float = DRIFT_THRESHOLD) -> bool:
    """True when the training values' seasonal differences have ``|mean| >= threshold * std`` (see above)."""
    return abs(trend_strength(values, season)) >= threshold
