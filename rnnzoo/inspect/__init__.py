"""Look inside recurrent task models: gate heatmaps, gate statistics over a split, gradient versus lag.

Works on any task model, zoo architecture name (built untrained) or ``rnnzoo.load`` uri. Plots are PNGs drawn
on matplotlib's Agg canvas (no display); the numbers behind them are plain dicts, written as JSON by
:func:`inspect_model`.
"""

from rnnzoo.inspect.charts import plot_gate_statistics, plot_gradient_lag
from rnnzoo.inspect.gate_kinds import gate_kind
from rnnzoo.inspect.gate_stats import gate_statistics
from rnnzoo.inspect.gradient_lag import gradient_vs_lag
from rnnzoo.inspect.heatmaps import HeatmapFigure, plot_gate_heatmaps
from rnnzoo.inspect.report import inspect_model
from rnnzoo.inspect.resolve import resolve_model
from rnnzoo.inspect.samples import sample_input
from rnnzoo.inspect.trace import GateTrace, gate_trace

__all__ = [
    "GateTrace", "HeatmapFigure", "gate_kind", "gate_statistics", "gate_trace", "gradient_vs_lag",
    "inspect_model", "plot_gate_heatmaps", "plot_gate_statistics", "plot_gradient_lag", "resolve_model",
    "sample_input",
]
