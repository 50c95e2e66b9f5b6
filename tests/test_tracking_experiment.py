"""The experiment a run logs to is found or created safely when runs start at once on one store.

CI once failed here: three `rnnzoo fit` started together on a new store all found no "rnnzoo" experiment, all
created it, and the later ones died on MLflow's UNIQUE constraint. These tests replay that moment exactly (another
client creates the experiment between our lookup and our create) instead of hoping three processes collide.
"""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from rnnzoo.tracking import MLflowLogger, TrackingUnavailableError, experiment_id, prepare_sqlite_store


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
