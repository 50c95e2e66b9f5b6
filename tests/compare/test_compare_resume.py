"""compare(..., resume=True): an interrupted comparison continues in its folder; finished runs are kept."""

import json

import pytest

from rnnzoo.compare import compare
from rnnzoo.compare.comparison import CompareOptionError

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

FAST = dict(max_epochs=2, threads=1, classical_baselines=False, save_models=False)


def test_resume_keeps_finished_runs_and_trains_the_rest(tmp_path):
    out, store = tmp_path / "out", f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = compare("co2", cells=("rnn", "gru"), seeds=(0,), out_dir=out, tracking_uri=store,
                    log=lambda line: None, **FAST)
    # An interruption during the gru run's first epoch: neither its result nor a last checkpoint was written,
    # nor the comparison's result (a run interrupted later continues from its last checkpoint: the test below).
    (out / "runs" / "gru-seed0" / "run.json").unlink()
    (out / "runs" / "gru-seed0" / "checkpoints" / "last.ckpt").unlink()
    (out / "results.json").unlink()
    (out / "results.md").unlink()
    lines = []
    second = compare("co2", cells=("rnn", "gru"), seeds=(0,), out_dir=out, tracking_uri=store, resume=True,
                     log=lines.append, **FAST)
    kept = [line for line in lines if "kept (--resume)" in line]
    assert len(kept) == 1 and kept[0].startswith("forecaster-rnn-20k seed 0: finished before"), lines
    before, after = ({r["cell"]: r for r in res["runs"]} for res in (first, second))
    # the kept run is the first one, word for word (same MLflow run, scores and per-item scores) ...
    assert after["rnn"] == before["rnn"]
    # ... and the retrained one is a new run that, seeded alike, measures the same
    assert after["gru"]["run_id"] != before["gru"]["run_id"]
    assert after["gru"]["best_val"] == pytest.approx(before["gru"]["best_val"], rel=1e-5)
    assert json.loads((out / "results.json").read_text())["verdict"]["ranking"] == second["verdict"]["ranking"]


def test_resume_refuses_other_settings_and_folders_without_a_comparison(tmp_path):
    out, store = tmp_path / "out", f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(CompareOptionError, match="holds no interrupted comparison"):
        compare("co2", cells=("rnn",), seeds=(0,), out_dir=out, tracking_uri=store, resume=True, **FAST)
    compare("co2", cells=("rnn",), seeds=(0,), out_dir=out, tracking_uri=store, log=lambda line: None, **FAST)
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(CompareOptionError, match=r"other settings \(.*max_epochs"):
        compare("co2", cells=("rnn",), seeds=(0,), out_dir=out, tracking_uri=store, resume=True,
                **{**FAST, "max_epochs": 3})
    with pytest.raises(CompareOptionError, match="give --out, and neither --overwrite"):
        compare("co2", cells=("rnn",), seeds=(0,), out_dir=out, tracking_uri=store, resume=True, overwrite=True,
                **FAST)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot  # refused: nothing changed


class PowerCut(Exception):
    """The machine stops mid-run (raised from inside the fit, after an epoch's checkpoint was saved)."""


def test_resume_continues_an_interrupted_run_from_its_last_checkpoint(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    from rnnzoo.compare.curves import ValidationCurve

    store, options = f"sqlite:///{tmp_path / 'mlflow.db'}", {**FAST, "max_epochs": 4}
    whole = compare("co2", cells=("rnn",), seeds=(0,), out_dir=tmp_path / "whole", tracking_uri=store,
                    log=lambda line: None, **options)["runs"][0]
    assert whole["epochs"] == 4 and whole["curve"]["epoch"] == [1, 2, 3, 4]  # no early stopping: every epoch

    record = ValidationCurve.on_validation_end

    def cut_in_third_epoch(self, trainer, pl_module):
        # Callbacks run before the checkpoint callbacks: last.ckpt stays at the end of epoch 2.
        if trainer.current_epoch == 2:
            raise PowerCut()
        record(self, trainer, pl_module)

    out = tmp_path / "out"
    monkeypatch.setattr(ValidationCurve, "on_validation_end", cut_in_third_epoch)
    with pytest.raises(PowerCut):
        compare("co2", cells=("rnn",), seeds=(0,), out_dir=out, tracking_uri=store, log=lambda line: None,
                **options)
    monkeypatch.undo()
    checkpoints = out / "runs" / "rnn-seed0" / "checkpoints"
    interrupted_run = json.loads((checkpoints / "mlflow_run.json").read_text())["run_id"]
    assert (checkpoints / "last.ckpt").is_file()

    lines = []
    resumed = compare("co2", cells=("rnn",), seeds=(0,), out_dir=out, tracking_uri=store, resume=True,
                      log=lines.append, **options)["runs"][0]
    assert any("interrupted before, continues from" in line for line in lines), lines
    # The interrupted MLflow run goes on (its first epochs' metrics are kept) and ends FINISHED. Epoch 3 was
    # validated and logged before the cut, then trained again: its step holds two values, the last one kept.
    assert resumed["run_id"] == interrupted_run
    client = MlflowClient(store)
    assert client.get_run(interrupted_run).info.status == "FINISHED"
    history = sorted(client.get_metric_history(interrupted_run, "val/mae"), key=lambda m: (m.step, m.timestamp))
    last_per_step = {m.step: m.value for m in history}
    assert len(last_per_step) == 4
    assert list(last_per_step.values()) == pytest.approx(resumed["curve"]["value"], rel=1e-6)
    # Epochs 1-2 come from the checkpoint, 3-4 are trained on: the curve is whole, and with the samplers seeded
    # by epoch and no dropout, the numbers are an uninterrupted run's. rel 1e-5: the same float32 operations in
    # the same order on one thread; the tolerance only allows for a different summation order in a kernel.
    assert resumed["curve"]["epoch"] == [1, 2, 3, 4]
    assert resumed["curve"]["value"] == pytest.approx(whole["curve"]["value"], rel=1e-5)
    assert resumed["best_val"] == pytest.approx(whole["best_val"], rel=1e-5)
    assert resumed["test"]["mae"] == pytest.approx(whole["test"]["mae"], rel=1e-5)


def test_a_curve_with_values_is_not_replaced_by_a_checkpoints():
    """Testing the best checkpoint restores callbacks from it: a fitted curve must not be cut off at the best
    epoch (it was, in a first version of the resume)."""
    from rnnzoo.compare.curves import ValidationCurve

    fitted, best_epochs = ValidationCurve("val/mae"), ValidationCurve("val/mae")
    fitted.epochs, fitted.seconds, fitted.values = [1, 2, 3], [1.0, 2.0, 3.0], [0.5, 0.4, 0.45]
    best_epochs.epochs, best_epochs.seconds, best_epochs.values = [1, 2], [1.0, 2.0], [0.5, 0.4]
    fitted.load_state_dict(best_epochs.state_dict())
    assert fitted.as_dict()["epoch"] == [1, 2, 3] and fitted.values == [0.5, 0.4, 0.45]
    resumed = ValidationCurve("val/mae")  # a new fit, empty: takes the interrupted fit's curve
    resumed.load_state_dict(best_epochs.state_dict())
    assert resumed.as_dict() == best_epochs.as_dict()
    other = ValidationCurve("val/acc")  # another metric's curve is not this one's
    other.load_state_dict(best_epochs.state_dict())
    assert other.values == []
