"""ONNX and torch.export export: onnxruntime equals PyTorch for every task and every cell, with lengths, on
inputs of another batch size and length than the export example; clear errors for what cannot export.

Each export takes a few seconds (torch.export + the ONNX translation), so the four parity cases pair each task with
one cell (the four tasks and the four cells each appear once; the cell and the head do not interact in the
exported graph). benchmarks/onnx_export.py checks all sixteen bundled models.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.cli import main
from rnnzoo.export import ExportError, example_inputs, export_onnx, onnx_parity, save_program
from rnnzoo.tasks.forecaster.model import Forecaster
from rnnzoo.tasks.language_model.model import LanguageModel
from rnnzoo.tasks.piano_roll.model import PianoRollModel
from rnnzoo.tasks.sequence_classifier.model import SequenceClassifier

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

# float32 throughout: onnxruntime's Scan body runs the same matmuls and pointwise ops as PyTorch but sums in its
# own order (MLAS vs. MKL/OpenBLAS kernels), so outputs differ by a few float32 ulps, which the recurrence carries
# over the steps. Measured on these models: at most a few 1e-6 (the bundled word models' 10,000 logits reach
# 1.1e-5 absolute, 5.7e-6 relative to 1 + |logit|: Parity.max_scaled; docs/export.md). 1e-5 still catches any real
# mismatch: a wrong gate order, peephole slot or mask moves outputs by 1e-2 or more.
TOLERANCE = 1e-5


def _perturbed(model: torch.nn.Module) -> torch.nn.Module:
    """Seeded noise on every parameter: the peephole weights start at zero and the biases too, and a zero
    would hide a wrong slot or order."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.3 * torch.randn(param.shape, generator=generator))
    return model.eval()


CASES = {
    # task model, cell, and what else each case exercises
    "classifier-peephole_lstm": lambda: SequenceClassifier(  # two layers, bidirectional: the per-length reversal
        "peephole_lstm", input_size=4, num_classes=3, hidden_size=6, num_layers=2, bidirectional=True),
    "language_model-gru": lambda: LanguageModel("gru", vocab_size=40, embedding_dim=6, hidden_size=6,
                                                tie_weights=True),
    "forecaster-lstm": lambda: Forecaster("lstm", input_size=2, horizon=3, hidden_size=6, gaussian=True,
                                          normalization="last_value"),  # two outputs, a gather at each length
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnxruntime_equals_pytorch_with_lengths(case, tmp_path):
    model = _perturbed(CASES[case]())
    path = export_onnx(model, tmp_path / "model.onnx")
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x_input, lengths_input = session.get_inputs()
    assert x_input.name == model.objective_class.input_key and lengths_input.name == "lengths"
    assert x_input.shape[:2] == ["batch", "time"] and lengths_input.shape == ["batch"]  # dynamic axes
    # Shapes other than the export example's (3 x 7), each batch with one full-length and shorter sequences.
    for batch, steps, seed in ((5, 13, 1), (2, 30, 2)):
        assert onnx_parity(model, path, batch=batch, steps=steps, seed=seed).max_abs < TOLERANCE
    # The padding is masked: garbage past each length changes nothing, as in PyTorch.
    x, lengths = example_inputs(model, 4, 9, seed=3)
    lengths[1:] = torch.tensor([1, 4, 8])
    clean = session.run(None, {x_input.name: x.numpy(), "lengths": lengths.numpy()})
    if x.is_floating_point():
        x[1, 1:] = 1e3
    else:
        x[1, 1:] = 0
    dirty = session.run(None, {x_input.name: x.numpy(), "lengths": lengths.numpy()})
    for a, b in zip(clean, dirty):
        if a.ndim == 3 and a.shape[1] == 9:  # per-step outputs: sequence 1's single real step, and the others
            np.testing.assert_allclose(a[1, :1], b[1, :1], rtol=0, atol=TOLERANCE)
            a, b = np.delete(a, 1, axis=0), np.delete(b, 1, axis=0)
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCE)


def test_the_command_exports_a_bundled_model_and_checks_it(tmp_path, capsys):
    out = tmp_path / "roll.onnx"
    assert main(["export", "pianoroll-rnn-20k.jsb", "--format", "onnx", "--out", str(out), "--check"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "max |difference|" in printed
    assert "on a padded batch of 5 x 13 steps" in printed  # the batch it checked, as onnx_parity reports it
    model = rnnzoo.load("pianoroll-rnn-20k.jsb")
    assert onnx_parity(model, out, batch=4, steps=21, seed=5).max_abs < TOLERANCE
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["rnnzoo.architecture"] == "pianoroll-rnn-20k" and meta["rnnzoo.task"] == "piano_roll"


def test_torch_export_program_runs_other_shapes(tmp_path):
    model = _perturbed(PianoRollModel("peephole_lstm", hidden_size=5, num_pitches=8))
    path = save_program(model, tmp_path / "roll.pt2")
    program = torch.export.load(str(path)).module()
    x, lengths = example_inputs(model, 6, 17, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(program(x, lengths), model(x, lengths=lengths), rtol=0, atol=TOLERANCE)


# ------------------------------------------------------------------------------------------- what cannot export
def test_missing_onnx_packages_name_the_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # what `import onnxscript` meets when it is not installed
    with pytest.raises(ExportError, match=r"pip install 'rnnzoo\[onnx\]'"):
        export_onnx(PianoRollModel("gru", hidden_size=4, num_pitches=6), tmp_path / "m.onnx")


@pytest.mark.parametrize("model, kwargs, message", [
    (lambda: PianoRollModel("gru", hidden_size=4, num_pitches=6), {"opset": 17}, "use opset >= 18"),
    (lambda: rnnzoo.nn.GRU(3, 4), {}, "wrap a bare rnnzoo.nn layer in a task model"),
    (lambda: PianoRollModel("lstm", hidden_size=4, num_pitches=6).double(), {}, r"model\.float\(\)"),
    (lambda: Forecaster("gru", horizon=3, hidden_size=4, normalization="es", season=4), {},
     r"'es'\) reads whole windows.*with_lengths=False \(rnnzoo export --no-lengths\)"),
    (lambda: Forecaster("gru", horizon=3, hidden_size=4, normalization="seasonal_difference", season=4), {},
     r"whole windows.*with_lengths=False \(rnnzoo export --no-lengths\)"),
])
def test_what_cannot_export_says_why_and_the_fix(model, kwargs, message, tmp_path):
    with pytest.raises(ExportError, match=message):
        export_onnx(model(), tmp_path / "m.onnx", **kwargs)


def test_a_seasonal_difference_forecaster_exports_without_lengths(tmp_path):
    """The bundled sdiff quantile forecaster (season 12, drift, calibrated offsets): onnxruntime equals PyTorch on
    windows of another batch size and length (above two seasons) than the export example."""
    model = rnnzoo.load("sdiff-quantile-forecaster-gru-20k.co2")
    path = export_onnx(model, tmp_path / "sdiff.onnx", with_lengths=False)
    parity = onnx_parity(model, path, with_lengths=False)
    assert parity.max_scaled < TOLERANCE, parity
    assert parity.shape == (5, 27)  # windows of two seasons and more: 2 * 12 + 3 steps, not the default 13


@pytest.mark.parametrize("normalization, with_lengths", [("last_value", True), ("seasonal_difference", False)])
def test_future_covariates_are_a_graph_input(normalization, with_lengths, tmp_path):
    """A forecaster with future-known covariates exports with ``future`` (B, horizon, N) as its last input:
    onnxruntime equals PyTorch on random covariates (so a graph that ignored them would fail), and other
    covariates give other forecasts in onnxruntime too."""
    import onnxruntime

    model = _perturbed(Forecaster("gru", input_size=4, output_size=2, horizon=3, hidden_size=6, num_future=2,
                                  normalization=normalization,
                                  **({"season": 4} if normalization == "seasonal_difference" else {})))
    path = export_onnx(model, tmp_path / "future.onnx", with_lengths=with_lengths)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == ["window", *(["lengths"] if with_lengths else []), "future"]
    assert session.get_inputs()[-1].shape == ["batch", 3, 2]
    parity = onnx_parity(model, path, with_lengths=with_lengths)
    assert parity.max_scaled < TOLERANCE, parity
    x, lengths = example_inputs(model, batch=2, steps=11)
    feeds = {"window": x.numpy(), **({"lengths": lengths.numpy()} if with_lengths else {})}
    outputs = [session.run(None, {**feeds, "future": np.full((2, 3, 2), v, np.float32)})[0] for v in (-1.0, 1.0)]
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-3
    program = torch.export.load(str(save_program(model, tmp_path / "future.pt2", with_lengths=with_lengths)))
    future = torch.ones(2, 3, 2)
    args = (x, lengths, future) if with_lengths else (x, future)
    with model.inference():
        expected = model(x, lengths=lengths if with_lengths else None, future=future)
    torch.testing.assert_close(program.module()(*args), expected, atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("season, num_series", [(1, 1), (4, 3)])
def test_the_hybrid_exports_its_smoothing_as_a_scan(season, num_series, tmp_path):
    """The ES-RNN-style hybrid (its Holt-Winters recursion a scan while exporting): onnxruntime equals PyTorch on
    positive windows of another batch size and length; a hybrid of several series takes each window's ``series``
    id as an input (the parity batch mixes them)."""
    model = _perturbed(Forecaster("lstm", horizon=6, hidden_size=6, normalization="es", season=season,
                                  num_series=num_series, quantiles=[0.1, 0.5, 0.9]))
    path = export_onnx(model, tmp_path / "es.onnx", with_lengths=False)
    parity = onnx_parity(model, path, with_lengths=False)
    assert parity.max_scaled < TOLERANCE, parity
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["window", *(["series"] if num_series > 1 else [])]


def test_the_command_refuses_an_unknown_model(capsys):
    with pytest.raises(SystemExit) as err:
        main(["export", "no-such-model", "--format", "onnx"])
    assert err.value.code == 2 and "rnnzoo export: error:" in capsys.readouterr().err


def test_gate_traces_cannot_be_exported():
    class Gates(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnnzoo.nn.GRU(3, 4)

        def forward(self, x):
            return self.rnn(x, return_gates=True)[2]["reset"]

    with pytest.raises(Exception, match="return_gates=True cannot be exported"):
        torch.export.export(Gates(), (torch.randn(5, 2, 3),), strict=False)
