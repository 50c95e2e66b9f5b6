"""benchmarks/forecasting_suite.py: its table's MASE recomputed here from the raw series and the forecasts (the
saved networks' own forecast(), the seasonal naive by hand), and its mean rank against a hand example."""

import importlib.util
import sys

import numpy as np
import pytest
from tests.support.paths import REPO

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

SCRIPT = REPO / "benchmarks" / "forecasting_suite.py"


def _suite():
    spec = importlib.util.spec_from_file_location("forecasting_suite", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_mean_ranks_hand_example():
    suite = _suite()
    table = {"a": {"x": 1.0, "y": 2.0, "z": 2.0},   # ranks 1, 2.5, 2.5 (y and z tie)
             "b": {"x": 3.0, "y": 1.0, "z": 2.0}}   # ranks 3, 1, 2
    assert suite.mean_ranks(table) == pytest.approx({"x": 2.0, "y": 1.75, "z": 2.25})
    with pytest.raises(ValueError, match="not scored on every series"):
        suite.mean_ranks({"a": {"x": 1.0, "y": 2.0}, "b": {"x": 1.0}})


def _raw(name):
    import statsmodels.api as sm

    if name == "nile":
        return sm.datasets.nile.load_pandas().data["volume"].to_numpy(dtype=np.float64)
    return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype=np.float64)


def _mase(forecasts, truths, train, m):
    """Mean over windows and steps of |error| / the training range's in-sample seasonal naive MAE."""
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(np.asarray(forecasts) - np.asarray(truths)) / scale))


def test_suite_table_matches_an_independent_recomputation(tmp_path):
    import rnnzoo

    suite = _suite()
    specs = [suite.SPECS["nile"], suite.SPECS["sunspots"]]  # sunspots has zeros: shifted by 1 for every method
    result = suite.run_suite(specs, out=tmp_path, cells=("gru",), max_epochs=1, patience=0, classical=False,
                             log=lambda line: None)
    # the median ensemble of the two networks (the per-family ensembles need two members each: not made here)
    methods = ["plain gru", "hybrid gru", "ensemble", "naive", "drift", "seasonal naive"]
    assert result["methods"] == methods
    # nile: 100 values -> 70/15/15; sunspots: 309 -> 216/47/46 (largest remainder, the tie to validation)
    ranges = {"nile": (70, 85), "sunspots": (216, 263)}
    for spec in specs:
        y = _raw(spec.name)
        train_end, test_start = ranges[spec.name]
        h, m = spec.horizon, spec.season
        shift = 1.0 if y.min() <= 0 else 0.0
        assert result["series"][spec.name]["setup"]["shift"] == shift
        origins = range(test_start, len(y) - h + 1)
        truths = [y[o:o + h] for o in origins]
        assert result["series"][spec.name]["setup"]["test_windows"] == len(origins)
        naive = [y[o - m + np.arange(h) % m] for o in origins]
        expected = {"seasonal naive": _mase(naive, truths, y[:train_end], m),
                    "naive": _mase([np.full(h, y[o - 1]) for o in origins], truths, y[:train_end], m),
                    "drift": _mase([y[o - 1] + np.arange(1, h + 1) * (y[o - 1] - y[0]) / (o - 1) for o in origins],
                                   truths, y[:train_end], m)}
        members = []
        for method in ("plain gru", "hybrid gru"):
            model = rnnzoo.load(f"local-dir:{result['series'][spec.name]['models'][method]}")
            forecasts = [np.asarray(model.forecast(y[:o] + shift), dtype=np.float64) - shift for o in origins]
            expected[method] = _mase(forecasts, truths, y[:train_end], m)
            members.append(forecasts)
        expected["ensemble"] = _mase(list((np.asarray(members[0]) + np.asarray(members[1])) / 2), truths,
                                     y[:train_end], m)  # the median of two forecasts is their mean
        for method in methods:
            got = result["table"][spec.name][method]
            assert got == pytest.approx(expected[method], rel=1e-4), (spec.name, method)
            items = result["series"][spec.name]["items"][method]  # per-window sums agree with the table too
            assert sum(items["num"]) / sum(items["den"]) == pytest.approx(got, rel=1e-5)
    table = result["table"]
    assert result["mean_mase"]["plain gru"] == pytest.approx(np.mean([table[s]["plain gru"] for s in table]))
    assert result["mean_rank"] == pytest.approx(suite.mean_ranks(table))
    text = (tmp_path / "suite.md").read_text()
    assert "| **mean rank** |" in text and "| sunspots | yearly | 11 | 6 |" in text
