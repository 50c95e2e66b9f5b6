"""A forecaster's task config for an option that only forecasters take (``--quantiles``, ``--normalization``,
``--ensemble``), and the config a normalization needs from the data (its season, its drift)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.compare.errors import CompareOptionError


def forecaster_config(family: str | None, task_config: dict[str, Any] | None, budget: int | str | None,
                       option: str) -> tuple[dict[str, Any], int | str | None]:
    """The family's (or the given) task config and budget, which must be a forecaster's for ``option``."""
    from rnnzoo.families import FAMILIES

    if family is not None:
        task, config, family_budget, _, _ = FAMILIES[family]
        task_config, budget = {"task": task, **config}, budget or family_budget
    if not task_config or task_config.get("task") != "forecaster":
        raise CompareOptionError(f"{option} is for forecasting data (co2, sunspots, a CSV of series); these models are "
                         f"{(task_config or {}).get('task', family)!r}")
    return task_config, budget


#: the models' name prefix for each normalisation chosen with ``normalization=`` (the zoo's family names)
NORMALIZATION_PREFIX = {"es": "esrnn-", "seasonal_difference": "sdiff-", "last_value": "", "none": "absolute-"}


def with_normalization(family: str | None, task_config: dict[str, Any] | None, budget: int | str | None,
                        normalization: str, dm: Any) -> tuple[dict[str, Any], int | str]:
    """The forecasters' task config with ``normalization`` and what it needs from the data ``dm`` (set up)."""
    from rnnzoo.compare.trend import drifts
    from rnnzoo.data.errors import DataError
    from rnnzoo.data.splits import chronological_split
    from rnnzoo.tasks.forecaster.model import NORMALIZATIONS

    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization={normalization!r}: choose one of {', '.join(NORMALIZATIONS)}")
    task_config, budget = forecaster_config(family, task_config, budget, f"normalization={normalization!r}")
    config = {k: v for k, v in task_config.items() if k not in ("season", "num_series", "drift")}
    config["normalization"] = normalization
    season = int(getattr(dm, "season", 1) or 1)
    series = list(getattr(dm, "series_values", []))
    if normalization == "es":
        low = min((float(np.nanmin(np.asarray(v, dtype=float)[:, 0] if np.ndim(v) == 2 else v)) for v in series),
                  default=1.0)
        if low <= 0:
            raise DataError(f"normalization='es' is multiplicative and the series has values <= 0 (minimum "
                             f"{low:g}): use normalization='seasonal_difference' or 'last_value' (additive), or "
                             f"shift the series to positive values")
        config.update(season=season, num_series=len(series) or 1)
    elif normalization == "seasonal_difference":
        length = int(getattr(dm, "input_length", season + 2))
        if length < season + 2:
            raise DataError(f"normalization='seasonal_difference' differences the window by its season ({season}), "
                            f"so windows of {length} steps leave too few: use --input-length of at least "
                            f"{season + 2} (better two seasons, {2 * season}), or a shorter --season")
        trains = [v[chronological_split(len(v), dm.proportions)[0]] for v in series]
        votes = [drifts(v, season) for v in trains if len(v) > season + 1]
        config["season"] = season
        if votes and sum(votes) * 2 >= len(votes):  # most series drift
            config["drift"] = True
    return config, budget
