"""Validation curves against epochs and against wall-clock seconds, one line per cell, mean over seeds
(Chung et al. 2014, Figures 2-3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnzoo.compare.single_run import RunResult


def mean_curve(runs: list[RunResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs, mean seconds and mean metric per epoch over ``runs``; an epoch counts the seeds that reached it
    (early stopping ends seeds at different epochs), so the tail of a line may average fewer seeds.

    Seconds are the running sum of each epoch's mean duration, so the time axis never runs backwards when the
    seeds that stopped early (the faster or slower ones) drop out of the mean.
    """
    longest = max(len(r.curve["epoch"]) for r in runs)
    seconds = np.full((len(runs), longest), np.nan)
    values = np.full((len(runs), longest), np.nan)
    for i, r in enumerate(runs):
        n = len(r.curve["epoch"])
        seconds[i, :n], values[i, :n] = r.curve["seconds"], r.curve["value"]
    durations = np.diff(seconds, axis=1, prepend=0.0)
    return np.arange(1, longest + 1), np.cumsum(np.nanmean(durations, axis=0)), np.nanmean(values, axis=0)


def plot_curves(runs: list[RunResult], monitor: str, path: str | Path, title: str = "",
                nominal_coverage: float | None = None) -> Path:
    """Write the two-panel PNG to ``path`` (matplotlib's Agg backend: no display needed); runs that recorded
    ``val/pinball`` and ``val/coverage`` get a second row with those (``nominal_coverage``: a dashed line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_cell: dict[str, list[RunResult]] = {}
    for r in runs:
        by_cell.setdefault(r.cell, []).append(r)
    extra = [name for name in ("val/pinball", "val/coverage") if all(name in r.curve for r in runs)]
    if extra:  # probabilistic forecasters: a second row, the pinball loss and the interval coverage per epoch
        fig, axes = plt.subplots(2, 2, figsize=(11, 8.4))
        (ax_epoch, ax_time), lower = axes
        ax_time.sharey(ax_epoch)
    else:
        fig, (ax_epoch, ax_time) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    shown = []
    for cell, rs in by_cell.items():
        epochs, seconds, values = mean_curve(rs)
        shown.append(values)
        label = f"{cell} ({rs[0].num_params:,} params, {len(rs)} seeds)"
        ax_epoch.plot(epochs, values, label=label)
        ax_time.plot(seconds, values, label=label)
    ax_epoch.set_xlabel("epoch")
    ax_time.set_xlabel("wall-clock seconds (training + validation)")
    ax_epoch.set_ylabel(f"validation {monitor}")
    for ax in (ax_epoch, ax_time):
        ax.grid(alpha=0.3)
    ax_epoch.legend(fontsize=8)
    # The first epochs of a slow starter (often the tanh RNN) would squash the region where cells differ:
    # show from the best value to the 90th percentile of the worse side of all plotted values.
    every = np.concatenate(shown)
    if runs[0].mode == "max":
        low, high = np.nanpercentile(every, 10), np.nanmax(every)
    else:
        low, high = np.nanmin(every), np.nanpercentile(every, 90)
    if high > low:
        pad = 0.05 * (high - low)
        ax_epoch.set_ylim(low - pad, high + pad)
    for ax, name in zip(lower if extra else (), extra):
        for cell, rs in by_cell.items():
            longest = max(len(r.curve[name]) for r in rs)
            values = np.full((len(rs), longest), np.nan)
            for i, r in enumerate(rs):
                values[i, :len(r.curve[name])] = r.curve[name]
            ax.plot(np.arange(1, longest + 1), np.nanmean(values, axis=0), label=cell)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"validation {name.removeprefix('val/')}")
        if name == "val/coverage" and nominal_coverage is not None:
            ax.axhline(nominal_coverage, color="k", linestyle="--", linewidth=0.8, label="nominal")
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
