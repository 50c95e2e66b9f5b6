"""``rnnzoo compare --ema DECAY``: each run keeps an exponential moving average of its weights (Lightning's
EMAWeightAveraging), and validation, the best checkpoint, the test metrics and the saved model are the average's;
``--dropout P`` sets every cell's dropout; ``--weight-noise SIGMA`` trains each step at noisy weights
(tests/training/test_weight_noise.py tests the callback itself)."""

import json

import lightning as L
import pytest
import torch

import rnnzoo
from rnnzoo.compare import compare
from rnnzoo.compare.command import _run, build_parser, compare_main
from rnnzoo.data import TimeSeriesDataModule
from rnnzoo.training import TrainingModule

pytestmark = pytest.mark.slow  # a real training run


def given(argv):
    """The options object the command passes to compare()."""
    return _run(lambda data, options: options, build_parser().parse_args(argv), {}, {}, {"dropout": 0.2})


def test_the_command_passes_ema_and_dropout():
    options = given(["--data", "co2", "--ema", "0.995", "--dropout", "0.2", "--weight-noise", "0.075"])
    assert options.ema == 0.995 and options.model_overrides == {"dropout": 0.2} and options.weight_noise == 0.075
    assert given(["--data", "co2"]).ema is None and given(["--data", "co2"]).weight_noise is None


@pytest.mark.parametrize("argv, message", [
    (["--ema", "1"], "--ema: 1.0 is not allowed: give a number from 0 up to, not including, 1"),
    (["--dropout", "-0.1"], "--dropout: -0.1 is not allowed"),
    (["--weight-noise", "-1"], "--weight-noise: -1.0 is not allowed: give a finite number, 0 or above"),
    (["--dropout", "0.2", "--lr-search", "2", "--dropout-range", "0", "0.5"], "--dropout and --dropout-range"),
])
def test_the_command_refuses_bad_values(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        compare_main(["--data", "co2", "--out", "never-written", *argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare-ema")
    lines = []
    results = compare("co2", cells=("gru",), seeds=(0,), max_epochs=3, patience=0, ema=0.9, weight_noise=0.01,
                      threads=1,
                      deterministic=True, classical_baselines=False, out_dir=out,
                      tracking_uri=f"sqlite:///{out / 'mlflow.db'}", log=lines.append)
    return out, results, lines


def test_the_plan_and_the_notes_say_the_weights_are_averaged_and_noisy(ema_run):
    out, _, lines = ema_run
    report = (out / "results.md").read_text()
    for said in ("weights: an exponential moving average, decay 0.9 per step (--ema)",
                 "weight noise in training: Gaussian, standard deviation 0.01 (--weight-noise)"):
        assert any(said in line for line in lines) and said in report
    assert "exponential moving average with decay 0.9 per step" in report
    assert "Weight noise in training: each step at the weights plus N(0, 0.01²)" in report


def test_the_best_checkpoint_holds_the_average_and_the_test_metrics_are_its(ema_run):
    out, results, _ = ema_run
    run = results["runs"][0]
    checkpoint = torch.load(run["best_checkpoint"], map_location="cpu", weights_only=False)
    # Lightning's callback stores the average as the state dict and the trained weights beside it
    averaged, trained = checkpoint["state_dict"], checkpoint["current_model_state"]
    assert any(not torch.equal(averaged[k], trained[k]) for k in averaged)
    task = TrainingModule.load_from_checkpoint(run["best_checkpoint"], map_location="cpu")
    assert all(torch.equal(v, averaged[f"model.{k}"]) for k, v in task.model.state_dict().items())
    dm = TimeSeriesDataModule("co2", input_length=48, horizon=24, batch_size=32)  # the preset's settings
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                        enable_checkpointing=False, default_root_dir=str(out / "reeval"))
    val = trainer.validate(task, datamodule=dm, verbose=False)[0]
    test = trainer.test(task, datamodule=dm, verbose=False)[0]
    # the same weights and data in the same process: only summation order may differ
    assert val["val/mae"] == pytest.approx(run["best_val"], rel=1e-5)
    assert test["test/mae"] == pytest.approx(run["test"]["mae"], rel=1e-5)
    saved = rnnzoo.load(results["models"]["gru"]["path"])
    assert all(torch.equal(v, task.model.state_dict()[k]) for k, v in saved.state_dict().items())
    assert json.loads((out / "results.json").read_text())["meta"]["settings"]["ema"] == 0.9
    assert json.loads((out / "results.json").read_text())["meta"]["settings"]["weight_noise"] == 0.01


def test_a_presets_regularisers_apply_unless_given_or_searched():
    import dataclasses

    from rnnzoo.compare.options import CompareOptions
    from rnnzoo.compare.planner import _train_settings
    from rnnzoo.compare.presets import PRESETS

    preset = dataclasses.replace(PRESETS["jsb"], dropout=0.2, ema=0.9, weight_noise=0.05)
    plain = _train_settings(preset, CompareOptions())
    assert (plain.ema, plain.weight_noise, plain.model_overrides) == (0.9, 0.05, {"dropout": 0.2})
    off = _train_settings(preset, CompareOptions(ema=0, weight_noise=0, model_overrides={"dropout": 0.0}))
    assert not off.ema and not off.weight_noise and off.model_overrides == {"dropout": 0.0}
    searched = _train_settings(preset, CompareOptions(lr_search=2, dropout_range=(0.0, 0.5)))
    assert searched.model_overrides is None  # the search's dropout is not overridden by the preset's
    other = _train_settings(preset, CompareOptions(model_overrides={"init_range": 0.1}))
    assert other.model_overrides == {"dropout": 0.2, "init_range": 0.1}


def test_a_presets_per_cell_settings_apply_where_no_option_is_given():
    import dataclasses

    from rnnzoo.compare.options import CompareOptions
    from rnnzoo.compare.planner import _train_settings
    from rnnzoo.compare.plan import describe_cell_settings
    from rnnzoo.compare.presets import PRESETS

    preset = dataclasses.replace(PRESETS["jsb"], dropout=0.2, ema=0.9, weight_noise=0.05, cell_settings={
        "rnn": {"lr": 2.5e-3, "dropout": 0.0, "ema": 0.0, "weight_noise": 0.0}})
    settings = _train_settings(preset, CompareOptions(model_overrides={"init_range": 0.1}))
    rnn, gru = settings.for_cell("rnn"), settings.for_cell("gru")
    assert (rnn.lr, rnn.ema, rnn.weight_noise, rnn.model_overrides) == (2.5e-3, 0.0, 0.0, {"dropout": 0.0,
                                                                                          "init_range": 0.1})
    assert (gru.lr, gru.ema, gru.weight_noise) == (preset.lr, 0.9, 0.05)
    assert gru.model_overrides == {"dropout": 0.2, "init_range": 0.1} and rnn.cell_settings is None
    assert describe_cell_settings(settings.cell_settings) == (
        "rnn: lr 0.0025, dropout 0, no weight averaging, no weight noise")
    # an option given on the command line applies to every cell: the preset's per-cell value gives way
    given = _train_settings(preset, CompareOptions(lr=1e-3, weight_noise=0.1, model_overrides={"dropout": 0.3}))
    assert given.cell_settings == {"rnn": {"ema": 0.0}}
    assert (given.for_cell("rnn").lr, given.for_cell("rnn").weight_noise) == (1e-3, 0.1)


def test_compare_trains_each_cell_with_its_own_settings(tmp_path, monkeypatch):
    import dataclasses

    from rnnzoo.compare import presets

    monkeypatch.setitem(presets.PRESETS, "co2", dataclasses.replace(
        presets.PRESETS["co2"], cell_settings={"gru": {"lr": 5e-3, "ema": 0.9}}))
    lines = []
    results = compare("co2", cells=("rnn", "gru"), seeds=(0,), max_epochs=1, patience=0, threads=1,
                      classical_baselines=False, save_models=False, out_dir=tmp_path / "out",
                      tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", log=lines.append)
    assert {r["cell"]: r["lr"] for r in results["runs"]} == {"rnn": 1e-3, "gru": 5e-3}
    said = "except, per cell (the dataset's settings where one does not suit every cell"
    assert any(said in line and "gru: lr 0.005, weight averaging decay 0.9" in line for line in lines)
    gru = next(r for r in results["runs"] if r["cell"] == "gru")
    assert "current_model_state" in torch.load(gru["best_checkpoint"], map_location="cpu", weights_only=False)
    rnn = next(r for r in results["runs"] if r["cell"] == "rnn")
    assert "current_model_state" not in torch.load(rnn["best_checkpoint"], map_location="cpu", weights_only=False)
