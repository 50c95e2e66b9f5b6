"""A stopped ``rnnzoo compare`` leaves no MLflow run RUNNING: SIGTERM ends the parent and the child in progress as
KILLED (a real process, stopped once its first child run exists), and a run left RUNNING by a process that died
without a word (SIGKILL, a power cut) is marked FAILED by the next comparison into the same folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from rnnzoo.compare import compare
from rnnzoo.compare.lifecycle import HOST_TAG, OUT_TAG, PID_TAG, process_alive
from rnnzoo.compare.single_run import PARENT_TAG, ROLE_TAG
from rnnzoo.tracking import prepare_sqlite_store

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

EXPERIMENT = "rnnzoo-compare"

SCRIPT = """
import sys
from rnnzoo.compare import compare

compare("co2", cells=("gru",), seeds=(0,), max_epochs=500, patience=0, out_dir=sys.argv[1], tracking_uri=sys.argv[2],
        threads=1, classical_baselines=False, save_models=False, log=print)
"""


def runs_by_role(client: MlflowClient) -> dict[str, list]:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    found: dict[str, list] = {}
    for run in client.search_runs([experiment.experiment_id]) if experiment else []:
        found.setdefault(run.data.tags.get(ROLE_TAG), []).append(run)
    return found


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # exited and reaped: no process has this pid now (the system reuses pids only much later)
    return child.pid


def test_sigterm_ends_parent_and_child_runs_as_killed(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    prepare_sqlite_store(uri)  # created here, not raced between this process and the comparison's
    client = MlflowClient(uri)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "out"), uri], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not runs_by_role(client).get("run"):
            assert process.poll() is None, process.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the comparison started no child run within 60 s"
            time.sleep(0.3)
        time.sleep(1.0)  # into its training loop
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
        seconds = time.monotonic() - stopped
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, output[-3000:]
    runs = runs_by_role(client)
    (parent,), (child,) = runs["compare"], runs["run"]
    assert parent.info.status == "KILLED" and child.info.status == "KILLED", output[-3000:]
    assert child.data.tags[PARENT_TAG] == parent.info.run_id
    assert parent.data.tags[OUT_TAG] == str((tmp_path / "out").resolve())
    assert parent.data.tags[PID_TAG] == str(process.pid) and parent.data.tags[HOST_TAG] == socket.gethostname()
    assert seconds < 20  # measured about 3.5 s


def test_a_run_left_running_by_a_dead_process_is_marked_failed_at_the_next_start(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    prepare_sqlite_store(uri)
    client = MlflowClient(uri)
    experiment = client.create_experiment(EXPERIMENT, artifact_location=(tmp_path / "mlartifacts").as_uri())
    out = tmp_path / "out"
    pid = dead_pid()
    assert not process_alive(pid)
    owner = {ROLE_TAG: "compare", OUT_TAG: str(out.resolve()), HOST_TAG: socket.gethostname()}
    dead = client.create_run(experiment, run_name="dead", tags={**owner, PID_TAG: str(pid)})
    child = client.create_run(experiment, tags={ROLE_TAG: "run", PARENT_TAG: dead.info.run_id})
    # Left alone: a live process's run (this test's own process), and a dead one's for another folder.
    alive = client.create_run(experiment, run_name="alive", tags={**owner, PID_TAG: str(os.getppid())})
    elsewhere = client.create_run(experiment, tags={**owner, PID_TAG: str(pid), OUT_TAG: str(tmp_path / "other")})
    lines: list[str] = []
    # compare must restore what was there: SIG_DFL, or a handler an earlier test's ray.init left in this process
    handler_before = signal.getsignal(signal.SIGTERM)
    results = compare("co2", cells=("gru",), seeds=(0,), max_epochs=1, out_dir=out, tracking_uri=uri, threads=1,
                      classical_baselines=False, save_models=False, log=lines.append)
    status = {r: client.get_run(r.info.run_id).info.status for r in (dead, child, alive, elsewhere)}
    assert [status[dead], status[child], status[alive], status[elsewhere]] == \
        ["FAILED", "FAILED", "RUNNING", "RUNNING"]
    (note,) = [line for line in lines if dead.info.run_id in line]
    assert "FAILED" in note and f"process {pid}" in note and "1 child run" in note
    assert client.get_run(results["meta"]["parent_run_id"]).info.status == "FINISHED"
    assert signal.getsignal(signal.SIGTERM) is handler_before  # compare's own handler is gone again


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for the process's start time")
def test_a_reused_pid_is_not_taken_for_the_runs_process():
    # The pid lives, but its process started at another time than the one recorded: another process now.
    assert process_alive(os.getpid())
    assert not process_alive(os.getpid(), start="1")
