"""Bar and line charts of the numbers the inspectors compute: gate statistics and gradient-versus-lag curves.

Built on matplotlib's Agg canvas directly (no pyplot, no display).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def plot_gate_statistics(stats: Mapping[str, Any], path: str | os.PathLike, title: str = "") -> Path:
    """Two bar panels per layer/direction of a :func:`~rnnzoo.inspect.gate_statistics` result: the mean
    activation and the saturated fraction (split into the low and high ends) of every gate and state."""
    slots = stats["slots"]
    fig = Figure(figsize=(10, 3.2 * len(slots)), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(slots), 2, squeeze=False)
    for row, (slot, gates) in enumerate(slots.items()):
        names = list(gates)
        x = np.arange(len(names))
        means = [gates[n]["mean"] for n in names]
        axes[row, 0].bar(x, means, color="tab:blue")
        axes[row, 0].axhline(0, color="black", lw=0.6)
        axes[row, 0].set_title(f"{slot}: mean activation", fontsize=9)
        low = [gates[n]["low"] or 0.0 for n in names]
        high = [gates[n]["high"] or 0.0 for n in names]
        axes[row, 1].bar(x, low, color="tab:purple", label="low end (< 0.1; tanh: < -0.9)")
        axes[row, 1].bar(x, high, bottom=low, color="tab:orange", label="high end (> 0.9)")
        # Scaled to the data (at least 0..0.05): a few percent of saturation must still show as a bar.
        axes[row, 1].set_ylim(0, min(1.0, max(0.05, 1.2 * max(l + h for l, h in zip(low, high)))))
        axes[row, 1].set_title(f"{slot}: saturated fraction (c: not defined)", fontsize=9)
        for ax in axes[row]:
            ax.set_xticks(x, names, fontsize=8)
        if row == 0:
            axes[row, 1].legend(fontsize=7, loc="upper right")
    fig.suptitle(title or f"gate statistics over {stats['steps']} steps of {stats['sequences']} sequences",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_gradient_lag(curves: Mapping[str, Mapping[str, Any]], path: str | os.PathLike, title: str = "",
                      relative: bool = True) -> Path:
    """Semi-log plot of :func:`~rnnzoo.inspect.gradient_vs_lag` curves, one line per label (e.g. per cell).

    ``relative=True`` divides each curve by its lag-0 value, so cells with different input scales compare by
    how fast they forget rather than by how large their Jacobian is.
    """
    fig = Figure(figsize=(7, 4.2), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    key = "relative" if relative else "norm"
    styles = ["-", "--", ":", "-."]  # identical curves (an LSTM and a peephole LSTM at init) stay visible
    for index, (label, curve) in enumerate(curves.items()):
        points = [(k, v) for k, v in zip(curve["lag"], curve[key]) if v is not None and v > 0]
        if points:
            ax.semilogy(*zip(*points), marker="o", ms=3, lw=1.4, ls=styles[index % 4], label=label)
    ax.set_xlabel("lag k (steps)")
    ax.set_ylabel("||∂h_t/∂x_{t-k}|| / lag 0" if relative else "||∂h_t/∂x_{t-k}||")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "gradient versus lag", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
