"""Calibrated prediction intervals (conformalized quantile regression on the validation split): the score and the
rank rule by hand, the coverage guarantee on the calibration windows and close to nominal on a fresh draw, the
narrowing of an interval that over-covers, the refusals, the buffer's round trip through save/load and checkpoints,
the end-of-fit callback, and ``rnnzoo compare`` testing calibrated intervals."""

import warnings

import lightning as L
import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.tasks.forecaster import Forecaster
from rnnzoo.tasks.forecaster.calibration import (
    calibrate_intervals, conformal_offset, conformal_rank, conformity_scores, min_windows, symmetric_pairs,
)
from rnnzoo.training import TrainingModule
from rnnzoo.training.callbacks import CalibrateIntervals

HORIZON = 3


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def noise_datamodule(seed: int, steps: int = 2000, **kwargs) -> TimeSeriesDataModule:
    """White noise N(0, 1): for a fixed horizon step, the targets of different windows are distinct i.i.d. values,
    so the calibration windows are exactly exchangeable with new ones (the setting of CQR's guarantee)."""
    values = np.random.default_rng(seed).normal(size=steps).astype(np.float32)
    dm = TimeSeriesDataModule(values, input_length=4, horizon=HORIZON, batch_size=256,
                              proportions=kwargs.pop("proportions", (0.5, 0.25, 0.25)), **kwargs)
    dm.setup("fit")
    return dm


def constant_model(half_width: float, levels=(0.1, 0.5, 0.9)) -> Forecaster:
    """A calibrated-ready forecaster whose quantiles are the constants -w, 0, +w (scaled units) whatever the
    window: the head's weights are zero, its bias gives them (laid out (horizon, output, Q))."""
    model = Forecaster("gru", horizon=HORIZON, hidden_size=4, quantiles=list(levels), calibrated=True)
    per_step = {0.1: -half_width, 0.5: 0.0, 0.9: half_width}
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([per_step.get(t, 0.0) for t in model.quantiles] * HORIZON))
    return model


def coverage(model: Forecaster, loader) -> float:
    inside = []
    with torch.no_grad():
        for batch in loader:
            q = model(batch["window"])
            inside.append(((q[..., 0] <= batch["target"]) & (batch["target"] <= q[..., -1])).float().flatten())
    return float(torch.cat(inside).mean())


# ---------------------------------------------------------------------------------------------- the rule by hand
def test_score_and_rank_rule_hand_computed():
    # interval [0, 1]; 9 truths -> scores max(0 - y, y - 1):
    # y   -0.5  0.2  0.5  1.3  0.9  -0.1  2.0  0.4  1.1
    # E    0.5 -0.2 -0.5  0.3 -0.1   0.1  1.0 -0.4  0.1
    # sorted: -0.5 -0.4 -0.2 -0.1 0.1 0.1 0.3 0.5 1.0
    y = torch.tensor([-0.5, 0.2, 0.5, 1.3, 0.9, -0.1, 2.0, 0.4, 1.1])
    scores = conformity_scores(torch.zeros(9), torch.ones(9), y)
    assert scores.tolist() == pytest.approx([0.5, -0.2, -0.5, 0.3, -0.1, 0.1, 1.0, -0.4, 0.1])
    # 80% (alpha 0.2): rank ceil(10 * 0.8) = 8 -> the 8th smallest, 0.5 (not 9 through 1 - 0.2's float error)
    assert conformal_rank(9, 0.2) == conformal_rank(9, 2 * 0.1) == 8
    assert conformal_offset(scores, 0.2).item() == pytest.approx(0.5)
    # 90% (alpha 0.1): rank ceil(10 * 0.9) = 9 -> the largest, 1.0
    assert conformal_offset(scores, 0.1).item() == pytest.approx(1.0)
    # 3 scores at 80%: rank ceil(4 * 0.8) = 4 > 3 -> the maximum (documented fallback)
    assert conformal_rank(3, 0.2) == 4 and conformal_offset(scores[:3], 0.2).item() == pytest.approx(0.5)
    # per horizon step: the rule runs along the first (window) axis only
    two = torch.stack([scores, scores + 1], dim=1)  # (9, 2)
    assert conformal_offset(two, 0.2).tolist() == pytest.approx([0.5, 1.5])
    assert [min_windows(a) for a in (0.2, 0.1, 0.05)] == [4, 9, 19]


def test_symmetric_pairs():
    assert symmetric_pairs([0.1, 0.5, 0.9]) == [(0, 2)]
    assert symmetric_pairs([0.05, 0.1, 0.5, 0.9, 0.95]) == [(0, 4), (1, 3)]
    assert symmetric_pairs([0.1, 0.25, 0.5, 0.9]) == [(0, 3)]  # 0.25 has no 0.75: left alone
    assert symmetric_pairs([0.1, 0.5]) == []


# ------------------------------------------------------------------------------------------------ calibration
def test_too_narrow_intervals_are_widened_to_nominal_coverage():
    dm = noise_datamodule(seed=0)
    model = constant_model(0.3)  # covers about 24% of N(0, 1)
    summary = calibrate_intervals(model, dm)
    (pair,) = summary["pairs"]
    n = summary["n_windows"]
    assert n == len(dm.datasets["val"]) == 498 and pair["levels"] == [0.1, 0.9] and pair["rank"] == 400  # ceil(499 * 0.8) = ceil(399.2)
    assert pair["coverage_before"] < 0.35
    # the conformal guarantee on the calibration windows themselves: at least rank / n of each step's scores are
    # <= its offset, and rank / n >= 1 - alpha (ties could only add)
    assert pair["coverage_after"] >= 0.8 and coverage(model, dm.val_dataloader()) == pytest.approx(
        pair["coverage_after"], abs=1e-6)
    offsets = model.interval_offsets[:, 0]  # (H, Q): -Q, 0, +Q
    assert bool((offsets[:, 1] == 0).all()) and torch.allclose(offsets[:, 0], -offsets[:, 2])
    # the offsets make the interval about the N(0, 1) 80% interval, +-1.28 (scaled by the training std ~ 1)
    assert (0.3 + offsets[:, 2]).tolist() == pytest.approx([1.28] * HORIZON, abs=0.15)
    # A fresh draw from the same distribution: the coverage is about 80%. Given the calibration windows the
    # coverage is random with sd about sqrt(0.8 * 0.2 / 498) = 0.018, and the fresh test windows (~500 per step)
    # add about as much; 0.06 is more than two combined sds (the seeds are fixed: the value itself does not move).
    fresh = noise_datamodule(seed=1)
    assert coverage(model, fresh.test_dataloader()) == pytest.approx(0.8, abs=0.06)
    # recalibrating starts from the network's own quantiles: the same offsets again
    before = model.interval_offsets.clone()
    assert calibrate_intervals(model, dm)["pairs"][0]["coverage_before"] == pair["coverage_before"]
    assert torch.equal(model.interval_offsets, before)


def test_over_covering_intervals_are_narrowed():
    dm = noise_datamodule(seed=0)
    model = constant_model(3.0)  # covers about 99.7%
    (pair,) = calibrate_intervals(model, dm)["pairs"]
    assert pair["coverage_before"] > 0.99 and pair["offset_max"] < 0 and 0.8 <= pair["coverage_after"] < 0.85
    assert bool((model.interval_offsets[..., 2] < -1.5).all())  # about 1.28 - 3 = -1.72
    with torch.no_grad():
        q = model(torch.zeros(2, 4, 1))
    assert bool((q.diff(dim=-1) >= 0).all())  # still non-crossing


def test_offsets_keep_quantiles_sorted_when_they_cross():
    model = constant_model(0.5)
    with torch.no_grad():
        model.interval_offsets[..., 0] = 2.0  # pushes the 0.1 level above the median: sorted again
        q = model(torch.zeros(1, 4, 1))
    assert q[0, 0, 0].tolist() == pytest.approx([0.0, 0.5, 1.5])


# --------------------------------------------------------------------------------------------------- refusals
def test_refusals():
    dm = noise_datamodule(seed=0)
    with pytest.raises(ValueError, match="needs a quantile head"):
        Forecaster("gru", hidden_size=4, calibrated=True)
    with pytest.raises(ValueError, match="point forecaster"):
        calibrate_intervals(Forecaster("gru", hidden_size=4, horizon=HORIZON), dm)
    with pytest.raises(ValueError, match="without calibrated=True.*load_state_dict"):
        calibrate_intervals(Forecaster("gru", hidden_size=4, horizon=HORIZON, quantiles=[0.1, 0.5, 0.9]), dm)
    with pytest.raises(ValueError, match="no symmetric pair"):
        calibrate_intervals(Forecaster("gru", hidden_size=4, horizon=HORIZON, quantiles=[0.1, 0.5],
                                       calibrated=True), dm)
    with pytest.raises(ValueError, match="validation split"):
        calibrate_intervals(constant_model(0.3), dm, split="test")
    # 100 steps: a validation range of 15 steps gives 13 windows; a 96% interval needs 24
    small = noise_datamodule(seed=0, steps=100, proportions=(0.7, 0.15, 0.15))
    model = constant_model(0.3, levels=(0.02, 0.5, 0.98))
    with pytest.raises(ValueError, match=r"has 13 windows.*needs at least 24 \(n >= 1/alpha - 1"):
        calibrate_intervals(model, small)
    assert bool((model.interval_offsets == 0).all())  # nothing half-written


# ------------------------------------------------------------------------------------------------ persistence
def test_calibrated_model_round_trips_through_save_and_load(tmp_path):
    dm = noise_datamodule(seed=0)
    model = constant_model(0.3)
    model.preprocessing = dm.preprocessing
    calibrate_intervals(model, dm)
    assert model.config["calibrated"] is True
    folder = rnnzoo.save_pretrained(model, tmp_path / "m")
    loaded = rnnzoo.load(f"local-dir:{folder}")  # strict keys: the buffer is in the file and in the model
    assert torch.equal(loaded.interval_offsets, model.interval_offsets)
    history = np.random.default_rng(3).normal(size=10)
    assert np.allclose(loaded.forecast(history, quantiles=[0.1, 0.9]), model.forecast(history, quantiles=[0.1, 0.9]))
    # a model without the flag: no buffer, no key (the bundled weights load unchanged, strictly)
    assert "calibrated" not in Forecaster("gru", quantiles=[0.1, 0.5, 0.9]).config
    bundled = rnnzoo.load("forecaster-gru-20k.co2")
    assert not hasattr(bundled, "interval_offsets") and "calibrated" not in bundled.config


def test_callback_calibrates_at_the_end_of_fit_and_rewrites_the_best_checkpoint(tmp_path):
    L.seed_everything(0, verbose=False)
    dm = noise_datamodule(seed=0)
    task = TrainingModule({"task": "forecaster", "cell": "gru", "horizon": HORIZON, "hidden_size": 4,
                          "quantiles": [0.1, 0.5, 0.9]}, model_overrides={"calibrated": True}, lr=1e-2)
    callback = CalibrateIntervals()
    trainer = L.Trainer(default_root_dir=tmp_path, max_epochs=2, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[callback], accelerator="cpu")
    trainer.fit(task, datamodule=dm)
    assert callback.summary["pairs"][0]["coverage_after"] >= 0.8
    assert callback.checkpoint_summary["pairs"][0]["coverage_after"] >= 0.8
    assert bool((task.model.interval_offsets != 0).any())
    best = TrainingModule.load_from_checkpoint(trainer.checkpoint_callback.best_model_path, map_location="cpu")
    # the checkpoint's offsets are those of its own weights: calibrating it again gives the same
    stored = best.model.interval_offsets.clone()
    assert bool((stored != 0).any())
    calibrate_intervals(best, dm)
    assert torch.allclose(best.model.interval_offsets, stored, atol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = trainer.test(best, datamodule=dm, verbose=False)[0]
    assert scores["test/coverage"] == pytest.approx(0.8, abs=0.06)  # white noise: exchangeable, see above
    assert not [w for w in caught if "never calibrated" in str(w.message)]
    # last.ckpt, the resume point, is saved before the calibration: testing it says so instead of passing its raw
    # coverage off as calibrated
    with pytest.warns(UserWarning, match=r"never calibrated.*test the best checkpoint"):
        trainer.test(task, datamodule=dm, ckpt_path=str(tmp_path / "checkpoints" / "last.ckpt"), verbose=False)


# --------------------------------------------------------------------------------------------- rnnzoo compare
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One embedded MLflow store for the comparisons (creating a SQLite store's tables takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def test_compare_tests_calibrated_intervals(tmp_path, store):
    from rnnzoo.compare import compare

    results = compare("co2", cells=("gru",), seeds=(0,), max_epochs=2, out_dir=tmp_path, tracking_uri=store,
                      threads=1, deterministic=True, classical_baselines=False, quantiles=[0.1, 0.5, 0.9],
                      log=lambda line: None)
    (run,) = results["runs"]
    test, calibration = run["test"], run["calibration"]
    assert calibration["split"] == "val" and calibration["pairs"][0]["coverage_after"] >= 0.8
    assert {"coverage", "coverage_raw", "pinball", "pinball_raw"} <= set(test)
    assert test["coverage"] != test["coverage_raw"]
    # the calibrated best checkpoint gives the reported test metrics; with its offsets zeroed, the raw ones
    from rnnzoo.data import TimeSeriesDataModule

    dm = TimeSeriesDataModule("co2", input_length=48, horizon=24, batch_size=32)  # the preset's settings
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                        default_root_dir=str(tmp_path / "reeval"))
    task = TrainingModule.load_from_checkpoint(run["best_checkpoint"], map_location="cpu")
    assert task.model.calibrated and bool((task.model.interval_offsets != 0).any())
    assert trainer.test(task, datamodule=dm, verbose=False)[0]["test/coverage"] == pytest.approx(test["coverage"])
    task.model.interval_offsets.zero_()
    raw = trainer.test(task, datamodule=dm, verbose=False)[0]
    assert raw["test/coverage"] == pytest.approx(test["coverage_raw"])
    assert raw["test/pinball"] == pytest.approx(test["pinball_raw"], rel=1e-5)
    # the saved model holds the calibrated buffer
    saved = rnnzoo.load(f"local-dir:{results['models']['gru']['path']}")
    best = TrainingModule.load_from_checkpoint(run["best_checkpoint"], map_location="cpu")
    assert torch.equal(saved.interval_offsets, best.model.interval_offsets)
    table = (tmp_path / "results.md").read_text()
    assert "test coverage_raw" in table and "conformalized quantile regression" in table
    # MLflow holds the calibrated coverage and the raw one
    from mlflow.tracking import MlflowClient

    metrics = MlflowClient(tracking_uri=store).get_run(run["run_id"]).data.metrics
    assert metrics["test/coverage"] == pytest.approx(test["coverage"])
    assert metrics["test/coverage_raw"] == pytest.approx(test["coverage_raw"])


def test_compare_without_calibration(tmp_path, store):
    from rnnzoo.compare import compare
    from rnnzoo.compare.command import _run, build_parser

    results = compare("co2", cells=("gru",), seeds=(0,), max_epochs=1, out_dir=tmp_path, tracking_uri=store,
                      threads=1, deterministic=True, classical_baselines=False, quantiles=[0.1, 0.5, 0.9],
                      calibrate=False, log=lambda line: None)
    (run,) = results["runs"]
    assert "coverage" in run["test"] and "coverage_raw" not in run["test"] and run["calibration"] == {}
    assert "calibrated" not in rnnzoo.load(f"local-dir:{results['models']['gru']['path']}").config

    def given(argv):  # the options object the command passes to compare()
        return _run(lambda data, options: options, build_parser().parse_args(argv), {}, {}, {})

    assert given(["--data", "co2", "--quantiles", "0.1", "0.9"]).calibrate is True
    assert given(["--data", "co2", "--quantiles", "0.1", "0.9", "--no-calibration"]).calibrate is False
