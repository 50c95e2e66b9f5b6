"""Parameter matching: the hidden size per cell that gives every cell the same parameter budget.

A fair comparison of cells holds the parameter count fixed, not the hidden size (Chung et al. 2014, Table 1:
about 20k parameters each on music, i.e. LSTM 36, GRU 46, tanh RNN 100 units in their counting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from rnnzoo.tasks import task_model_class
from rnnzoo.tasks.layers import CELLS


@dataclass(frozen=True)
class MatchedSizes:
    """Hidden sizes that put each cell's model within ``tolerance`` of ``budget`` parameters."""

    task: str
    budget: int
    tolerance: float
    hidden_sizes: dict[str, int]  # cell -> hidden size
    num_params: dict[str, int]  # cell -> exact parameter count of the whole task model

    def relative_error(self, cell: str) -> float:
        """(count - budget) / budget for one cell."""
        return self.num_params[cell] / self.budget - 1.0

    def table(self) -> str:
        """A small text table: cell, hidden size, parameters, deviation from the budget."""
        rows = [f"{'cell':<15}{'hidden':>7}{'params':>10}{'vs budget':>11}"]
        for cell, size in self.hidden_sizes.items():
            rows.append(f"{cell:<15}{size:>7}{self.num_params[cell]:>10}{self.relative_error(cell):>+10.2%}")
        return "\n".join(rows)


def count_parameters(task_config: dict[str, Any], cell: str, hidden_size: int) -> int:
    """Exact parameter count of the task model ``task_config`` with this cell and hidden size.

    Built on the meta device: shapes without storage or initialisation, so a 1M-parameter count is instant.
    """
    config = {k: v for k, v in task_config.items() if k != "task"}
    config.update(cell=cell, hidden_size=hidden_size)
    with torch.device("meta"):
        return task_model_class(task_config["task"])(**config).num_parameters


def match_hidden_sizes(
    task_config: dict[str, Any],
    budget: int,
    *,
    cells: tuple[str, ...] = tuple(CELLS),
    tolerance: float = 0.02,
) -> MatchedSizes:
    """Pick each cell's hidden size so that its task model has ``budget`` parameters within ``tolerance``.

    Args:
        task_config: ``{"task": "piano_roll" | "sequence_classifier" | "language_model" | "forecaster", ...}``
            plus the task model's other init arguments (``cell`` and ``hidden_size`` are chosen here).
        budget: target number of parameters of the whole model (layer + head + embedding).
        cells: which cells to size.
        tolerance: largest accepted |count / budget - 1|.

    Returns:
        :class:`MatchedSizes` with, per cell, the hidden size whose exact count is nearest the budget.

    Raises:
        ValueError: when no integer hidden size lands within the tolerance (a budget too small for the head,
            or so small that one unit more or less jumps past it).
    """
    if "task" not in task_config:
        raise ValueError("task_config needs a 'task' key: piano_roll, sequence_classifier, language_model, forecaster")
    sizes, counts = {}, {}
    for cell in cells:
        # Every task model's count is a quadratic a*h^2 + b*h + c in the hidden size (h x h recurrent matrices,
        # h-wide input matrices, biases and heads, constants), so three small builds give it exactly.
        n1, n2, n3 = (count_parameters(task_config, cell, h) for h in (1, 2, 3))
        a2 = n3 - 2 * n2 + n1  # = 2a
        a, b = a2 / 2, (n2 - n1) - 3 * a2 / 2
        c = n1 - a - b
        quadratic = lambda h: round(a * h * h + b * h + c)  # noqa: E731
        if quadratic(4) != count_parameters(task_config, cell, 4):
            raise RuntimeError(f"parameter count of {task_config['task']} is not quadratic in hidden_size")
        root = (-b + math.sqrt(b * b - 4 * a * (c - budget))) / (2 * a) if a else (budget - c) / b
        candidates = [h for h in (math.floor(root), math.ceil(root)) if h >= 1] or [1]
        best = min(candidates, key=lambda h: abs(quadratic(h) - budget))
        count = count_parameters(task_config, cell, best)  # the real model, not the fit, is what we report
        if abs(count / budget - 1) > tolerance:
            raise ValueError(
                f"no hidden size puts a {cell} {task_config['task']} within {tolerance:.0%} of {budget} parameters "
                f"(nearest: hidden_size={best} with {count}); raise the budget or the tolerance"
            )
        sizes[cell], counts[cell] = best, count
    return MatchedSizes(task_config["task"], budget, tolerance, sizes, counts)
