"""Heatmaps of every gate and state over time (units x steps) for one sequence, the input drawn above.

One PNG per layer/direction. Figures are built on matplotlib's Agg canvas directly (no pyplot): no display,
no global figure state, and the pixel size is exactly ``figure_size_px``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from rnnzoo.inspect.gate_kinds import gate_kind
from rnnzoo.inspect.input_panel import draw_input
from rnnzoo.inspect.resolve import model_label
from rnnzoo.inspect.trace import GateTrace, gate_trace
from rnnzoo.tasks.base import TaskModel

WIDTH_IN, INPUT_ROW_IN, GATE_ROW_IN, MARGIN_IN, DPI = 10.0, 1.6, 1.25, 0.9, 100
CMAPS = {"sigmoid": ("viridis", 0.0, 1.0), "tanh": ("RdBu_r", -1.0, 1.0)}


def figure_size_px(num_gates: int) -> tuple[int, int]:
    """(width, height) in pixels of a heatmap PNG with ``num_gates`` gate rows under the input row."""
    height_in = MARGIN_IN + INPUT_ROW_IN + GATE_ROW_IN * num_gates
    return round(WIDTH_IN * DPI), round(height_in * DPI)


@dataclass
class HeatmapFigure:
    """A written heatmap PNG: its path, its slot, and each panel's pixel box ``(left, top, right, bottom)``
    in the PNG (origin top-left), so a caller or a test can look at exactly the pixels of one panel."""

    path: Path
    slot: str
    boxes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)


def _slug(text: str) -> str:
    return text.replace(" ", "_")


def plot_trace(model: TaskModel, sequence: Tensor, trace: GateTrace, slot_index: int, path: str | os.PathLike,
               title: str | None = None) -> HeatmapFigure:
    """Write the heatmap PNG of one layer/direction of ``trace`` (a trace of the single sequence ``sequence``).

    Sigmoid gates share a 0..1 colour scale, tanh-valued quantities -1..1, and the unbounded cell state a
    symmetric scale at its largest |value|, so colours compare across cells and models.
    """
    names = list(trace.gates)
    length = int(trace.lengths[0])
    width_px, height_px = figure_size_px(len(names))
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ratios = [INPUT_ROW_IN] + [GATE_ROW_IN] * len(names)
    # A narrow second column holds every colour bar, so all panels get the same width and steps line up.
    grid = fig.add_gridspec(len(names) + 1, 2, width_ratios=[60, 1], height_ratios=ratios,
                            left=0.08, right=0.94, top=1 - 0.45 / (height_px / DPI),
                            bottom=0.45 / (height_px / DPI), hspace=0.35, wspace=0.02)
    nonlinearity = getattr(model.rnn, "nonlinearity", "tanh")
    axes = {"input": fig.add_subplot(grid[0, 0])}
    image = draw_input(axes["input"], model, sequence[:length])
    colorbar_axis = fig.add_subplot(grid[0, 1])
    if image is not None:
        fig.colorbar(image, cax=colorbar_axis)
    else:
        colorbar_axis.axis("off")
    for row, name in enumerate(names, start=1):
        ax = fig.add_subplot(grid[row, 0], sharex=axes["input"])
        values = trace.gates[name][slot_index, 0, :length].numpy().T  # (H, T): units down, steps across
        kind = gate_kind(name, nonlinearity)
        if kind in CMAPS:
            cmap, vmin, vmax = CMAPS[kind]
        else:
            bound = float(np.abs(values).max()) or 1.0
            cmap, vmin, vmax = "PuOr_r", -bound, bound
        image = ax.imshow(values, aspect="auto", origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                          interpolation="nearest")
        fig.colorbar(image, cax=fig.add_subplot(grid[row, 1]))
        ax.set_ylabel(f"{name}\nunit", fontsize=8)
        axes[name] = ax
    for ax in list(axes.values())[:-1]:
        ax.tick_params(labelbottom=False)
    axes[names[-1]].set_xlabel("step")
    fig.suptitle(title or f"{model_label(model)} — {trace.slots[slot_index]}", fontsize=10)
    fig.canvas.draw()
    boxes = {}
    for name, ax in axes.items():
        box = ax.get_window_extent()  # display pixels, origin bottom-left
        boxes[name] = (int(np.ceil(box.x0)), int(np.ceil(height_px - box.y1)),
                       int(np.floor(box.x1)), int(np.floor(height_px - box.y0)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return HeatmapFigure(path, trace.slots[slot_index], boxes)


def plot_gate_heatmaps(model: TaskModel, sequence: Tensor, out_dir: str | os.PathLike, *,
                       prefix: str = "gates", title: str | None = None) -> list[HeatmapFigure]:
    """Trace one sequence through ``model`` and write one heatmap PNG per layer/direction into ``out_dir``.

    Args:
        model: a task model in eval mode.
        sequence: one model input without a batch dimension: ``(T, F)`` roll/features/window or ``(T,)`` ids.
        out_dir: folder for ``{prefix}_{slot}.png`` (``gates_layer_0.png``, ``gates_layer_0_reverse.png``, ...).
        prefix: file name prefix.
        title: figure title (default: model name and slot); the slot is appended when there are several.
    """
    trace = gate_trace(model, sequence.unsqueeze(0))
    figures = []
    for index, slot in enumerate(trace.slots):
        slot_title = None if title is None else (title if len(trace.slots) == 1 else f"{title} — {slot}")
        figures.append(plot_trace(model, sequence, trace, index, Path(out_dir) / f"{prefix}_{_slug(slot)}.png",
                                  slot_title))
    return figures
