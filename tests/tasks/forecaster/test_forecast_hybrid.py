"""The ES-RNN-style hybrid forecaster (normalization="es"): the Holt-Winters recursion against a hand-computed
example, its scale behaviour, per-series coefficients, its refusals, and a small real run on two series with a
past covariate."""

import lightning as L
import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.data.timeseries import TimeSeriesDataModule, load_builtin_series
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.tasks.forecaster.smoothing import HoltWinters
from rnnzoo.training import TrainingModule


def test_holt_winters_recursion_hand_computed():
    # y = 2 4 3 6 4 8, m = 2, alpha = gamma = sigmoid(0) = 0.5. Start: l_1 = (2 + 4) / 2 = 3, s_0 = 2/3, s_1 = 4/3.
    # t=2: l = .5*3/(2/3) + .5*3 = 3.75;         s_2 = .5*3/3.75 + .5*(2/3) = 0.733333
    # t=3: l = .5*6/(4/3) + .5*3.75 = 4.125;     s_3 = .5*6/4.125 + .5*(4/3) = 1.393939
    # t=4: l = .5*4/0.733333 + .5*4.125 = 4.789773;   s_4 = .5*4/4.789773 + .5*0.733333 = 0.784223
    # t=5: l = .5*8/1.393939 + .5*4.789773 = 5.264452; s_5 = .5*8/5.264452 + .5*1.393939 = 1.456783
    smoothing = HoltWinters(num_series=1, channels=1, season=2)
    y = torch.tensor([2.0, 4, 3, 6, 4, 8]).view(1, 6, 1)
    level, seasonal = smoothing(y, torch.tensor([0]))
    assert level.item() == pytest.approx(5.264452, abs=1e-5)
    assert seasonal[0, :, 0].tolist() == pytest.approx([2 / 3, 4 / 3, 0.733333, 1.393939, 0.784223, 1.456783],
                                                       abs=1e-5)
    # season 1: simple exponential smoothing, l_0 = y_0 = 2, l_1 = .5*4 + .5*2 = 3, l_2 = .5*1 + .5*3 = 2
    level, seasonal = HoltWinters(1, 1, 1)(torch.tensor([2.0, 4, 1]).view(1, 3, 1), torch.tensor([0]))
    assert level.item() == pytest.approx(2.0) and bool((seasonal == 1).all())


@pytest.mark.parametrize("season", [1, 2])
def test_the_exported_scan_is_the_recursion(season):
    # While torch.export traces, the smoothing runs as one torch scan (a loop over a symbolic length): the exported
    # program, run on the hand-checked series above and on random per-series data of other lengths and batch
    # sizes, equals the Python loop. Same operations in the same order: equal to float32 rounding.
    class Smooth(torch.nn.Module):
        def __init__(self, smoothing):
            super().__init__()
            self.smoothing = smoothing

        def forward(self, y, series):
            return self.smoothing(y, series)

    generator = torch.Generator().manual_seed(0)
    smoothing = HoltWinters(num_series=2, channels=1, season=season)
    with torch.no_grad():
        smoothing.alpha_logit.normal_(generator=generator)
        if smoothing.gamma_logit is not None:
            smoothing.gamma_logit.normal_(generator=generator)
    batch, time = torch.export.Dim("batch"), torch.export.Dim("time", min=season + 2)
    example = (0.5 + torch.rand(3, 9, 1, generator=generator), torch.tensor([0, 1, 0]))
    program = torch.export.export(Smooth(smoothing).eval(), example, dynamic_shapes=({0: batch, 1: time}, {0: batch}),
                                  strict=False).module()
    for y, series in [(torch.tensor([2.0, 4, 3, 6, 4, 8]).view(1, 6, 1), torch.tensor([1])),
                      (0.5 + torch.rand(5, 11, 1, generator=generator), torch.tensor([0, 1, 1, 0, 1]))]:
        with torch.no_grad():
            for got, expected in zip(program(y, series), smoothing(y, series)):
                torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)


def test_hybrid_scales_with_the_series():
    """Multiplicative: the network reads y / (level * season), so scaling the series scales the forecast."""
    torch.manual_seed(0)
    model = Forecaster("gru", horizon=5, hidden_size=8, normalization="es", season=4, quantiles=[0.1, 0.5, 0.9])
    model.eval()
    x = 10 + torch.rand(3, 12, 1) * 5
    with torch.no_grad():
        out, scaled = model(x), model(7.0 * x)
    assert out.shape == (3, 5, 1, 3) and bool((out.diff(dim=-1) >= 0).all())
    assert torch.allclose(scaled, 7.0 * out, rtol=1e-4)


def test_per_series_coefficients():
    torch.manual_seed(0)
    model = Forecaster("lstm", horizon=3, hidden_size=8, normalization="es", season=2, num_series=2).eval()
    with torch.no_grad():
        model.smoothing.alpha_logit[1] = 3.0
        x = (5 + torch.rand(1, 10, 1)).expand(2, 10, 1)
        out = model(x, series=torch.tensor([0, 1]))
    assert not torch.allclose(out[0], out[1])
    assert model.num_parameters == Forecaster("lstm", horizon=3, hidden_size=8).num_parameters + 4  # 2 a + 2 g
    with pytest.raises(ValueError, match="series must hold one id in 0..1"):
        model(x, series=torch.tensor([0, 2]))


def test_hybrid_refusals():
    model = Forecaster("gru", horizon=2, hidden_size=4, normalization="es", season=12)
    with pytest.raises(ValueError, match="every target value must be > 0.*last_value"):
        model(torch.tensor([[1.0, 2.0, 0.0] * 6]).view(1, 18, 1))
    with pytest.raises(ValueError, match="season=12 is longer than the window"):
        model(torch.ones(1, 8, 1))
    with pytest.raises(ValueError, match="Gaussian"):
        Forecaster("gru", hidden_size=4, normalization="es", gaussian=True)
    with pytest.raises(ValueError, match="season belongs to normalization='es' or 'seasonal_difference'"):
        Forecaster("gru", hidden_size=4, season=12)


def test_registered_family_and_point_config_unchanged():
    model = rnnzoo.create_model("esrnn-gru-20k")
    assert model.config["normalization"] == "es" and model.config["season"] == 12
    assert abs(model.num_parameters / 20_000 - 1) <= 0.02
    assert "season" not in rnnzoo.create_model("forecaster-gru-20k").config


def test_hybrid_learns_two_series_with_a_covariate(tmp_path):
    """Two positive monthly series (CO2, and CO2 x 3 with a phase shift), one past covariate each; trained jointly."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    co2 = load_builtin_series("co2")[:, 0]
    month = (np.arange(len(co2)) % 12).astype(np.float32)
    a = np.stack([co2, month], 1)
    b = np.stack([3 * np.roll(co2, 3), month], 1)
    dm = TimeSeriesDataModule([a, b], input_length=24, horizon=6, num_targets=1, season=12, batch_size=64)
    L.seed_everything(0, verbose=False)
    task = TrainingModule({"task": "forecaster", "cell": "gru", "input_size": 2, "output_size": 1, "horizon": 6,
                          "hidden_size": 16, "normalization": "es", "season": 12, "num_series": 2,
                          "quantiles": [0.1, 0.5, 0.9]}, lr=1e-2)
    before = task.model.smoothing.alpha_logit.detach().clone()
    trainer = L.Trainer(default_root_dir=tmp_path, max_epochs=3, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(task, datamodule=dm)
    scores = trainer.test(task, datamodule=dm, verbose=False)[0]
    torch.set_num_threads(threads)
    model = task.model
    assert not torch.equal(before, model.smoothing.alpha_logit)  # learned with the network
    assert np.isfinite(scores["test/mase"]) and scores["test/mase"] < 3
    assert 0 <= scores["test/coverage"] <= 1
    history = b[:300]
    forecast = model.forecast(history, series=1, quantiles=[0.5])
    assert forecast.shape == (6, 1) and np.all(np.abs(forecast[:, 0] / (3 * co2[297:303]) - 1) < 0.2)
    folder = rnnzoo.save_pretrained(model, tmp_path / "es", preprocessing=model.preprocessing)
    loaded = rnnzoo.load(f"local-dir:{folder}")
    assert np.allclose(loaded.forecast(history, series=1, quantiles=[0.5]), forecast, rtol=1e-5)
