"""Forecasting: a window of a series -> its next ``horizon`` steps, in the series' own units."""

from rnnzoo.tasks.forecaster.ensemble import ForecastEnsemble
from rnnzoo.tasks.forecaster.model import Forecaster
from rnnzoo.tasks.forecaster.objective import ForecastingObjective
from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler

__all__ = ["ForecastEnsemble", "Forecaster", "ForecastingObjective", "SeriesScaler"]
