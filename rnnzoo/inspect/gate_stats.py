"""Gate statistics over a data split: mean activation and saturation fraction per gate, padding excluded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rnnzoo.inspect.gate_kinds import gate_kind, saturated
from rnnzoo.inspect.layer_input import batch_model_input
from rnnzoo.inspect.trace import gate_trace
from rnnzoo.tasks.base import TaskModel


def split_batches(data: Any, split: str = "val") -> Iterable[dict[str, Any]]:
    """Batches from a DataLoader or any iterable of batch dicts, or from a DataModule's ``split`` loader.

    A DataModule that was not set up yet is set up here (its ``datasets`` are empty until then).
    """
    if hasattr(data, f"{split}_dataloader") and hasattr(data, "setup"):
        if not getattr(data, "datasets", None):
            data.setup()
        return getattr(data, f"{split}_dataloader")()
    return data


def gate_statistics(model: TaskModel, data: Any, *, split: str = "val",
                    max_batches: int | None = None) -> dict[str, Any]:
    """Mean activation and saturation per gate and layer/direction over a data split.

    Only real steps count: each batch's ``lengths`` masks out padding (text and time-series batches have no
    padding). Saturation follows :mod:`rnnzoo.inspect.gate_kinds`: below 0.1 or above 0.9 for sigmoid gates,
    |v| > 0.9 for tanh-valued quantities, none for the cell state c.

    Args:
        model: a task model in eval mode.
        data: a DataLoader (or iterable) of rnnzoo.data batches, or a DataModule (its ``split`` loader is used),
            or an iterable of ``(model_input, lengths)`` pairs taken as the model reads them (lengths may be None).
        split: ``"train" | "val" | "test"`` when ``data`` is a DataModule.
        max_batches: stop after this many batches (None: the whole split).

    Returns:
        ``{"steps": real steps counted, "sequences": n, "batches": n, "slots": {slot: {gate: {"mean",
        "mean_abs", "saturated", "low", "high", "kind"}}}}``; ``saturated = low + high`` (fractions of all real
        step-unit values), and they are None for unbounded quantities.
    """
    nonlinearity = getattr(model.rnn, "nonlinearity", "tanh")
    sums: dict[tuple[str, str], dict[str, float]] = {}
    steps = sequences = batches = 0
    for batch in split_batches(data, split):
        if max_batches is not None and batches >= max_batches:
            break
        if isinstance(batch, (tuple, list)):  # (model input, lengths): already as the model reads it
            model_input, lengths = batch
        else:
            model_input, lengths = batch_model_input(model, batch)
        trace = gate_trace(model, model_input, lengths)
        mask = trace.mask()  # (B, T)
        steps += int(mask.sum())
        sequences += int(mask.shape[0])
        batches += 1
        for name, values in trace.gates.items():
            kind = gate_kind(name, nonlinearity)
            for slot_index, slot in enumerate(trace.slots):
                real = values[slot_index][mask]  # (real steps, H): padding dropped before anything is summed
                acc = sums.setdefault((slot, name), {"n": 0, "sum": 0.0, "abs": 0.0, "low": 0, "high": 0})
                acc["n"] += real.numel()
                acc["sum"] += float(real.double().sum())
                acc["abs"] += float(real.double().abs().sum())
                ends = saturated(real, kind)
                if ends is not None:
                    acc["low"] += int(ends[0].sum())
                    acc["high"] += int(ends[1].sum())
    if batches == 0:
        raise ValueError("gate_statistics got no batches: the split is empty")
    slots: dict[str, dict[str, Any]] = {}
    for (slot, name), acc in sums.items():
        kind = gate_kind(name, nonlinearity)
        n = max(acc["n"], 1)
        bounded = kind != "unbounded"
        slots.setdefault(slot, {})[name] = {
            "kind": kind,
            "mean": acc["sum"] / n,
            "mean_abs": acc["abs"] / n,
            "low": acc["low"] / n if bounded else None,
            "high": acc["high"] / n if bounded else None,
            "saturated": (acc["low"] + acc["high"]) / n if bounded else None,
        }
    return {"steps": steps, "sequences": sequences, "batches": batches, "slots": slots}

