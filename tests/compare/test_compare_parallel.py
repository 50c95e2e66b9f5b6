"""compare(..., jobs=2): the runs in two worker processes give the sequential comparison's numbers."""

import pytest

from rnnzoo.compare import compare
from rnnzoo.compare.comparison import CompareOptionError
from rnnzoo.compare.lifecycle import ROLE_TAG

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

FAST = dict(cells=("rnn", "gru"), seeds=(0, 1), max_epochs=2, threads=1, classical_baselines=False,
            save_models=False, log=lambda line: None)


def test_two_workers_give_the_sequential_results(tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    one = compare("co2", out_dir=tmp_path / "one", tracking_uri=store, **FAST)
    two = compare("co2", out_dir=tmp_path / "two", tracking_uri=store, jobs=2, **FAST)
    first, second = ({(r["cell"], r["seed"]): r for r in res["runs"]} for res in (one, two))
    assert list(first) == list(second)  # the same runs, reported in the same order
    for key, run in first.items():
        # same seeds, one thread each: the same arithmetic; 1e-6 allows for float noise only
        assert second[key]["best_val"] == pytest.approx(run["best_val"], rel=1e-6), key
        assert second[key]["test"] == pytest.approx(run["test"], rel=1e-6), key
        assert second[key]["items"]["mae"]["num"] == pytest.approx(run["items"]["mae"]["num"], rel=1e-6), key
        assert second[key]["run_id"] != run["run_id"]  # each worker logged its own MLflow child run
    assert two["verdict"]["ranking"][0]["cell"] == one["verdict"]["ranking"][0]["cell"]
    assert two["meta"]["jobs"] == 2


def test_jobs_must_be_a_whole_number_of_workers(tmp_path):
    with pytest.raises(CompareOptionError, match=r"jobs=0: give a whole number of worker processes, 1 or more"):
        compare("co2", out_dir=tmp_path / "x", tracking_uri=f"sqlite:///{tmp_path / 'm.db'}", jobs=0, **FAST)


def test_baselines_fitted_in_two_processes_are_the_same_forecasts():
    import numpy as np

    from rnnzoo.compare.statistical_baselines import statistical_baselines

    # a random walk with drift, 120 values: 2 splits x 13 origins x 3 models = 78 fits, enough for the pool
    values = (50 + np.cumsum(np.random.default_rng(0).normal(0.3, 1.0, 120))).astype(np.float32)
    args = (values, (0.7, 0.15, 0.15), 12, 6, 1, 1)
    one, two = statistical_baselines(*args), statistical_baselines(*args, workers=2)
    assert set(one) == set(two)
    for name in one:  # the same fits in another process: the same numbers, in the same order
        for key in ("items", "val_items"):
            assert two[name][key]["mae"]["num"] == one[name][key]["mae"]["num"], (name, key)
        assert two[name].get("chosen") == one[name].get("chosen")


def test_a_script_without_a_main_guard_gets_the_fix_and_its_workers_start_nothing(tmp_path):
    """Workers are spawned and import the script: one that calls compare(jobs=2) at its top level must be told to
    guard the call, and its workers must not plan a second comparison (MLflow runs, folders) before they die."""
    import subprocess
    import sys

    from mlflow import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from rnnzoo.compare import compare\n"
        f"compare('co2', out_dir={str(tmp_path / 'out')!r}, tracking_uri={store!r}, jobs=2, cells=('gru',),\n"
        "        seeds=(0, 1), max_epochs=1, threads=1, classical_baselines=False, save_models=False)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "StartedInAWorkerError" in done.stderr and 'if __name__ == "__main__":' in done.stderr
    assert "every run of a cell failed" in done.stderr
    client = MlflowClient(store)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    # the script's own comparison only: no second parent from a worker, and no run trained
    assert [r.data.tags.get(ROLE_TAG) for r in runs] == ["compare"]
