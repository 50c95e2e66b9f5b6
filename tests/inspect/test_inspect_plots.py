"""Heatmaps, charts and report.json: files are written, sized as declared, panels carry an image, and the JSON
numbers equal a direct recomputation."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from rnnzoo.inspect import (gate_statistics, gate_trace, gradient_vs_lag, inspect_model, plot_gate_heatmaps,
                            resolve_model, sample_input)
from rnnzoo.inspect.heatmaps import figure_size_px, plot_trace
from rnnzoo.models import SequenceClassifier

ZOO_CELLS = ["rnn", "lstm", "peephole-lstm", "gru"]
GATES = {"rnn": 1, "lstm": 6, "peephole-lstm": 6, "gru": 4}


def panel_std(path, box):
    """Standard deviation of the grey levels inside one panel (its frame trimmed off)."""
    left, top, right, bottom = box
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    return float(grey[top + 2:bottom - 2, left + 2:right - 2].std())


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect")
    return {cell: (inspect_model(f"pianoroll-{cell}-20k", out / cell, max_lag=10, steps=32), out / cell)
            for cell in ZOO_CELLS}


@pytest.mark.parametrize("cell", ZOO_CELLS)
def test_every_file_is_written_and_non_empty(reports, cell):
    report, folder = reports[cell]
    assert report["files"]["heatmaps"] == ["gates_layer_0.png"]
    for name, min_kb in [("gates_layer_0.png", 20), ("gate_stats.png", 10), ("gradient_lag.png", 10)]:
        # Measured sizes are 40-95 KB, 23-29 KB and ~30 KB; an empty canvas at these sizes is under 8 KB.
        assert (folder / name).stat().st_size > min_kb * 1024, name
    assert Image.open(folder / "gates_layer_0.png").size == figure_size_px(GATES[cell])
    assert report["weights"] == "untrained: random initialisation, seed 0"
    assert report["input"].startswith("synthetic piano_roll input")


@pytest.mark.parametrize("cell", ZOO_CELLS)
def test_heatmap_panels_show_the_input_and_every_gate(tmp_path, cell):
    model = resolve_model(f"pianoroll-{cell}-20k")
    sequence = sample_input(model, 32)[0]
    (figure,) = plot_gate_heatmaps(model, sequence, tmp_path)
    assert set(figure.boxes) == {"input", *gate_trace(model, sequence.unsqueeze(0)).gates}
    for panel, box in figure.boxes.items():
        # A drawn heatmap varies over units and steps (std of grey levels 20-70 here); a blank or constant
        # panel has std 0. Threshold 3 grey levels is far from both.
        assert panel_std(figure.path, box) > 3, panel


def test_panel_check_sees_a_constant_gate(tmp_path):
    """The check above can fail: a gate traced as all zeros gives a flat panel."""
    model = resolve_model("pianoroll-lstm-20k")
    sequence = sample_input(model, 32)[0]
    trace = gate_trace(model, sequence.unsqueeze(0))
    trace.gates["forget"] = torch.zeros_like(trace.gates["forget"])
    figure = plot_trace(model, sequence, trace, 0, tmp_path / "flat.png")
    assert panel_std(figure.path, figure.boxes["forget"]) < 0.5
    assert panel_std(figure.path, figure.boxes["input"]) > 3


def test_one_png_per_layer_and_direction(tmp_path):
    model = SequenceClassifier(cell="lstm", input_size=5, num_classes=2, hidden_size=4, num_layers=2,
                               bidirectional=True).eval()
    figures = plot_gate_heatmaps(model, torch.randn(12, 5), tmp_path)
    assert [f.path.name for f in figures] == ["gates_layer_0.png", "gates_layer_0_reverse.png",
                                              "gates_layer_1.png", "gates_layer_1_reverse.png"]
    assert all(Image.open(f.path).size == figure_size_px(6) for f in figures)


@pytest.mark.parametrize("cell", ZOO_CELLS)
def test_json_numbers_equal_a_recomputation(reports, cell):
    report, folder = reports[cell]
    on_disk = json.loads((folder / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    model = resolve_model(f"pianoroll-{cell}-20k")
    sequence = sample_input(model, 32)[0].unsqueeze(0)
    stats = gate_statistics(model, [(sequence, None)])
    curve = gradient_vs_lag(model, sequence, max_lag=10)
    # Same model, same input, same code path: equal up to JSON's float round trip (exact for Python floats).
    assert on_disk["gate_stats"]["slots"] == stats["slots"]
    assert on_disk["gradient_lag"]["norm"] == pytest.approx(curve["norm"], rel=1e-12)
    assert on_disk["gate_stats"]["steps"] == 32


def test_report_on_a_data_split_uses_its_first_sequence(tmp_path):
    from torch.utils.data import DataLoader

    from rnnzoo.data import PadCollate, SequenceDataset

    model = SequenceClassifier(cell="gru", input_size=3, num_classes=2, hidden_size=4).eval()
    items = [{"features": torch.randn(n, 3), "label": torch.tensor(1)} for n in (6, 9, 4)]
    loader = DataLoader(SequenceDataset(items), batch_size=3, collate_fn=PadCollate(("features",)))
    report = inspect_model(model, tmp_path, data=loader, max_lag=4)
    assert report["input_steps"] == 6  # the first sequence, cut at its own length
    assert report["gate_stats"]["steps"] == 19
    assert report["weights"] == "the model object passed in (its current weights)"
