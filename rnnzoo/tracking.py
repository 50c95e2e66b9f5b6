"""MLflow tracking for rnnzoo runs: where runs go, and a logger that checks it can get there before training.

Where runs go, decided when a run starts (not when Lightning is imported, which freezes ``MLFLOW_TRACKING_URI``
into MLFlowLogger's defaults):

1. the ``tracking_uri`` given (recipe or command line);
2. else ``MLFLOW_TRACKING_URI`` from the environment;
3. else an embedded SQLite store, ``./mlflow.db`` in the working directory (MLflow's own default since 3.x;
   open it with ``mlflow ui --backend-store-uri sqlite:///mlflow.db``).

MLflow 3 keeps the ``file:`` store (``./mlruns``) in maintenance mode, so it is refused with the fix.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.loggers.logger import rank_zero_experiment

from rnnzoo.errors import RnnzooError

DEFAULT_STORE = "mlflow.db"


class TrackingUnavailableError(RnnzooError, RuntimeError):
    """The tracking URI cannot be used; raised before any training starts."""


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """The tracking URI a run started now would use (see the module docstring for the order)."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / DEFAULT_STORE}"
    if uri.startswith("file:") or "://" not in uri and not uri.startswith(("databricks", "sqlite")):
        raise TrackingUnavailableError(
            f"tracking URI {uri!r} is MLflow's file store, which MLflow 3 no longer develops; use "
            f"'sqlite:///{DEFAULT_STORE}' (the default when MLFLOW_TRACKING_URI is unset) or a server's http:// URL"
        )
    return uri


def check_tracking_uri(uri: str, timeout: float = 5.0) -> None:
    """Fail fast when the store cannot take runs: an HTTP server that does not answer its health check or whose
    API fails (MLflow's client would retry such a server for about 4.5 minutes before giving up), or a SQLite
    store a crashed migration left half-done. A new SQLite store is created here, under a file lock."""
    if uri.startswith("sqlite:///"):
        prepare_sqlite_store(uri)
        return
    if not uri.startswith(("http://", "https://")):
        return
    base = uri.rstrip("/")
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=timeout) as reply:
            problem = None if reply.status == 200 else f"HTTP {reply.status}"
    except (urllib.error.URLError, OSError) as err:
        problem = str(getattr(err, "reason", err))
    if problem is None:
        try:
            with urllib.request.urlopen(f"{base}/api/2.0/mlflow/experiments/search?max_results=1", timeout=timeout):
                return
        except urllib.error.HTTPError as err:
            if err.code < 500:
                return  # the API answers (an auth or usage reply is the client's business, not a dead server)
            raise TrackingUnavailableError(
                f"MLflow tracking server {uri} answers /health but its API fails (HTTP {err.code} on "
                f"experiments/search); check the server's log (its backend store or artifact root), or log to "
                f"another store") from None
        except (urllib.error.URLError, OSError) as err:
            problem = str(getattr(err, "reason", err))
    raise TrackingUnavailableError(
        f"MLflow tracking server {uri} is unreachable ({problem}); start it (e.g. `mlflow server --host 127.0.0.1 "
        f"--port 5000 --backend-store-uri sqlite:///mlflow.db`), fix MLFLOW_TRACKING_URI, or unset it to log to "
        f"./{DEFAULT_STORE}"
    )


def prepare_sqlite_store(uri: str) -> None:
    """Create (or check) a SQLite store, one process at a time.

    MLflow creates a new store's tables on first use; two processes doing that at once race in its schema
    migration and can leave ``_alembic_tmp_*`` tables behind, after which every run fails. A lock file beside the
    database serialises the creation; an existing store with leftover migration tables is an error that says
    what to do.
    """
    import sqlite3

    path = Path(uri.removeprefix("sqlite:///")).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        except ImportError:  # not POSIX: no lock, MLflow's own behaviour
            pass
        if path.exists() and path.stat().st_size:
            with sqlite3.connect(path) as db:
                leftovers = [row[0] for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '_alembic_tmp_%'")]
            if leftovers:
                raise TrackingUnavailableError(
                    f"the MLflow store {path} was left half-migrated by a run that crashed while creating it "
                    f"(tables {leftovers}); move it aside (`mv {path} {path}.broken`) and run again to start a new "
                    f"store, or log elsewhere with --tracking-uri")
        from mlflow.tracking import MlflowClient

        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # creates and migrates the tables


def sqlite_artifact_location(uri: str) -> str | None:
    """For a SQLite store, ``<its folder>/mlartifacts`` as a URI: a new experiment's artifacts then live next to
    the database whatever the working directory (MLflow's default is ``./mlartifacts`` of the process that
    creates the experiment, a stray folder wherever that happens to run). None for other stores."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).expanduser().resolve().parent / "mlartifacts").as_uri()


def already_exists(err: Exception) -> bool:
    """Whether MLflow refused to create something (an experiment, a registered model) because it exists."""
    from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

    return getattr(err, "error_code", None) == ErrorCode.Name(RESOURCE_ALREADY_EXISTS)


def experiment_id(client: Any, name: str, artifact_location: str | None = None) -> str:
    """The id of the experiment called ``name``, created if there is none, safely when processes race.

    Lightning's MLFlowLogger (and a plain get-then-create) fails when two runs started at once on the same store
    both find no experiment and both create it: the second gets MLflow's RESOURCE_ALREADY_EXISTS. Here the loser
    reads the winner's experiment instead. A deleted experiment still holds its name in MLflow, so it is an error
    that says how to restore it or which name to use instead.

    Args:
        client: an ``mlflow.tracking.MlflowClient`` for the store.
        name: the experiment's name.
        artifact_location: where a new experiment keeps its artifacts (None: the store's default).
    """
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=artifact_location)
        except MlflowException as err:
            if not already_exists(err):
                raise
            experiment = client.get_experiment_by_name(name)  # another process created it a moment ago
    if experiment.lifecycle_stage == "deleted":
        raise TrackingUnavailableError(
            f"the MLflow experiment {name!r} (id {experiment.experiment_id}) was deleted, and MLflow keeps a deleted "
            f"experiment's name; restore it (`mlflow experiments restore --experiment-id {experiment.experiment_id}`"
            f" with MLFLOW_TRACKING_URI set to this store) or log under another experiment name")
    return experiment.experiment_id


class MLflowLogger(MLFlowLogger):
    """Lightning's MLFlowLogger with the tracking URI resolved when the run starts and checked before training.

    Args:
        experiment_name, run_name, tags, log_model, prefix, artifact_location, run_id: as ``MLFlowLogger``.
            The best checkpoint and the exported model are logged by :class:`rnnzoo.mlflow_export.MLflowModelExport`
            (``rnnzoo fit`` adds it), so ``log_model`` stays off unless every checkpoint is wanted (``"all"``).
        tracking_uri: see the module docstring; None means ``MLFLOW_TRACKING_URI`` or ``./mlflow.db``.
        synchronous: wait for each metric write. Off by default: MLflow then logs from a background thread, so
            a training step does not wait for a database or server round trip (the run is flushed at its end).
    """

    def __init__(
        self,
        experiment_name: str = "rnnzoo",
        run_name: str | None = None,
        tracking_uri: str | None = None,
        tags: dict[str, Any] | None = None,
        log_model: bool | str = False,
        prefix: str = "",
        artifact_location: str | None = None,
        run_id: str | None = None,
        synchronous: bool = False,
    ):
        uri = resolve_tracking_uri(tracking_uri)
        check_tracking_uri(uri)
        artifact_location = artifact_location or sqlite_artifact_location(uri)
        super().__init__(
            experiment_name=experiment_name, run_name=run_name, tracking_uri=uri, tags=tags, log_model=log_model,
            prefix=prefix, artifact_location=artifact_location, run_id=run_id, synchronous=synchronous,
        )

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """MLFlowLogger's client, with the experiment found or created race-free first (see :func:`experiment_id`)."""
        if not self._initialized and self._run_id is None and self._experiment_id is None:
            self._experiment_id = experiment_id(self._mlflow_client, self._experiment_name, self._artifact_location)
        return super().experiment
