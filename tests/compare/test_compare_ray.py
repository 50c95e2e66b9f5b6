"""compare(..., ray=ADDRESS) on a real Ray cluster started here (two nodes of one CPU each, this machine's own
address): the sequential comparison's numbers, every run its own MLflow child run in the same store, and a run
that fails reported while the others finish. Also the refusals that need no cluster."""

import importlib.util

import pytest

import rnnzoo
from rnnzoo.compare import compare
from rnnzoo.compare.errors import CompareOptionError

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

FAST = dict(cells=("rnn", "gru"), seeds=(0, 1), max_epochs=1, threads=1, classical_baselines=False,
            save_models=False)


@pytest.fixture(scope="module")
def cluster_address():
    """A head node and a second node, one CPU each, as separate Ray processes; shut down after the module."""
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()


def test_ray_runs_give_the_sequential_results_and_a_failed_run_leaves_the_others(tmp_path, cluster_address):
    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    one = compare("co2", out_dir=tmp_path / "one", tracking_uri=store, log=lambda line: None, **FAST)
    # one run cannot be written on its node (a file where its folder goes): it fails there, the others finish
    (tmp_path / "two" / "runs").mkdir(parents=True)
    (tmp_path / "two" / "runs" / "gru-seed1").write_text("not a folder\n")
    lines = []
    two = compare("co2", out_dir=tmp_path / "two", overwrite=True, tracking_uri=store, ray=cluster_address,
                  log=lines.append, **{**FAST, "save_models": True})
    first, second = ({(r["cell"], r["seed"]): r for r in res["runs"]} for res in (one, two))
    assert list(first) == [("rnn", 0), ("rnn", 1), ("gru", 0), ("gru", 1)]
    assert list(second) == [("rnn", 0), ("rnn", 1), ("gru", 0)]  # the same runs in the same order, less the failed
    failed = [line for line in lines if "failed on the Ray cluster" in line]
    assert len(failed) == 1 and failed[0].startswith("gru seed 1: failed on the Ray cluster (NotADirectoryError"), \
        failed
    client = MlflowClient(tracking_uri=store)
    for key, run in second.items():
        # same seeds, one thread each: the same arithmetic; 1e-6 allows for float noise only
        assert run["best_val"] == pytest.approx(first[key]["best_val"], rel=1e-6), key
        assert run["test"] == pytest.approx(first[key]["test"], rel=1e-6), key
        assert run["items"]["mae"]["num"] == pytest.approx(first[key]["items"]["mae"]["num"], rel=1e-6), key
        logged = client.get_run(run["run_id"])  # each task logged its own child run, to the same store
        assert run["run_id"] != first[key]["run_id"] and logged.info.status == "FINISHED"
        assert logged.data.tags["mlflow.parentRunId"] == two["meta"]["parent_run_id"]
    assert two["meta"]["ray"] == cluster_address and two["meta"]["ray_cluster"]["nodes"] == 2
    assert two["meta"]["ray_cluster"]["cpus"] == 2 and two["meta"]["ray_cluster"]["other_machines"] == []
    assert any(line.startswith("runs: Ray tasks on the cluster at") for line in two["meta"]["plan"])
    assert any("training 4 runs as Ray tasks" in line for line in lines)
    for cell in ("rnn", "gru"):  # a run taken back from its folder keeps the data's preprocessing: usable saved
        assert rnnzoo.load(two["models"][cell]["path"]).preprocessing is not None, cell


def test_ray_and_jobs_are_refused_together(tmp_path):
    with pytest.raises(CompareOptionError, match=r"ray='auto' and jobs=2: give one of them"):
        compare("co2", out_dir=tmp_path / "x", ray="auto", jobs=2, **FAST)


def test_ray_without_the_package_names_the_install(tmp_path, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a))
    with pytest.raises(CompareOptionError, match=r"Ray is not installed here; install it with: pip install "
                                                 r"'rnnzoo\[ray\]'"):
        compare("co2", out_dir=tmp_path / "x", ray="auto", **FAST)
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_no_cluster_at_the_address_is_refused_at_once(tmp_path):
    pytest.importorskip("ray")
    with pytest.raises(CompareOptionError, match=r"--ray 127.0.0.1:1: could not connect to a Ray cluster there"):
        compare("co2", out_dir=tmp_path / "x", tracking_uri=f"sqlite:///{tmp_path / 'm.db'}", ray="127.0.0.1:1",
                **FAST)


@pytest.mark.parametrize("uri", ["sqlite:////data/mlflow.db", "http://127.0.0.1:5000", "http://localhost:5000"])
def test_a_store_other_machines_cannot_reach_is_refused(uri):
    from rnnzoo.compare.ray_runs import _check_reachable

    with pytest.raises(CompareOptionError, match=r"nodes on other machines \(10.0.0.7\).*mlflow server.*"
                                                 r"--tracking-uri http://"):
        _check_reachable(uri, ["10.0.0.7"])
    _check_reachable("http://mlflow.example:5000", ["10.0.0.7"])  # a server they can reach passes
