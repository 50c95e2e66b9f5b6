"""Probabilistic forecasts: the pinball loss and CRPS against hand-computed values, the quantile head (no crossing,
shift with the window under last_value normalisation), its refusals, and a small real run whose forecast(quantiles=)
in the series' units matches the test loop's quantiles."""

import math

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

import rnnzoo
from rnnzoo.data.splits import chronological_split
from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.tasks import PreprocessingError
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.tasks.forecaster.metrics import gaussian_crps, median_of, pinball_loss, quantile_crps
from rnnzoo.training import TrainingModule


# ------------------------------------------------------------------------------------------ scores, by hand
def test_pinball_loss_hand_computed():
    # y = 10; quantiles 8, 11, 13 at levels 0.1, 0.5, 0.9: y - q = 2, -1, -3
    # tau = 0.1: max(0.1 * 2, -0.9 * 2) = 0.2;  tau = 0.5: max(-0.5, 0.5) = 0.5;  tau = 0.9: max(-2.7, 0.3) = 0.3
    q, y, levels = torch.tensor([[8.0, 11.0, 13.0]]), torch.tensor([10.0]), torch.tensor([0.1, 0.5, 0.9])
    assert pinball_loss(q, y, levels)[0].tolist() == pytest.approx([0.2, 0.5, 0.3])
    assert quantile_crps(q, y, levels).item() == pytest.approx(2 * (0.2 + 0.5 + 0.3) / 3)  # 0.6667


def test_gaussian_crps_hand_computed():
    # CRPS(N(0, 1), 0) = 2 phi(0) - 1/sqrt(pi) = 0.7978846 - 0.5641896 = 0.2336950
    # CRPS(N(0, 1), 1) = (2 Phi(1) - 1) + 2 phi(1) - 1/sqrt(pi) = 0.6826895 + 0.4839414 - 0.5641896 = 0.6024413
    # and CRPS scales with the distribution: CRPS(N(3, 2^2), 5) = 2 * CRPS(N(0, 1), 1) = 1.2048826
    mean, std, y = torch.tensor([0.0, 0.0, 3.0]), torch.tensor([1.0, 1.0, 2.0]), torch.tensor([0.0, 1.0, 5.0])
    assert gaussian_crps(mean, std, y).tolist() == pytest.approx([0.2336950, 0.6024413, 1.2048826], abs=1e-6)


def test_quantile_crps_on_a_fine_grid_is_the_gaussian_crps():
    """2 x mean pinball over levels (k + 0.5) / n of N(0, 1)'s quantiles (scipy's, not ours) tends to the CRPS."""
    n = 2000
    levels = (np.arange(n) + 0.5) / n
    q = torch.tensor(norm.ppf(levels), dtype=torch.float64)
    got = quantile_crps(q, torch.tensor(1.0, dtype=torch.float64), torch.tensor(levels)).item()
    assert got == pytest.approx(0.6024413, abs=2e-4)


def test_median_of_interpolates_between_levels():
    q = torch.tensor([1.0, 3.0, 7.0])
    assert median_of(q, [0.1, 0.5, 0.9]).item() == 3.0
    assert median_of(q, [0.2, 0.4, 0.6]).item() == pytest.approx(5.0)  # halfway between 0.4 -> 3 and 0.6 -> 7
    assert median_of(q, [0.1, 0.2, 0.3]).item() == 7.0  # 0.5 beyond the levels: the nearest


# --------------------------------------------------------------------------------------------- the head
def test_quantile_head_never_crosses_and_moves_with_a_shift():
    torch.manual_seed(0)
    model = Forecaster("gru", horizon=5, hidden_size=8, normalization="last_value", quantiles=[0.9, 0.1, 0.5]).eval()
    assert model.quantiles == [0.1, 0.5, 0.9] and model.config["quantiles"] == [0.1, 0.5, 0.9]
    x = torch.randn(16, 12, 1)
    with torch.no_grad():
        q, shifted = model(x), model(x + 3.0)
    assert q.shape == (16, 5, 1, 3)
    assert bool((q.diff(dim=-1) >= 0).all())
    assert torch.allclose(shifted, q + 3.0, atol=1e-5)


def test_point_forecaster_config_is_unchanged():
    """A model without quantiles writes no new key: config.json of the bundled forecasters' kind stays as it was."""
    assert "quantiles" not in Forecaster("gru", hidden_size=4).config


@pytest.mark.parametrize("bad", [[0.0, 0.5], [0.5, 1.0], [-0.1], [1.5], [float("nan")], [], [0.5, 0.5], "abc"])
def test_quantiles_outside_the_open_interval_are_refused(bad):
    with pytest.raises(ValueError, match="quantile|list of numbers|repeats"):
        Forecaster("gru", hidden_size=4, quantiles=bad)


def test_gaussian_and_quantiles_together_are_refused():
    with pytest.raises(ValueError, match="choose one"):
        Forecaster("gru", hidden_size=4, gaussian=True, quantiles=[0.5])


# ------------------------------------------------------------------------------------- a small real run
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A quantile GRU on CO2 for a few epochs (seconds on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    L.seed_everything(0, verbose=False)
    dm = TimeSeriesDataModule("co2", input_length=24, horizon=6, batch_size=32)
    task = TrainingModule({"task": "forecaster", "cell": "gru", "horizon": 6, "hidden_size": 16,
                          "normalization": "last_value", "quantiles": [0.1, 0.5, 0.9]}, lr=1e-2)
    trainer = L.Trainer(default_root_dir=tmp_path_factory.mktemp("q"), max_epochs=4, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(task, datamodule=dm)
    scores = trainer.test(task, datamodule=dm, verbose=False)[0]
    predicted = trainer.predict(task, dataloaders=dm.test_dataloader())
    torch.set_num_threads(threads)
    return task.model, dm, scores, predicted


def test_quantile_run_logs_probabilistic_metrics(trained):
    model, dm, scores, predicted = trained
    assert {"test/pinball", "test/crps", "test/coverage", "test/mae"} <= set(scores)
    assert scores["test/crps"] == pytest.approx(2 * scores["test/pinball"], rel=1e-4)
    assert 0.0 <= scores["test/coverage"] <= 1.0
    # the metric recomputed from predict's quantiles (data units) and the raw test targets, in numpy
    q = torch.cat([p["quantiles"] for p in predicted]).numpy()  # (N, H, 1, 3)
    values = dm.series_values[0][:, 0]
    test_start = chronological_split(len(values), dm.proportions)[2].start  # the first test window's origin
    truth = np.stack([values[test_start + i:test_start + i + 6] for i in range(len(q))])  # (N, H)
    lo, hi = q[:, :, 0, 0], q[:, :, 0, 2]
    assert float(((lo <= truth) & (truth <= hi)).mean()) == pytest.approx(scores["test/coverage"], abs=1e-6)


def test_forecast_quantiles_in_the_series_units(trained, tmp_path):
    model, dm, _, predicted = trained
    values = dm.series_values[0][:, 0]
    test_start = chronological_split(len(values), dm.proportions)[2].start  # the first test window's origin
    got = model.forecast(values[:test_start], quantiles=[0.9, 0.1])  # (H, 2) ppm, levels in the order asked
    want = predicted[0]["quantiles"][0, :, 0].numpy()  # (H, 3) at 0.1, 0.5, 0.9
    assert got.shape == (6, 2)
    assert np.allclose(got[:, 0], want[:, 2], atol=1e-3) and np.allclose(got[:, 1], want[:, 0], atol=1e-3)
    assert np.allclose(model.forecast(values[:test_start]), want[:, 1], atol=1e-3)  # the median by default
    # a saved and loaded model keeps its levels and gives the same quantiles
    folder = rnnzoo.save_pretrained(model, tmp_path / "q", preprocessing=model.preprocessing)
    loaded = rnnzoo.load(f"local-dir:{folder}")
    assert np.allclose(loaded.forecast(values[:test_start], quantiles=[0.9, 0.1]), got, atol=1e-5)


def test_forecast_quantile_refusals(trained):
    model, dm, _, _ = trained
    history = dm.series_values[0][:100, 0]
    with pytest.raises(PreprocessingError, match="strictly between 0 and 1"):
        model.forecast(history, quantiles=[0.1, 1.0])
    with pytest.raises(PreprocessingError, match=r"trained for the levels \[0.1, 0.5, 0.9\].*does not interpolate"):
        model.forecast(history, quantiles=[0.25])
    point = rnnzoo.load("forecaster-gru-20k.co2")
    with pytest.raises(PreprocessingError, match="point forecaster"):
        point.forecast(history, quantiles=[0.5])


def test_gaussian_forecast_quantiles_are_normal_quantiles():
    torch.manual_seed(0)
    model = Forecaster("gru", horizon=3, hidden_size=4, gaussian=True)
    model.preprocessing = {"timeseries": {"scaler": {"mean": [[100.0]], "std": [[10.0]]}, "input_length": 8,
                                          "horizon": 3}}
    history = 100 + 10 * np.sin(np.arange(20) / 3)
    mean, std = model.forecast(history)
    q = model.forecast(history, quantiles=[0.1, 0.5, 0.9])
    expect = mean[:, None] + std[:, None] * norm.ppf([0.1, 0.5, 0.9])[None, :]  # scipy's normal quantiles
    assert np.allclose(q, expect, atol=1e-4)
    assert math.isclose(float(norm.ppf(0.9)), 1.2815516, rel_tol=1e-6)


# ------------------------------------------------------------------------------------------ rnnzoo compare
def test_baselines_give_quantiles_from_their_forecast_distributions():
    from rnnzoo.compare.statistical_baselines import statistical_baselines

    # a short random walk with drift, no season: the three automatic models fit in a second or two
    values = (50 + np.cumsum(np.random.default_rng(0).normal(0.3, 1.0, 120))).astype(np.float32)
    args = (values, (0.7, 0.15, 0.15), 12, 6, 6, 1)
    # the 0.5 level of a normal forecast is its mean, whose pinball loss is half its absolute error
    half = statistical_baselines(*args, quantiles=[0.5])
    for name in ("AutoETS", "AutoARIMA", "AutoTheta", "statistical median"):
        assert half[name]["scores"]["pinball"] == pytest.approx(half[name]["scores"]["mae"] / 2, rel=1e-9), name
    assert "seasonal naive (m=1)" not in half  # no season: the naive forecast and the drift stand instead
    assert "pinball" not in half["naive"]["scores"] and "pinball" not in half["drift"]["scores"]  # no distribution
    wide = statistical_baselines(*args, quantiles=[0.1, 0.5, 0.9])
    for name, b in wide.items():
        if "pinball" in b["scores"]:
            items = b["items"]["pinball"]
            assert sum(items["num"]) / sum(items["den"]) == pytest.approx(b["scores"]["pinball"], rel=1e-9)
            assert 0.0 <= b["scores"]["coverage"] <= 1.0, name
    # the 0.1 and 0.9 levels are the ends of statsforecast's 80% interval, read by their column names
    from rnnzoo.compare.statistical_baselines import fit_and_forecast
    from statsforecast.models import AutoETS

    _, q, _ = fit_and_forecast("AutoETS", values[:100].astype(np.float64), 1, 6, np.array([0.1, 0.5, 0.9]))
    direct = AutoETS(season_length=1).forecast(y=values[:100].astype(np.float64), h=6, level=[80])
    assert np.allclose(q, np.stack([direct["lo-80"], direct["mean"], direct["hi-80"]], axis=1), rtol=1e-12)


def test_compare_with_quantiles(tmp_path):
    from rnnzoo.compare import compare

    results = compare("co2", cells=("gru",), seeds=(0, 1), max_epochs=1, out_dir=tmp_path,
                      tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", threads=1, classical_baselines=False,
                      quantiles=[0.9, 0.1, 0.5], save_models=False, log=lambda line: None)
    assert results["meta"]["quantiles"] == [0.1, 0.5, 0.9]
    cell = results["cells"]["gru"]
    assert cell["model"] == "quantile-forecaster-gru-20k" and abs(cell["num_params"] / 20_000 - 1) <= 0.02
    assert {"pinball", "crps", "coverage"} <= set(cell["test"])
    assert results["verdict_probabilistic"]["metric"] == "pinball"
    assert "val/coverage" in results["runs"][0]["curve"]
    assert "## Probabilistic verdict" in (tmp_path / "results.md").read_text()
    with pytest.raises(ValueError, match="forecasting data"):
        compare("japanese_vowels", quantiles=[0.5], out_dir=tmp_path, tracking_uri=f"sqlite:///{tmp_path / 'x.db'}")


def test_compare_with_quantiles_on_a_small_table_moves_the_budget_up(tmp_path):
    """A 120-month table gets the 5k budget by the rule; a 3-quantile head cannot be matched within 2% there
    (nearest GRU: 4,878), so the rule moves up to the next budget that fits, as it does for point forecasters,
    instead of failing in the size matching."""
    from rnnzoo.compare import compare
    from rnnzoo.compare.user_data import SeriesOptions

    t = np.arange(120)
    values = 100 + 0.5 * t + 20 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(1).normal(0, 3, 120)
    months = pd.date_range("2010-01-01", periods=120, freq="MS")
    pd.DataFrame({"month": months, "visitors": values}).to_csv(tmp_path / "visits.csv", index=False)
    results = compare(str(tmp_path / "visits.csv"), cells=("gru",), seeds=(0,), max_epochs=1, out_dir=tmp_path / "out",
                      tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", threads=1, classical_baselines=False,
                      quantiles=[0.1, 0.5, 0.9], save_models=False, log=lambda line: None,
                      series_options=SeriesOptions(time_column="month", horizon=6))
    cell = results["cells"]["gru"]
    assert cell["model"] == "quantile-forecaster-gru-10k" and abs(cell["num_params"] / 10_000 - 1) <= 0.02
