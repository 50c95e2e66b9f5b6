"""Real series shipped inside the statsmodels wheel (no download): monthly Mauna Loa CO2 and yearly sunspots."""

from __future__ import annotations

import numpy as np

# name -> (description, season length used for MASE's seasonal naive forecast)
BUILTIN_SERIES = {
    "co2": ("Mauna Loa atmospheric CO2 (ppm), monthly means of statsmodels' weekly data, 1958-03..2001-12", 12),
    "sunspots": ("Yearly sunspot activity (Wolf number), 1700-2008, from statsmodels", 11),
}


def load_builtin_series(name: str) -> np.ndarray:
    """A built-in series as a float32 ``(T, 1)`` array, chronological."""
    try:
        import statsmodels.api as sm
    except ImportError as err:  # statsmodels is a dependency; say what to do if it was removed
        raise ImportError("built-in series need statsmodels: pip install statsmodels") from err
    if name == "co2":
        weekly = sm.datasets.co2.load_pandas().data["co2"]
        # 59 of 2284 weeks are missing: monthly means skip them; forward-fill the rare month with none
        # (statsmodels' own examples do the same).
        values = weekly.resample("MS").mean().ffill().to_numpy()
    elif name == "sunspots":
        values = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    else:
        raise ValueError(f"unknown built-in series {name!r}; choose one of {sorted(BUILTIN_SERIES)}")
    return values.astype(np.float32).reshape(-1, 1)
