"""The seasonal-difference forecaster (normalization="seasonal_difference"): the integration of predicted
differences against a hand-computed example, the seasonal naive start, shift behaviour, refusals, and a small
real run that learns a drift the seasonal naive forecast misses."""

import lightning as L
import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.training import TrainingModule


def test_integration_hand_computed():
    # m = 2, window ... 5 7 (y_{T-1} = 5, y_T = 7), predicted differences d = 1 2 3 4 5:
    # y_{T+1} = y_{T-1} + 1 = 6, y_{T+2} = y_T + 2 = 9, y_{T+3} = y_{T+1} + 3 = 9, y_{T+4} = 9 + 4 = 13,
    # y_{T+5} = 9 + 5 = 14
    model = Forecaster("gru", horizon=5, hidden_size=4, normalization="seasonal_difference", season=2)
    window = torch.tensor([1.0, 2.0, 5.0, 7.0]).view(1, 4, 1)
    d = torch.tensor([1.0, 2, 3, 4, 5]).view(1, 5, 1, 1)
    assert model._integrate(d, window)[0, :, 0, 0].tolist() == [6.0, 9.0, 9.0, 13.0, 14.0]


def test_starts_as_the_seasonal_naive_forecast_and_moves_with_a_shift():
    torch.manual_seed(0)
    model = Forecaster("lstm", horizon=30, hidden_size=8, normalization="seasonal_difference", season=12).eval()
    x = torch.randn(3, 36, 1)
    with torch.no_grad():
        naive = x[:, -12:].repeat(1, 3, 1)[:, :30]
        assert torch.equal(model(x), naive)  # zero head at initialisation: no differences added
        torch.nn.init.normal_(model.head.weight)
        out = model(x)
        # float32 sums of values near 5: 1e-5 is a few ulps
        assert torch.allclose(model(x + 5.0), out + 5.0, atol=1e-5)
        assert not torch.allclose(out, naive)


def test_quantiles_and_gaussian_heads():
    torch.manual_seed(0)
    q = Forecaster("gru", horizon=6, hidden_size=8, normalization="seasonal_difference", season=4,
                   quantiles=[0.1, 0.5, 0.9])
    torch.nn.init.normal_(q.head.weight)
    out = q(torch.randn(2, 12, 1))
    assert out.shape == (2, 6, 1, 3) and bool((out.diff(dim=-1) >= 0).all())
    g = Forecaster("gru", horizon=6, hidden_size=8, normalization="seasonal_difference", season=4, gaussian=True)
    mean, std = g(torch.randn(2, 12, 1))
    assert mean.shape == std.shape == (2, 6, 1) and bool((std > 0).all())


def test_refusals():
    model = Forecaster("gru", horizon=2, hidden_size=4, normalization="seasonal_difference", season=12)
    with pytest.raises(ValueError, match="season=12 needs windows longer than one season"):
        model(torch.ones(1, 12, 1))
    with pytest.raises(ValueError, match="lengths= is not supported"):
        model(torch.ones(2, 30, 1), lengths=[30, 20])
    with pytest.raises(ValueError, match="no num_series"):
        Forecaster("gru", hidden_size=4, normalization="seasonal_difference", season=12, num_series=2)
    with pytest.raises(ValueError, match="season >= 1"):
        Forecaster("gru", hidden_size=4, normalization="seasonal_difference", season=0)


def test_learns_the_drift_the_seasonal_naive_forecast_misses(tmp_path):
    """A seasonal series with a steady rise: the seasonal naive forecast is short by the rise of each season
    ahead; the network only has to learn that constant difference."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    t = np.arange(400)
    series = (0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + 0.2 * rng.standard_normal(400)).astype(np.float32)
    dm = TimeSeriesDataModule(series, input_length=36, horizon=12, season=12, batch_size=32)
    L.seed_everything(0, verbose=False)
    task = TrainingModule({"task": "forecaster", "cell": "gru", "input_size": 1, "horizon": 12, "hidden_size": 16,
                          "normalization": "seasonal_difference", "season": 12}, lr=1e-2)
    trainer = L.Trainer(default_root_dir=tmp_path, max_epochs=5, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(task, datamodule=dm)
    scores = trainer.test(task, datamodule=dm, verbose=False)[0]
    torch.set_num_threads(threads)
    # The seasonal naive forecast's MAE is the season's rise, 0.6, plus noise (MASE 1 by construction); the
    # noise alone (sd 0.2 on both ends of each difference) costs about 0.23 MAE. Below 0.5 MASE: the drift was
    # learned (the untrained model scores 1.0).
    assert scores["test/mase"] < 0.5
    model = task.model
    history = series[:300]
    forecast = model.forecast(history)
    assert forecast.shape == (12,) and np.all(np.abs(forecast - series[300:312]) < 1.5)
    folder = rnnzoo.save_pretrained(model, tmp_path / "sd", preprocessing=model.preprocessing)
    loaded = rnnzoo.load(f"local-dir:{folder}")
    assert loaded.config["season"] == 12
    assert np.allclose(loaded.forecast(history), forecast, rtol=1e-5)


def test_drift_rule():
    from rnnzoo.compare.trend import drifts, trend_strength

    # seasonal differences of 1 2 4 7 with m = 1: 1 2 3, mean 2, std sqrt(2/3) -> 2.449
    assert trend_strength(np.array([1.0, 2, 4, 7]), 1) == pytest.approx(2 / np.sqrt(2 / 3))
    rng = np.random.default_rng(0)
    t = np.arange(240)
    season = 3 * np.sin(2 * np.pi * t / 12)
    assert drifts(0.05 * t + season + 0.2 * rng.standard_normal(240), 12)  # a rise of 0.6 a season, noise 0.28
    assert not drifts(season + 0.2 * rng.standard_normal(240), 12)
    with pytest.raises(ValueError, match="more than season"):
        trend_strength(np.arange(12.0), 12)


def test_compare_chooses_season_and_drift_from_the_data(tmp_path):
    from rnnzoo.compare import compare
    from rnnzoo.data.errors import DataError

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    common = dict(cells=("gru",), seeds=(0,), max_epochs=1, tracking_uri=uri, threads=1, classical_baselines=False,
                  log=lambda line: None)
    co2 = compare("co2", normalization="seasonal_difference", out_dir=tmp_path / "co2", **common)
    sun = compare("sunspots", normalization="seasonal_difference", quantiles=[0.1, 0.5, 0.9],
                  out_dir=tmp_path / "sun", **common)
    co2_model = rnnzoo.load(f"local-dir:{co2['models']['gru']['path']}")
    sun_model = rnnzoo.load(f"local-dir:{sun['models']['gru']['path']}")
    # CO2 rises every year (trend strength 1.8 on its training range), sunspots do not (0.02)
    assert (co2_model.config["season"], co2_model.config.get("drift")) == (12, True)
    assert (sun_model.config["season"], sun_model.config.get("drift")) == (11, None)
    assert co2["runs"][0]["model"] == "sdiff-forecaster-gru-20k"
    assert sun["runs"][0]["model"] == "sdiff-quantile-forecaster-gru-20k"
    assert abs(co2_model.num_parameters / 20_000 - 1) <= 0.02
    with pytest.raises(DataError, match="values <= 0.*seasonal_difference"):  # sunspots has years of no spots
        compare("sunspots", normalization="es", out_dir=tmp_path / "es", **common)


def test_a_verdict_for_the_baseline_suggests_the_other_set_ups(tmp_path):
    from rnnzoo.compare import compare

    # one epoch of the window-relative RNN on sunspots: the seasonal naive forecast (27.9) wins
    out = compare("sunspots", cells=("rnn",), seeds=(0,), max_epochs=1, tracking_uri=f"sqlite:///{tmp_path / 'm.db'}",
                  threads=1, classical_baselines=False, out_dir=tmp_path / "o", save_models=False,
                  log=lambda line: None)
    assert out["verdict"]["recommended"]["kind"] == "baseline"
    text = (tmp_path / "o" / "results.md").read_text()
    assert "`--normalization seasonal_difference` and `--ensemble`" in text
