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
    # An interruption during the gru run: its result was never written, nor the comparison's.
    (out / "runs" / "gru-seed0" / "run.json").unlink()
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
