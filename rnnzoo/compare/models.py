"""Which model each cell trains: a registered parameter-matched family, or a task config sized to a budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnzoo.families import CELL_NAMES as CELLS


@dataclass(frozen=True)
class CellModel:
    """One cell's model in a comparison: what ``TrainingModule(model=...)`` gets, and its size."""

    cell: str
    model: str | dict[str, Any]  # a zoo name ("pianoroll-gru-20k") or a task config with "task"
    name: str  # a readable label for tables and run names
    hidden_size: int
    num_params: int


def normalise_cell(cell: str) -> str:
    """``"peephole-lstm"`` and ``"peephole_lstm"`` both name the peephole LSTM (zoo names use hyphens)."""
    key = cell.strip().lower().replace("-", "_")
    if key == "tanh":
        key = "rnn"
    if key not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    return key


def budget_label(budget: int) -> str:
    """20000 -> "20k", 1000000 -> "1m", 4600000 -> "4600k", as in the zoo's names (which have no '.')."""
    if budget >= 1_000_000 and budget % 1_000_000 == 0:
        return f"{budget // 1_000_000}m"
    if budget % 1000 == 0:
        return f"{budget // 1000}k"
    return str(budget)


def parse_budget(text: str | int) -> int:
    """"20k" -> 20000, "1.5m" -> 1500000, "300000" -> 300000."""
    if isinstance(text, int):
        return text
    s = str(text).strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    try:
        value = int(round(float(s[:-1] if scale > 1 else s) * scale))
    except ValueError:
        raise ValueError(f"budget {text!r} is not a parameter count; write it like 20000, 20k or 1.5m") from None
    if value < 1:
        raise ValueError(f"budget {text!r} must be a positive parameter count (e.g. 20k)")
    return value


def resolve_models(family: str | None = None, task_config: dict[str, Any] | None = None,
                   budget: int | str | None = None, cells: tuple[str, ...] = tuple(CELLS),
                   tolerance: float = 0.02) -> list[CellModel]:
    """The model of every cell, parameter-matched.

    Args:
        family: a registered family (``"pianoroll"``, ``"forecaster"`` ...): the zoo's registered models when
            ``budget`` is None or the family's; another budget sizes the family's task config at that budget
            (models that are not registered zoo names, e.g. ``piano_roll-gru-300k``).
        task_config: ``{"task": ..., **init_args}`` when no family fits the data (e.g. 12 input features); hidden
            sizes come from :func:`rnnzoo.models.match_hidden_sizes` at ``budget``.
        cells: which cells, any spelling :func:`normalise_cell` takes.
    """
    cells = tuple(normalise_cell(c) for c in cells)
    if (family is None) == (task_config is None):
        raise ValueError("give exactly one of family (e.g. 'pianoroll') or task_config (a dict with 'task')")
    if family is not None:
        import rnnzoo
        from rnnzoo.families import FAMILIES, architecture_name

        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; choose from {', '.join(FAMILIES)}")
        task, config, family_budget, label, sizes = FAMILIES[family]
        if budget is not None and parse_budget(budget) != family_budget:
            return resolve_models(task_config={"task": task, **config}, budget=budget, cells=cells,
                                  tolerance=tolerance)
        out = []
        for cell in cells:
            name = architecture_name(family, cell)
            count = rnnzoo.create_model(name).num_parameters
            out.append(CellModel(cell, name, name, sizes[cell], count))
        return out
    from rnnzoo.models import match_hidden_sizes

    if budget is None:
        raise ValueError("task_config needs a budget (e.g. 20000 or '20k')")
    n = parse_budget(budget)
    matched = match_hidden_sizes(task_config, n, cells=cells, tolerance=tolerance)
    return [CellModel(cell, {**task_config, "cell": cell, "hidden_size": matched.hidden_sizes[cell]},
                      f"{task_config['task']}-{cell.replace('_', '-')}-{budget_label(n)}",
                      matched.hidden_sizes[cell], matched.num_params[cell]) for cell in cells]
