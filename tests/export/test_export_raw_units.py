"""An exported forecaster works in the series' own units: onnxruntime on a raw window gives what
``model.forecast(history)`` gives (the bundled point, quantile and seasonal-difference forecasters; a hybrid and a
Gaussian model with future covariates, each of several series), and a raw CO2 window gets a seasonal forecast from
the default graph where the forward's scaled graph gave a near-flat one, off in level (the regression this fixes).

Tolerance of graph against ``forecast``: both scale the window with the same float32 statistics in the same order
(``(x - mean) / std``, exact elementwise IEEE ops, so the network reads bit-identical inputs), then the scaled
forward differs from PyTorch's by the exported scan's float32 noise (below ``TOLERANCE`` = 1e-5, as in
test_export_onnx.py; measured 1e-7 to 3e-7), which unscaling multiplies by the series' std, and the output is
rounded once more at its own magnitude (a float32 near 360 ppm is a multiple of 3.05e-5, measured as the whole
difference on CO2). Hence ``atol = TOLERANCE * std`` plus ``rtol = 1e-6`` (8 to 16 float32 ulps of the value):
far below any real mismatch (a wrong scaler, series or level moves forecasts by a fraction of the std or more).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.cli import main
from rnnzoo.data.timeseries.builtin_series import load_builtin_series
from rnnzoo.export import export_onnx, input_names, onnx_parity, save_program
from rnnzoo.tasks.forecaster.model import Forecaster
from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

TOLERANCE = 1e-5  # the scaled graph's parity with PyTorch (test_export_onnx.py)


def _assert_units_close(got: np.ndarray, expected: np.ndarray, std: float) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=TOLERANCE * std)


def _parity_bound(model: Forecaster) -> float:
    """onnx_parity's max |ort - torch| in the series' units may reach the scaled bound times the largest std, plus
    the relative rounding at the example values' magnitude (they are the scaled examples unscaled: within about
    10 stds of the mean)."""
    mean, std = np.abs(model.preprocessing.mean).max(), np.max(model.preprocessing.std)
    return TOLERANCE * std + 1e-6 * (mean + 10 * std)


def _session(path) -> "onnxruntime.InferenceSession":
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _windows(series: np.ndarray, length: int, origins: tuple[int, ...]) -> np.ndarray:
    """Raw windows ``(N, length, 1)`` of a series ending ``origin`` steps before its end."""
    return np.stack([series[len(series) - length - o: len(series) - o] for o in origins]).astype(np.float32)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The default (raw-units) ONNX file of a bundled model, exported once per module."""
    folder, files = tmp_path_factory.mktemp("onnx"), {}

    def export(name: str, with_lengths: bool):
        if name not in files:
            files[name] = export_onnx(rnnzoo.load(name), folder / f"{name}.onnx", with_lengths=with_lengths)
        return files[name]

    return export


BUNDLED = [  # (zoo name, series, lengths input): plain, quantile (another series and cell), seasonal differences
    ("forecaster-gru-20k.co2", "co2", True),
    ("quantile-forecaster-lstm-20k.sunspots", "sunspots", True),
    ("sdiff-quantile-forecaster-peephole-lstm-20k.co2", "co2", False),
]


@pytest.mark.parametrize("name, data, with_lengths", BUNDLED)
def test_a_bundled_forecaster_takes_raw_windows_and_returns_forecast(name, data, with_lengths, exported):
    model = rnnzoo.load(name)
    path = exported(name, with_lengths)
    session = _session(path)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["rnnzoo.units"] == "raw" and "own units" in meta["rnnzoo.inputs"]
    assert [i.name for i in session.get_inputs()] == input_names(model, with_lengths) == \
        ["window", *(["lengths"] if with_lengths else [])]
    length = model.preprocessing.input_length
    windows = _windows(load_builtin_series(data), length, (0, 17, 100, 200))
    feeds = {"window": windows, **({"lengths": np.full(len(windows), length, np.int64)} if with_lengths else {})}
    (got,) = session.run(None, feeds)
    expected = model.forecast(windows, quantiles=model.quantiles)  # (N, H) or (N, H, Q): every level, in units
    _assert_units_close(got[:, :, 0], expected, model.preprocessing.std[0][0])
    # and the whole graph against PyTorch's same graph on other (padded) shapes
    parity = onnx_parity(model, path, batch=4, steps=length + 5, seed=3, with_lengths=with_lengths)
    assert parity.max_abs < _parity_bound(model), parity


def test_a_raw_co2_window_gets_a_seasonal_forecast_not_a_flat_one(exported, tmp_path, capsys):
    """The regression: the forward's graph reads scaled windows, so a raw CO2 window (ppm, std 10.8 in the
    training range) reached it ~10x too wide and came back with the season flattened (a range of 1.4-2.2 ppm over
    24 months, measured, where the forecast's is 7-9 ppm) and up to 5 ppm off in level, with no error. The
    default graph's forecast moves like the series' own last two years; ``--scaled`` still writes the old graph,
    which says so in its metadata."""
    model = rnnzoo.load("forecaster-gru-20k.co2")
    windows = _windows(load_builtin_series("co2"), 48, (0, 30, 100, 250))
    swing = np.ptp(windows[:, -24:, 0], axis=1)  # the last two years: the season (~6 ppm) and the trend
    lengths = np.full(len(windows), 48, np.int64)
    (raw,) = _session(exported("forecaster-gru-20k.co2", True)).run(None, {"window": windows, "lengths": lengths})
    assert (np.ptp(raw[:, :, 0], axis=1) > 0.5 * swing).all(), (np.ptp(raw[:, :, 0], axis=1), swing)

    scaled_path = tmp_path / "scaled.onnx"
    assert main(["export", "forecaster-gru-20k.co2", "--format", "onnx", "--scaled", "--out", str(scaled_path),
                 "--check"]) == 0
    assert "; scaled)" in capsys.readouterr().out
    session = _session(scaled_path)
    assert session.get_modelmeta().custom_metadata_map["rnnzoo.units"] == "scaled"
    (flat,) = session.run(None, {"window": windows, "lengths": lengths})
    assert (np.ptp(flat[:, :, 0], axis=1) < 0.5 * swing).all()  # what a raw window got before
    # the scaled graph is still the forward: scaled window in, scaled forecast out
    scaler = model.preprocessing
    (again,) = session.run(None, {"window": scaler.encode(windows[0])[None], "lengths": lengths[:1]})
    _assert_units_close(scaler.decode(again[0]), raw[0], scaler.std[0][0])


# --------------------------------------------------------------------------------- several series, covariates
def _perturbed(model: Forecaster) -> Forecaster:
    """Seeded noise on every parameter (the seasonal-difference head and biases start at zero)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.3 * torch.randn(param.shape, generator=generator))
    return model.eval()


def test_a_gaussian_forecaster_of_two_series_with_future_covariates(tmp_path):
    """Two scalers far apart (a wrong pick would be off by tens of stds): the graph takes ``future`` in the data's
    units and each window's ``series`` index, and returns forecast's (mean, std) for that series; the .pt2
    program too."""
    model = _perturbed(Forecaster("gru", input_size=3, output_size=2, horizon=4, hidden_size=6, gaussian=True,
                                  normalization="last_value", num_future=1))
    model.preprocessing = SeriesScaler(mean=[[10.0, -3.0, 0.5], [200.0, 40.0, 7.0]],
                                       std=[[2.0, 0.5, 1.5], [30.0, 8.0, 3.0]], input_length=9, horizon=4,
                                       series=["a", "b"], future_columns=["u"])
    rng = np.random.default_rng(0)
    scaler = model.preprocessing
    histories = [scaler.decode(rng.normal(size=(9, 3)), s) for s in (0, 1, 1, 0)]  # raw, per its series
    futures = [scaler.decode(rng.normal(size=(4, 3)), s)[:, 2:] for s in (0, 1, 1, 0)]
    series = np.array([0, 1, 1, 0], np.int64)
    path = export_onnx(model, tmp_path / "gaussian.onnx")
    session = _session(path)
    assert [i.name for i in session.get_inputs()] == ["window", "lengths", "future", "series"]
    feeds = {"window": np.stack(histories), "lengths": np.full(4, 9, np.int64), "future": np.stack(futures),
             "series": series}
    mean, std = session.run(None, feeds)
    program = torch.export.load(str(save_program(model, tmp_path / "gaussian.pt2"))).module()
    with torch.no_grad():
        p_mean, p_std = program(*(torch.from_numpy(v) for v in feeds.values()))
    for i, s in enumerate(series):
        f_mean, f_std = model.forecast(histories[i], series=int(s), future=futures[i])
        for got in ((mean[i], std[i]), (p_mean[i].numpy(), p_std[i].numpy())):
            _assert_units_close(got[0], f_mean, 30.0)
            _assert_units_close(got[1], f_std, 30.0)
    assert onnx_parity(model, path).max_abs < _parity_bound(model)


def test_a_hybrid_of_three_series_takes_raw_positive_windows(tmp_path):
    """The ES-RNN-style hybrid (its smoothing and scaler picked by ``series``): raw windows of three series at
    levels 5, 50 and 500 give forecast's quantiles for each."""
    model = _perturbed(Forecaster("lstm", horizon=6, hidden_size=6, normalization="es", season=4, num_series=3,
                                  quantiles=[0.1, 0.5, 0.9]))
    model.preprocessing = SeriesScaler(mean=[[50.0], [5.0], [500.0]], std=[[5.0], [1.0], [40.0]], input_length=12,
                                       horizon=6, season=4, series=["mid", "low", "high"])
    rng = np.random.default_rng(1)
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(12) / 4)
    series = np.array([2, 0, 1, 2], np.int64)
    levels = np.array([50.0, 5.0, 500.0])[series]
    windows = (levels[:, None] * season * (1 + 0.05 * rng.normal(size=(4, 12))))[..., None].astype(np.float32)
    path = export_onnx(model, tmp_path / "es.onnx", with_lengths=False)
    session = _session(path)
    assert [i.name for i in session.get_inputs()] == ["window", "series"]
    (got,) = session.run(None, {"window": windows, "series": series})
    for i, s in enumerate(series):
        expected = model.forecast(windows[i], series=int(s), quantiles=model.quantiles)  # (H, Q)
        _assert_units_close(got[i, :, 0], expected, 40.0)
    assert onnx_parity(model, path, with_lengths=False).max_abs < _parity_bound(model)
