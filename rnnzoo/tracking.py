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
#: MLflow's setting for batching asynchronous metric writes (seconds); see MLflowLogger
ASYNC_BUFFERING_VARIABLE = "MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS"


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


# MLflow's own defaults (7 retries, backoff factor 2, 120 s per request) spend about 4 minutes on a server that
# fails, before a raw MlflowException; rnnzoo's runs give up after under 10 s of retrying 5xx replies instead. Set
# only where the user has not set them, and read by MLflow at every request (mlflow/utils/rest_utils.py).
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
WRITE_CHECK_TAG = "rnnzoo.write_check"  # an experiment tag the probe sets: the cheapest real write MLflow offers


def bound_mlflow_http() -> None:
    """Give MLflow's HTTP client rnnzoo's retry and timeout bounds (:data:`HTTP_DEFAULTS`) where the environment
    does not set its own."""
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)


def check_tracking_uri(uri: str, timeout: float = 5.0, experiment_name: str = "rnnzoo",
                       artifact_location: str | None = None) -> None:
    """Fail fast when the store cannot take runs: an HTTP server that does not answer its health check, whose API
    fails, or that answers reads but fails writes (MLflow's client would retry such a server for about 4 minutes
    before giving up), or a SQLite store a crashed migration left half-done. A new SQLite store is created here,
    under a file lock.

    On a server the probe writes: it creates ``experiment_name`` if it is missing (at ``artifact_location``, as the
    run would a moment later) and sets the experiment tag ``rnnzoo.write_check``. A server that passes gets
    MLflow's HTTP retries bounded for the runs that follow (:func:`bound_mlflow_http`).
    """
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
                pass
        except urllib.error.HTTPError as err:
            if err.code >= 500:
                raise TrackingUnavailableError(
                    f"MLflow tracking server {uri} answers /health but its API fails (HTTP {err.code} on "
                    f"experiments/search); check the server's log (its backend store or artifact root), or log to "
                    f"another store") from None
            # else the API answers (an auth or usage reply to this unauthenticated read is for the write check)
        except (urllib.error.URLError, OSError) as err:
            problem = str(getattr(err, "reason", err))
    if problem is None:
        _check_writes(uri, experiment_name, artifact_location, timeout)
        bound_mlflow_http()  # for the runs on this server (a refused server changes nothing in the environment)
        return
    raise TrackingUnavailableError(
        f"MLflow tracking server {uri} is unreachable ({problem}); start it (e.g. `mlflow server --host 127.0.0.1 "
        f"--port 5000 --backend-store-uri sqlite:///mlflow.db`), fix MLFLOW_TRACKING_URI, or unset it to log to "
        f"./{DEFAULT_STORE}"
    )


def _check_writes(uri: str, experiment_name: str, artifact_location: str | None, timeout: float) -> None:
    """One write through MLflow's own HTTP client (its credentials and TLS settings), without retries: a server
    whose reads work but whose writes fail (a read-only or full backend store, a proxy refusing POST) is refused
    in a second instead of after MLflow's retries."""
    import json
    import time

    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    creds = get_default_host_creds(uri)

    def call(endpoint: str, method: str, **kwargs: Any) -> tuple[int, dict]:
        try:
            reply = http_request(creds, f"/api/2.0/mlflow/{endpoint}", method, max_retries=0, backoff_factor=0,
                                 timeout=timeout, raise_on_status=False, **kwargs)
        except Exception as err:  # MLflow wraps timeouts and connection errors in MlflowException
            raise TrackingUnavailableError(
                f"MLflow tracking server {uri} answers reads but a write did not get through ({method} {endpoint}: "
                f"{err}); check the server and its log, or log to another store (--tracking-uri, "
                f"MLFLOW_TRACKING_URI)") from None
        try:
            body = reply.json()
        except ValueError:
            body = {}
        # 429 is not refused: a busy server is what MLflow's retries are for
        if reply.status_code >= 500 or reply.status_code in (401, 403, 405):
            detail = (body.get("message") if isinstance(body, dict) else None) or reply.text[:200]
            fix = ("set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) to an "
                   "account that may write" if reply.status_code in (401, 403) else
                   "check the server's log (a read-only or full backend store?), or log to another store with "
                   "--tracking-uri or MLFLOW_TRACKING_URI")
            raise TrackingUnavailableError(
                f"MLflow tracking server {uri} answers reads but fails writes (HTTP {reply.status_code} on {method} "
                f"{endpoint}: {detail!r}); {fix}")
        return reply.status_code, body if isinstance(body, dict) else {}

    request = {"name": experiment_name, **({"artifact_location": artifact_location} if artifact_location else {})}
    _, body = call("experiments/create", "POST", json=request)
    experiment = body.get("experiment_id")
    if experiment is None:  # it exists (RESOURCE_ALREADY_EXISTS), or the reply was not what MLflow sends
        _, body = call("experiments/get-by-name", "GET", params={"experiment_name": experiment_name})
        experiment = body.get("experiment", {}).get("experiment_id")
    if experiment is None or body.get("experiment", {}).get("lifecycle_stage") == "deleted":
        return  # nothing to write to here; the run's own lookup says what is wrong (see experiment_id)
    call("experiments/set-experiment-tag", "POST",
         json={"experiment_id": experiment, "key": WRITE_CHECK_TAG, "value": json.dumps(time.time())})


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
        if not synchronous:
            # MLflow's background logger polls its queue with a 1 s timeout and sees the end of a run only after
            # that poll: every finalize (a compare run has two, fit and test) idled ~1 s. With buffering on, its
            # loop waits on the stop event instead, which returns at once, and sends each second's metrics as one
            # batch. The variable is read on every loop, so setting it here is in time; a user's value is kept.
            os.environ.setdefault(ASYNC_BUFFERING_VARIABLE, "1")
        uri = resolve_tracking_uri(tracking_uri)
        artifact_location = artifact_location or sqlite_artifact_location(uri)
        check_tracking_uri(uri, experiment_name=experiment_name, artifact_location=artifact_location)
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
