"""``rnnzoo compare`` on real data, tiny budgets: the files appear, their numbers are the ones MLflow holds, the
runs hang under one parent run, and the test metrics are those of the best-by-validation checkpoint."""

import json
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

import rnnzoo
import rnnzoo.training
from rnnzoo.compare import compare
from rnnzoo.compare.command import build_parser, compare_main
from rnnzoo.compare.single_run import PARENT_TAG, ROLE_TAG
from rnnzoo.training import TrainingModule


pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One embedded MLflow store for the module (creating a SQLite store's tables takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def co2_run(tmp_path_factory, store):
    """Two cells x two seeds x two epochs of the co2 preset (forecaster-*-20k), logged to an embedded store."""
    out = tmp_path_factory.mktemp("compare-co2")
    uri = store
    results = compare("co2", cells=("gru", "lstm"), seeds=(0, 1), max_epochs=2, out_dir=out, tracking_uri=uri,
                      threads=1, deterministic=True, classical_baselines=False, log=lambda line: None)
    return out, uri, results


def test_says_what_the_baselines_cost_beside_the_networks(co2_run):
    out, _, results = co2_run
    seconds = results["seconds"]
    # the naive, drift and seasonal naive forecasts are scored even without the classical models: a real duration
    assert seconds["baselines"] > 0
    assert seconds["networks"] == pytest.approx(sum(r["fit_seconds"] for r in results["runs"]))
    assert (f"Time: the baselines took {seconds['baselines']:.1f} s to fit and score (every origin included); "
            in (out / "results.md").read_text())  # no searched form: the automatic models were off


def test_writes_table_figure_and_json(co2_run):
    out, _, results = co2_run
    table = (out / "results.md").read_text()
    for cell in ("gru", "lstm"):
        s = results["cells"][cell]
        row = next(line for line in table.splitlines() if line.startswith(f"| {cell} |"))
        mae = s["test"]["mae"]
        assert f"{mae['mean']:.3f} ± {mae['std']:.3f}" in row and f"{s['num_params']:,}" in row
        assert s["test"]["mae"]["values"] == [r["test"]["mae"] for r in results["runs"] if r["cell"] == cell]
        assert abs(s["num_params"] / 20_000 - 1) <= 0.02 and s["seeds"] == [0, 1]
    assert next(line for line in table.splitlines() if line.startswith("| seasonal naive (m=12)"))
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out / "results.json").read_text())
    assert saved["cells"] == results["cells"] and len(saved["runs"]) == 4
    for run in saved["runs"]:
        assert run["curve"]["epoch"] == [1, 2] and run["epochs"] == 2 and 1 <= run["best_epoch"] <= 2
        assert run["best_val"] == min(run["curve"]["value"])  # val/mae: lower is better
    # runs still improving when their epochs ran out are named in results.md (2 epochs: at least one is)
    unfinished = [f"{r['cell']} seed {r['seed']} (2/2)" for r in saved["runs"] if r["best_epoch"] == 2]
    assert unfinished and f"Still improving when stopped (best epoch = last epoch): {', '.join(unfinished)}." in table


def test_seasonal_naive_baseline_is_scored_like_the_networks(co2_run):
    _, _, results = co2_run
    assert set(results["baselines"]) == {"naive", "drift", "seasonal naive (m=12)"}  # CO2's season is found
    naive = results["baselines"]["seasonal naive (m=12)"]
    # MASE divides by the training range's seasonal naive MAE; CO2's trend makes the test range's larger.
    assert naive["mase"] > 1 and naive["rmse"] >= naive["mae"] > 0


def seasonal_naive_scores(datamodule, season: int) -> dict[str, float]:
    """The independent path: the seasonal naive forecast from the DataModule's scaled test windows, unscaled."""
    abs_err = sq_err = scaled = 0.0
    count = 0
    for batch in datamodule.test_dataloader():
        window, target = batch["window"], batch["target"]  # (B, L, F), (B, H, F), scaled
        length, horizon = window.shape[1], target.shape[1]
        if length < season:
            raise ValueError(f"input_length {length} is shorter than the season {season}")
        index = torch.tensor([length - season + (h % season) for h in range(horizon)])
        loc, scale = batch["loc"].unsqueeze(1), batch["scale"].unsqueeze(1)
        pred = window[:, index] * scale + loc
        true = target * scale + loc
        err = (pred - true).abs()
        abs_err += float(err.double().sum())
        sq_err += float((err.double() ** 2).sum())
        scaled += float((err / batch["mase_scale"].unsqueeze(1)).double().sum())
        count += err.numel()
    return {"mae": abs_err / count, "rmse": (sq_err / count) ** 0.5, "mase": scaled / count}


def test_classical_baselines_on_the_same_test_windows():
    from rnnzoo.compare.statistical_baselines import AUTO_MODELS, MEDIAN, statistical_baselines
    from rnnzoo.data import TimeSeriesDataModule
    from rnnzoo.data.timeseries.builtin_series import load_builtin_series

    # stride 12 keeps the per-origin refits to 5 validation + 5 test origins (~15 s)
    dm = TimeSeriesDataModule("co2", input_length=48, horizon=24, stride=12, batch_size=64)
    dm.setup()
    scores = statistical_baselines(load_builtin_series("co2"), dm.proportions, 48, 24, 12, 12)
    # Two independent paths (raw series and origins here, the DataModule's scaled windows there) agree.
    naive = scores.pop("seasonal naive (m=12)")
    assert naive["scores"] == pytest.approx(seasonal_naive_scores(dm, 12), rel=1e-5)
    assert naive["season_strength"][0] > 0.64  # why it is there: STL finds the yearly cycle
    # naive and drift by hand from the raw series at the test origins (the DataModule's test windows)
    values = load_builtin_series("co2")[:, 0].astype(np.float64)
    from rnnzoo.compare.statistical_baselines import split_origins

    origins = split_origins(len(values), dm.proportions, 24, 12)
    truth = np.stack([values[o:o + 24] for o in origins])
    last = values[[o - 1 for o in origins]][:, None]
    slope = np.array([(values[o - 1] - values[0]) / (o - 1) for o in origins])[:, None]
    by_hand = {"naive": np.abs(last - truth).mean(), "drift": np.abs(last + np.arange(1, 25) * slope - truth).mean()}
    for name in ("naive", "drift"):
        assert scores.pop(name)["scores"]["mae"] == pytest.approx(by_hand[name], rel=1e-9)
    assert set(scores) == {*AUTO_MODELS, MEDIAN}
    for name, s in scores.items():  # all model CO2's trend, which the seasonal naive forecast cannot
        assert s["scores"]["mase"] < naive["scores"]["mase"] / 2, name
        # Per-window items: one per test window, summing to the score.
        items = s["items"]["mae"]
        assert len(items["num"]) == len(dm.datasets["test"])
        assert sum(items["num"]) / sum(items["den"]) == pytest.approx(s["scores"]["mae"], rel=1e-9)
    # refitted at every origin: one selection per test origin, none fell back to the naive forecast
    (chosen,) = scores["AutoARIMA"]["chosen"]
    assert sum(chosen.values()) == len(origins) and scores["AutoARIMA"]["fallbacks"] == 0
    assert all(model.endswith("[12]") and ",1)(" in model for model in chosen), chosen  # CO2's cycle: seasonal
    # The median: at the last test origin, by hand from the three models' own forecasts there.
    from rnnzoo.compare.statistical_baselines import fit_and_forecast

    o = origins[-1]
    forecasts = [fit_and_forecast(name, values[:o], 12, 24)[0] for name in AUTO_MODELS]
    by_hand = np.abs(np.median(np.stack(forecasts), axis=0) - values[o:o + 24]).sum()
    assert scores[MEDIAN]["items"]["mae"]["num"][-1] == pytest.approx(by_hand, rel=1e-9)


def test_too_short_a_history_falls_back_to_the_naive_forecast_and_says_so():
    from rnnzoo.baselines.auto_models import FALLBACK, fit_and_forecast, fit_or_fall_back

    with pytest.raises(NotImplementedError):  # statsforecast refuses 5 values for ETS
        fit_and_forecast("AutoETS", np.arange(5.0), 12, 3)
    mean, q, model = fit_or_fall_back(("AutoETS", np.arange(5.0), 12, 3, np.array([0.1, 0.9])))
    assert model == FALLBACK and mean.tolist() == [4.0, 4.0, 4.0] and q.tolist() == [[4.0, 4.0]] * 3


def test_json_numbers_are_what_mlflow_holds(co2_run):
    from mlflow.tracking import MlflowClient

    _, uri, results = co2_run
    client = MlflowClient(tracking_uri=uri)
    parent_id = results["meta"]["parent_run_id"]
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED" and PARENT_TAG not in parent.data.tags
    children = client.search_runs([parent.info.experiment_id], f"tags.`{PARENT_TAG}` = '{parent_id}'")
    assert sorted(c.info.run_id for c in children) == sorted(r["run_id"] for r in results["runs"])
    for run in results["runs"]:
        child = client.get_run(run["run_id"])
        assert child.data.tags[ROLE_TAG] == "run" and child.data.tags["cell"] == run["cell"]
        assert child.data.tags["seed"] == str(run["seed"])
        for key in ("mae", "rmse", "mase"):
            assert child.data.metrics[f"test/{key}"] == pytest.approx(run["test"][key], rel=1e-6)
        assert child.data.metrics["compare/best_val"] == pytest.approx(run["best_val"], rel=1e-6)
        assert child.data.metrics["compare/best_epoch"] == run["best_epoch"]
        history = sorted(client.get_metric_history(run["run_id"], "val/mae"), key=lambda m: m.step)
        assert [m.value for m in history] == pytest.approx(run["curve"]["value"], rel=1e-6)
    for cell, s in results["cells"].items():
        assert parent.data.metrics[f"{cell}/test_mae_mean"] == pytest.approx(s["test"]["mae"]["mean"], rel=1e-6)
    artifacts = {a.path for a in client.list_artifacts(parent_id)}
    assert {"results.md", "results.json", "curves.png"} <= artifacts


def test_test_metrics_come_from_the_best_validation_checkpoint(co2_run):
    _, _, results = co2_run
    from rnnzoo.data import TimeSeriesDataModule

    dm = TimeSeriesDataModule("co2", input_length=48, horizon=24, batch_size=32)  # the preset's settings
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                        default_root_dir=str(co2_run[0] / "reeval"))
    for run in results["runs"]:
        task = TrainingModule.load_from_checkpoint(run["best_checkpoint"], map_location="cpu")
        val = trainer.validate(task, datamodule=dm, verbose=False)[0]
        test = trainer.test(task, datamodule=dm, verbose=False)[0]
        assert val["val/mae"] == pytest.approx(run["best_val"], rel=1e-5)
        for key in ("mae", "rmse", "mase"):
            assert test[f"test/{key}"] == pytest.approx(run["test"][key], rel=1e-5)
    # Each cell's saved folder holds the weights of its best run by validation, not by test.
    for cell, entry in results["models"].items():
        runs = [r for r in results["runs"] if r["cell"] == cell]
        best = min(runs, key=lambda r: r["best_val"])
        assert entry["seed"] == best["seed"] and entry["bytes"] > 0
        # A name no zoo entry has, loaded by its bare path (the folder compare wrote), its run on record.
        assert entry["path"].endswith(f"models/{cell}-seed{best['seed']}")
        assert not rnnzoo.list_models(f"{cell}-seed*")
        loaded = rnnzoo.load(entry["path"])
        run = json.loads((Path(entry["path"]) / "config.json").read_text())["training_run"]
        assert run["mlflow_run_id"] == best["run_id"] and run["seed"] == best["seed"]
        assert run["test"] == best["test"] and run["validation"] == {"val/mae": best["best_val"]}
        card = (Path(entry["path"]) / "README.md").read_text()
        assert best["run_id"] in card and "No training run" not in card
        task = TrainingModule.load_from_checkpoint(best["best_checkpoint"], map_location="cpu")
        for (name, a), b in zip(loaded.state_dict().items(), task.model.state_dict().values()):
            assert torch.equal(a, b), name


def test_lr_search_chooses_by_validation_only(tmp_path, store):
    uri = store
    from rnnzoo.data import TimeSeriesDataModule

    # A DataModule object (not a preset name) and a family: the other way in.
    dm = TimeSeriesDataModule("co2", input_length=48, horizon=24, batch_size=32)
    results = compare(dm, family="forecaster", cells=("gru",), seeds=(0,), max_epochs=1,
                      optimizer="rmsprop", lr_search=2, lr_range=(1e-4, 3e-2), out_dir=tmp_path,
                      tracking_uri=uri, threads=1, deterministic=True, save_models=False, log=lambda line: None)
    search = results["lr_search"]["gru"]  # an Optuna study (tests/compare/test_compare_optuna.py tests it in depth)
    assert all(1e-4 <= t["params"]["lr"] <= 3e-2 for t in search["trials"]) and len(search["runs"]) == 2
    best = min(search["runs"], key=lambda t: t["best_val"])
    assert search["chosen"] == best["lr"] == results["runs"][0]["lr"]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    for trial in search["runs"]:
        child = client.get_run(trial["run_id"])
        assert child.data.tags[ROLE_TAG] == "lr_search"
        assert child.data.tags[PARENT_TAG] == results["meta"]["parent_run_id"]
        assert not any(k.startswith("test/") for k in child.data.metrics) and trial["test"] == {}


def test_command_line_options():
    args = build_parser().parse_args(["--data", "jsb", "--cells", "gru", "peephole-lstm", "--seeds", "0",
                                      "--max-epochs", "3", "--lr-search", "4", "--out", "x"])
    assert args.cells == ["gru", "peephole-lstm"] and args.seeds == [0] and args.lr_search == 4
    with pytest.raises(SystemExit):
        compare_main(["--data", "mnist", "--out", "never-written"])


def test_classical_baselines_can_be_switched_off_from_the_command_line():
    from rnnzoo.compare.command import _run

    def given(argv):  # the options object the command passes to compare()
        return _run(lambda data, options: options, build_parser().parse_args(argv), {}, {}, {})

    assert given(["--data", "co2", "--out", "x"]).classical_baselines is True
    assert given(["--data", "co2", "--out", "x", "--no-classical-baselines"]).classical_baselines is False


def test_init_range_is_refused_outside_the_language_models(capsys):
    with pytest.raises(SystemExit):
        compare_main(["--data", "jsb", "--init-range", "0.1", "--out", "never-written"])
    assert "--init-range applies to --data ptb only" in capsys.readouterr().err


def test_the_plan_says_the_model_options_given_for_every_cell():
    from rnnzoo.compare.plan import plan_lines

    meta = {"data": "ptb", "datamodule": "WordLMDataModule", "budget": "4600k", "cells": ["peephole_lstm"],
            "seeds": [0], "settings": {"optimizer": "sgd", "lr": 20.0, "max_epochs": 13, "patience": 0}}
    assert not any("model options" in line for line in plan_lines(meta, "out"))
    meta["settings"]["model_overrides"] = {"init_range": 0.1}
    assert 'model options for every cell: {"init_range": 0.1} (--dropout, --init-range, --forget-bias)' in plan_lines(meta, "out")


def test_models_are_parameter_matched_at_any_budget():
    from rnnzoo.compare.models import resolve_models

    registered = resolve_models("pianoroll", budget="20k", cells=("rnn", "peephole-lstm"))
    assert [m.model for m in registered] == ["pianoroll-rnn-20k", "pianoroll-peephole-lstm-20k"]
    sized = resolve_models("pianoroll", budget="300k")
    assert [m.cell for m in sized] == ["rnn", "lstm", "peephole_lstm", "gru"]
    for m in sized:
        assert abs(m.num_params / 300_000 - 1) <= 0.02 and m.model["num_pitches"] == 88
        assert rnnzoo.training.build_task_model(m.model).num_parameters == m.num_params
    with pytest.raises(ValueError, match="unknown cell"):
        resolve_models("pianoroll", cells=("lstmm",))


def test_a_second_comparison_never_touches_the_first(co2_run, tmp_path, monkeypatch):
    from rnnzoo.compare.comparison import CompareOptionError, default_out_dir

    out, uri, _ = co2_run
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(CompareOptionError, match=r"already holds a comparison \(results.json, results.md, "
                                                 r"comparison.json, runs, models, baselines\); nothing was "
                                                 r"changed.*--overwrite"):
        compare("co2", cells=("gru",), seeds=(0,), max_epochs=1, out_dir=out, tracking_uri=uri, threads=1,
                classical_baselines=False, log=lambda line: None)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    with pytest.raises(SystemExit):  # the command says the same and exits 2
        compare_main(["--data", "co2", "--out", str(out), "--tracking-uri", uri])
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    monkeypatch.chdir(tmp_path)  # without --out: a new folder per comparison, even two in the same second
    first = default_out_dir("co2", now=0)
    first.mkdir(parents=True)
    second = default_out_dir("co2", now=0)
    assert first.parent == second.parent == Path("runs/compare") and first.name.startswith("co2-")
    assert second.name == first.name + "-2"
    assert default_out_dir(str(tmp_path / "my sales.csv")).name.startswith("my_sales.csv-")
