"""The experiment a run logs to is found or created safely when runs start at once on one store.

CI once failed here: three `rnnzoo fit` started together on a new store all found no "rnnzoo" experiment, all
created it, and the later ones died on MLflow's UNIQUE constraint. These tests replay that moment exactly (another
client creates the experiment between our lookup and our create) instead of hoping three processes collide.
"""

from __future__ import annotations

import os

import pytest
from mlflow.tracking import MlflowClient

from rnnzoo.tracking import (ASYNC_BUFFERING_VARIABLE, MLflowLogger, TrackingUnavailableError, experiment_id,
                             prepare_sqlite_store)


class LateClient:
    """An MlflowClient whose first lookup of an experiment misses: the moment in which another process creates it."""

    def __init__(self, client: MlflowClient, racer: MlflowClient):
        self.client, self.racer, self.missed = client, racer, False

    def get_experiment_by_name(self, name):
        if not self.missed:
            self.missed = True
            self.racer.create_experiment(name)  # the other process wins the race now
            return None
        return self.client.get_experiment_by_name(name)

    def __getattr__(self, attribute):
        return getattr(self.client, attribute)


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    prepare_sqlite_store(uri)
    return uri


def test_the_loser_of_a_creation_race_uses_the_winners_experiment(store):
    client = MlflowClient(store)
    late = LateClient(client, MlflowClient(store))
    got = experiment_id(late, "rnnzoo")
    assert late.missed
    assert got == client.get_experiment_by_name("rnnzoo").experiment_id
    assert [e.name for e in client.search_experiments()].count("rnnzoo") == 1


def test_plain_get_then_create_fails_in_the_same_race(store):
    # The failure this guards against is real: the same interleaving through MLflow's own calls raises.
    from mlflow.exceptions import MlflowException

    late = LateClient(MlflowClient(store), MlflowClient(store))
    assert late.get_experiment_by_name("rnnzoo") is None
    with pytest.raises(MlflowException, match="already exists"):
        late.create_experiment("rnnzoo")


def test_an_existing_experiment_is_reused_and_a_new_one_gets_the_artifact_location(store, tmp_path):
    client = MlflowClient(store)
    first = experiment_id(client, "runs", (tmp_path / "art").as_uri())
    assert experiment_id(client, "runs") == first
    assert client.get_experiment(first).artifact_location == (tmp_path / "art").as_uri()


def test_a_deleted_experiment_is_an_error_with_the_restore_command(store):
    client = MlflowClient(store)
    deleted = client.create_experiment("old")
    client.delete_experiment(deleted)
    restore = f"mlflow experiments restore --experiment-id {deleted}"
    with pytest.raises(TrackingUnavailableError, match=rf"'old' \(id {deleted}\) was deleted.*{restore}"):
        experiment_id(client, "old")


def test_the_logger_creates_its_run_after_losing_the_race(store):
    logger = MLflowLogger(experiment_name="rnnzoo", tracking_uri=store, synchronous=True)
    logger._mlflow_client = LateClient(logger._mlflow_client, MlflowClient(store))
    logger.log_metrics({"loss": 1.0}, step=0)
    logger.finalize("success")
    client = MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("rnnzoo").experiment_id])
    assert run.data.metrics == {"loss": 1.0} and run.info.status == "FINISHED"


def test_the_background_logger_has_written_every_metric_when_the_run_ends(store, monkeypatch):
    """The logger's default (MLflow's background thread, batching each second's writes) loses nothing: every step
    of every metric is in the store once finalize returns, for runs one after another in one process."""
    monkeypatch.delenv(ASYNC_BUFFERING_VARIABLE, raising=False)
    client = MlflowClient(store)
    for k in range(2):
        logger = MLflowLogger(experiment_name="rnnzoo", tracking_uri=store, run_name=f"run{k}")
        for step in range(300):
            logger.log_metrics({"loss": 1.0 / (step + 1), "lr": 0.1 * k}, step=step)
        logger.finalize("success")
        assert [m.step for m in client.get_metric_history(logger.run_id, "loss")] == list(range(300))
        assert len(client.get_metric_history(logger.run_id, "lr")) == 300
        assert client.get_run(logger.run_id).info.status == "FINISHED"
    assert os.environ[ASYNC_BUFFERING_VARIABLE] == "1"


def test_a_users_buffering_setting_is_kept(store, monkeypatch):
    monkeypatch.setenv(ASYNC_BUFFERING_VARIABLE, "5")
    MLflowLogger(experiment_name="rnnzoo", tracking_uri=store)
    assert os.environ[ASYNC_BUFFERING_VARIABLE] == "5"


def test_a_version_is_registered_whether_or_not_the_model_exists(store, tmp_path):
    # Two runs finishing at once: the second finds the registered model created and still adds its version.
    from rnnzoo.mlflow_export import register_version

    client = MlflowClient(store)
    runs = [client.create_run(experiment_id(client, "rnnzoo")).info.run_id for _ in range(2)]
    first = register_version(client, "forecaster", (tmp_path / "one").as_uri(), runs[0])
    second = register_version(MlflowClient(store), "forecaster", (tmp_path / "two").as_uri(), runs[1])
    assert (int(first.version), int(second.version)) == (1, 2)
    assert [v.run_id for v in client.search_model_versions("name = 'forecaster'", order_by=["version_number"])] \
        == runs


# ------------------------------------------------------------------------- a server whose reads work, writes fail
HTTP_VARIABLES = ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT")


@pytest.fixture
def read_only_server():
    from tests.support.mlflow_server import ReadOnlyServer

    with ReadOnlyServer() as server:
        yield server


@pytest.fixture
def http_environment():
    """os.environ restored after the test (bound_mlflow_http sets MLflow's variables), without them at its start."""
    import os
    from unittest import mock

    with mock.patch.dict(os.environ):
        for name in HTTP_VARIABLES:
            os.environ.pop(name, None)
        yield os.environ


def test_a_server_that_answers_reads_but_fails_writes_is_refused_at_once(read_only_server, http_environment):
    import time

    from rnnzoo.tracking import check_tracking_uri

    started = time.perf_counter()
    with pytest.raises(TrackingUnavailableError, match=rf"{read_only_server.uri} answers reads but fails writes "
                                                       r"\(HTTP 500 on POST experiments/create: 'attempt to write a "
                                                       r"readonly database'\).*--tracking-uri or MLFLOW_TRACKING_URI"):
        check_tracking_uri(read_only_server.uri, experiment_name="runs")
    assert time.perf_counter() - started < 5  # MLflow's own client: about 4 minutes of retries
    assert read_only_server.posts == ["/api/2.0/mlflow/experiments/create"]  # one try, no retries


def test_compare_against_a_read_only_server_exits_2_in_seconds(read_only_server, http_environment, tmp_path, capsys):
    import time

    from rnnzoo.compare.command import compare_main

    started = time.perf_counter()
    with pytest.raises(SystemExit) as stopped:
        compare_main(["--data", "co2", "--cells", "gru", "--seeds", "0", "--max-epochs", "1",
                      "--out", str(tmp_path / "o"), "--tracking-uri", read_only_server.uri])
    assert stopped.value.code == 2 and time.perf_counter() - started < 30
    assert f"{read_only_server.uri} answers reads but fails writes (HTTP 500" in capsys.readouterr().err


def test_runs_retry_a_failing_server_for_seconds_not_minutes(read_only_server, http_environment):
    # After the check, MLflow's own client (what Lightning's logger and compare's writes go through) gives up on
    # a failing server within seconds: the bounds are environment variables MLflow reads at every request.
    import time

    from mlflow.exceptions import MlflowException

    from rnnzoo.tracking import HTTP_DEFAULTS, bound_mlflow_http

    http_environment["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "7"  # the user's own setting is kept
    bound_mlflow_http()
    assert {name: http_environment[name] for name in HTTP_VARIABLES} == {**HTTP_DEFAULTS,
                                                                          "MLFLOW_HTTP_REQUEST_TIMEOUT": "7"}
    started = time.perf_counter()
    with pytest.raises(MlflowException):
        MlflowClient(read_only_server.uri).create_experiment("runs")
    assert time.perf_counter() - started < 15  # measured 7.6 s; MLflow's defaults: about 250 s
    assert len(read_only_server.posts) == 1 + int(HTTP_DEFAULTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
