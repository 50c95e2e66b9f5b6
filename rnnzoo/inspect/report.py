"""Everything the inspectors produce for one model, written to a folder: PNGs and the numbers as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from rnnzoo.inspect.charts import plot_gate_statistics, plot_gradient_lag
from rnnzoo.inspect.gate_stats import gate_statistics, split_batches
from rnnzoo.inspect.gradient_lag import gradient_vs_lag
from rnnzoo.inspect.heatmaps import plot_gate_heatmaps
from rnnzoo.inspect.layer_input import batch_model_input
from rnnzoo.inspect.resolve import model_label, resolve_model, weights_origin
from rnnzoo.inspect.samples import describe_sample, sample_input

REPORT_NAME = "report.json"


def first_batch(model: nn.Module, data: Any, split: str, max_sequences: int) -> tuple[Tensor, Tensor | None]:
    """The model input and lengths of the first ``max_sequences`` sequences of a split's first batch."""
    batch = next(iter(split_batches(data, split)))
    model_input, lengths = batch_model_input(model, batch)
    return model_input[:max_sequences], None if lengths is None else lengths[:max_sequences]


def inspect_model(model: str | nn.Module, out_dir: str | os.PathLike, *, sequence: Tensor | None = None,
                  input_description: str | None = None, data: Any = None, split: str = "val",
                  max_batches: int | None = None, max_lag: int = 30, lag_sequences: int = 8,
                  steps: int = 48, seed: int = 0) -> dict[str, Any]:
    """Heatmaps, gate statistics and the gradient-versus-lag curve of one model, as PNGs plus ``report.json``.

    Args:
        model: a task model, a zoo architecture name (built untrained from ``seed``) or an ``rnnzoo.load`` uri.
        out_dir: where ``gates_<slot>.png``, ``gate_stats.png``, ``gradient_lag.png`` and ``report.json`` go.
        sequence: one model input without batch dimension (``(T, F)`` or ``(T,)`` token ids) for the heatmaps;
            default: the split's first sequence when ``data`` is given, else a seeded synthetic input.
        input_description: how ``sequence`` was obtained, recorded in the report.
        data: a DataModule or DataLoader of rnnzoo.data batches; gate statistics and the gradient-versus-lag
            curve are then measured on its ``split``; without it, on the heatmap sequence alone (and the report
            says so).
        max_batches: bound on the batches the statistics read (None: the whole split).
        max_lag: largest lag k of the gradient-versus-lag curve.
        lag_sequences: number of sequences (of the split's first batch) the curve averages over.
        steps: length of the synthetic input.
        seed: seed of the synthetic input and of an untrained zoo model.

    Returns:
        The report (also written to ``report.json``): model, weights origin, input, file names, statistics,
        gradient-versus-lag curve.
    """
    origin = weights_origin(model, seed)
    model = resolve_model(model, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if data is not None:
        lag_input, lag_lengths = first_batch(model, data, split, lag_sequences)
        if sequence is None:
            length = lag_input.shape[1] if lag_lengths is None else int(lag_lengths[0])
            sequence = lag_input[0, :length]
            input_description = f"first sequence of the {split} split ({type(model).objective_class.input_key}, as the model reads it)"
        data_description = f"{split} split of {type(data).__name__}"
    else:
        if sequence is None:
            sequence = sample_input(model, steps, seed)[0]
            input_description = describe_sample(model, steps, seed)
        lag_input, lag_lengths = sequence.unsqueeze(0), None
        data_description = "the heatmap sequence only (no data split given)"

    heatmaps = plot_gate_heatmaps(model, sequence, out)
    if data is not None:
        stats = gate_statistics(model, data, split=split, max_batches=max_batches)
    else:
        stats = gate_statistics(model, [(sequence.unsqueeze(0), None)])  # taken as read: no roll shift
    lag = gradient_vs_lag(model, lag_input, lag_lengths, max_lag=max_lag)
    label = model_label(model)
    plot_gate_statistics(stats, out / "gate_stats.png", f"{label}: gate statistics ({data_description})")
    plot_gradient_lag({label: lag}, out / "gradient_lag.png", f"{label}: gradient versus lag")
    report = {
        "model": label, "task": model.task, "cell": model.config.get("cell"), "weights": origin,
        "num_params": model.num_parameters, "input": input_description or "given by the caller",
        "input_steps": int(sequence.shape[0]),
        "files": {"heatmaps": [f.path.name for f in heatmaps], "gate_stats": "gate_stats.png",
                  "gradient_lag": "gradient_lag.png"},
        "gate_stats": {"measured_on": data_description, **stats},
        "gradient_lag": {"measured_on": data_description, **lag},
    }
    (out / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report

