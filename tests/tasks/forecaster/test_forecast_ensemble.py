"""ForecastEnsemble: the median / mean of its members' raw-unit forecasts, members of different input lengths and
normalisations, and its refusals."""

import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.tasks.base import PreprocessingError
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.tasks.forecaster.ensemble import ForecastEnsemble
from rnnzoo.tasks.forecaster.preprocessing import SeriesScaler


def _member(seed: int, normalization: str, input_length: int, horizon: int = 6, **kw) -> Forecaster:
    torch.manual_seed(seed)
    model = Forecaster("gru", horizon=horizon, hidden_size=8, normalization=normalization, **kw).eval()
    if normalization == "seasonal_difference":
        torch.nn.init.normal_(model.head.weight, std=0.1)  # not the seasonal naive start: members should differ
    model.preprocessing = SeriesScaler(input_length=input_length, horizon=horizon, season=4, series=["s"],
                                       mean=[[10.0]], std=[[2.0]])
    return model


def test_median_and_mean_of_the_members_forecasts():
    members = [_member(0, "last_value", 8), _member(1, "seasonal_difference", 12, season=4),
               _member(2, "last_value", 10, horizon=8)]
    history = 10 + np.sin(np.arange(40) * np.pi / 2) + 0.01 * np.arange(40)
    one = [m.forecast(history, 6) for m in members]  # each member cuts the history to its own input length
    ensemble = ForecastEnsemble(members)
    assert len(ensemble) == 3 and ensemble.horizon == 6 and ensemble.input_length == 12
    assert np.allclose(ensemble.forecast(history), np.median(one, axis=0))
    assert np.allclose(ForecastEnsemble(members, combine="mean").forecast(history), np.mean(one, axis=0))
    many = ensemble.forecast([history, history + 5.0])  # a list of histories: one forecast each
    assert many.shape == (2, 6) and np.allclose(many[0], ensemble.forecast(history))
    assert np.allclose(ensemble.forecast(history, 3), ensemble.forecast(history)[:3])


def test_quantiles_are_combined_level_by_level():
    members = [_member(k, "last_value", 8, quantiles=[0.1, 0.5, 0.9]) for k in range(3)]
    history = 10 + np.cos(np.arange(30))
    bands = ForecastEnsemble(members).forecast(history, quantiles=[0.1, 0.9])
    assert bands.shape == (6, 2)
    assert np.allclose(bands, np.median([m.forecast(history, quantiles=[0.1, 0.9]) for m in members], axis=0))
    assert bool((bands[:, 0] <= bands[:, 1]).all())


def test_refusals(tmp_path):
    member = _member(0, "last_value", 8)
    with pytest.raises(ValueError, match="combine='max'"):
        ForecastEnsemble([member], combine="max")
    with pytest.raises(ValueError, match="at least one"):
        ForecastEnsemble([])
    with pytest.raises(ValueError, match="must be a forecaster"):
        ForecastEnsemble([member, torch.nn.Linear(2, 2)])
    with pytest.raises(PreprocessingError, match="horizon=7"):
        ForecastEnsemble([member]).forecast(np.ones(20), 7)
    with pytest.raises(PreprocessingError, match="pass at least 8 steps"):
        ForecastEnsemble([member]).forecast(np.ones(5))
    folder = rnnzoo.save_pretrained(member, tmp_path / "m", preprocessing=member.preprocessing)
    by_path = ForecastEnsemble([f"local-dir:{folder}", member])  # names / paths rnnzoo.load takes
    assert np.allclose(by_path.forecast(np.arange(20.0)), member.forecast(np.arange(20.0)), atol=1e-5)


def test_members_of_other_series_are_refused(tmp_path):
    co2, sunspots = rnnzoo.load("forecaster-gru-20k.co2"), rnnzoo.load("quantile-forecaster-gru-20k.sunspots")
    with pytest.raises(PreprocessingError, match=r"disagree on series: member 0 \(forecaster-gru-20k\): \['co2'\]; "
                                                 r"member 1 \(quantile-forecaster-gru-20k\): \['sunspots'\].*strict=False"):
        ForecastEnsemble([co2, sunspots])
    ForecastEnsemble([co2, sunspots], strict=False)  # told otherwise
    other_season = _member(1, "last_value", 8)
    other_season.preprocessing.season = 12
    with pytest.raises(PreprocessingError, match="disagree on season"):
        ForecastEnsemble([_member(0, "last_value", 8), other_season])
    folder = ForecastEnsemble([co2]).save_pretrained(tmp_path / "ens")
    (folder / "ensemble.json").write_text("members: [member-0]\n")  # YAML, not JSON
    with pytest.raises(PreprocessingError, match=r"ensemble.json is not an ensemble description \(JSONDecodeError"):
        ForecastEnsemble.from_pretrained(folder)


def test_save_and_load_an_ensemble(tmp_path):
    members = [_member(0, "last_value", 8), _member(1, "seasonal_difference", 12, season=4)]
    ensemble = ForecastEnsemble(members, combine="mean")
    folder = ensemble.save_pretrained(tmp_path / "ens")
    assert sorted(p.name for p in folder.iterdir()) == ["ensemble.json", "member-0", "member-1"]
    loaded = ForecastEnsemble.from_pretrained(folder)
    history = 10 + np.sin(np.arange(30.0))
    assert loaded.combine == "mean" and np.allclose(loaded.forecast(history), ensemble.forecast(history), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="not a saved ForecastEnsemble"):
        ForecastEnsemble.from_pretrained(folder / "member-0")


def test_compare_ranks_the_median_of_the_cells(tmp_path):
    """`compare(..., ensemble=True)`: the median of the cells' forecasts is ranked in the verdict; with one seed its
    test MAE is what ForecastEnsemble of the saved models gives on the raw test windows."""
    from rnnzoo.compare import compare
    from rnnzoo.compare.ensemble import ENSEMBLE
    from rnnzoo.data.splits import chronological_split
    from rnnzoo.data.timeseries import load_builtin_series
    from rnnzoo.data.timeseries.windows import make_windows

    results = compare("co2", cells=("gru", "rnn"), seeds=(0,), max_epochs=1, out_dir=tmp_path / "out",
                      tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", threads=1, classical_baselines=False,
                      ensemble=True, log=lambda line: None)
    ranking = {row["cell"]: row for row in results["verdict"]["ranking"]}
    assert set(ranking) == {"gru", "rnn", ENSEMBLE}
    (row,) = results["ensemble"]
    assert row["members"] == ["gru", "rnn"] and row["seed"] == 0
    values = load_builtin_series("co2")  # (T, 1) ppm
    test = chronological_split(len(values), (0.7, 0.15, 0.15))[2]
    histories, futures = make_windows(values[test.start - 48:test.stop], 48, 24, 1)
    members = [rnnzoo.load(f"local-dir:{results['models'][cell]['path']}") for cell in ("gru", "rnn")]
    forecasts = ForecastEnsemble(members).forecast(list(histories))  # (56, 24) ppm
    mae = float(np.abs(forecasts - futures[..., 0]).mean())
    # float32 scaling of ~360 ppm values on both paths (~3e-5 each) against an MAE of ppm: rel 1e-4
    assert row["test"]["mae"] == pytest.approx(mae, rel=1e-4)
    assert ranking[ENSEMBLE]["mean"] == pytest.approx(mae, rel=1e-4)
    cost = results["verdict"]["cost"][ENSEMBLE]
    assert cost["params"] == sum(results["verdict"]["cost"][c]["params"] for c in ("gru", "rnn"))
    assert ENSEMBLE in (tmp_path / "out" / "results.md").read_text()
    saved = ForecastEnsemble.from_pretrained(results["files"]["ensemble"])  # the saved models' median, ready to use
    assert np.allclose(saved.forecast(list(histories)), forecasts, atol=1e-4)
