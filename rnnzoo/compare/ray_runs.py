"""A comparison's runs as Ray tasks on a Ray cluster (``compare(..., ray="auto" | ADDRESS)``, ``rnnzoo compare
--ray``), the optional ``ray`` extra (``pip install 'rnnzoo[ray]'``).

The same contract as :mod:`rnnzoo.compare.parallel_runs`: each (cell, seed) run is one task that trains it exactly as
the sequential path does (the same worker function, seeded the same way, logging its own child run to the same
MLflow store), scores its best checkpoint and marks it finished in its folder (``run.json``); the driver then takes
every result back from that folder in the sequential order, so the report does not depend on which node finished
first. A run that fails is reported and the others finish.

``auto`` is Ray's own meaning (``ray.init(address="auto")``): the cluster ``RAY_ADDRESS`` names, else the one
``ray start`` started on this machine; none is an error, not a Ray instance started on the fly, so a comparison
meant for a cluster never trains on this machine alone by mistake (``--jobs N`` is that). The DataModule goes
to the cluster once (``ray.put``). Each run reserves ``threads`` CPUs (default 1: these small networks train fastest
on one thread) and Ray runs as many at once as the cluster's CPUs allow.

Two things must be shared by every node, and are on one machine: the run folders (the driver reads each run back
from ``<out>/runs/<cell>-seed<k>``; on several machines, ``--out`` on a network filesystem) and the MLflow store. A
cluster with nodes on other machines is refused with a SQLite store or a loopback tracking server, which those
nodes cannot reach; a run whose folder the driver cannot see is reported as such.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from rnnzoo.compare.errors import CompareOptionError
from rnnzoo.compare.models import CellModel
from rnnzoo.compare.single_run import TrainSettings

INSTALL = "pip install 'rnnzoo[ray]'"
#: hosts a tracking server on this machine answers to, and no other machine does
LOOPBACK = ("localhost", "0.0.0.0", "::1", "::")
_opened_for: str | None = None  # the address connect() opened this process's Ray connection for (None: it did not)


def check_installed(address: str) -> None:
    """Refuse ``--ray`` without the ray package, before any data is read (without importing it: that is slow)."""
    if importlib.util.find_spec("ray") is None:
        raise CompareOptionError(f"--ray {address} runs the comparison's runs as Ray tasks, but Ray is not "
                                 f"installed here; install it with: {INSTALL}")


def connect(address: str, tracking_uri: str, cpus_per_run: int = 1) -> dict[str, Any]:
    """Connect this process to the Ray cluster at ``address`` (``"auto"`` or ``HOST:PORT``, or ``ray://...`` for
    Ray Client) unless it is already connected, and describe it: ``{"address", "gcs_address", "nodes", "cpus",
    "cpus_per_run", "other_machines"}``. Refuses a cluster that cannot take the runs: none at the address, no node
    with ``cpus_per_run`` CPUs, or nodes on other machines with a tracking store they cannot reach."""
    global _opened_for
    check_installed(address)
    import ray

    if ray.is_initialized() and _opened_for not in (None, address):
        disconnect()  # ours, to another cluster (a comparison that failed before its runs)
    if ray.is_initialized() and _opened_for is None:  # the caller's own connection: used, and left open
        current = ray.get_runtime_context().gcs_address
        if address not in ("auto", current):
            raise CompareOptionError(f"--ray {address}: this process is connected to the Ray cluster at {current} "
                                     f"already; give ray='auto' to use that one, or call ray.shutdown() first")
    elif not ray.is_initialized():
        try:
            _check_head_answers(address)
            # the workers' output stays in Ray's logs, as compare's own runs keep Lightning's quiet
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise CompareOptionError(_no_cluster(address, err)) from None
        _opened_for = address
    try:
        return _describe(address, tracking_uri, cpus_per_run)
    except BaseException:
        disconnect()
        raise


def disconnect() -> None:
    """Close the Ray connection :func:`connect` opened (one the caller opened before is left open)."""
    global _opened_for
    if _opened_for is not None:
        import ray

        ray.shutdown()
        _opened_for = None


def train_on_ray(jobs: list[tuple[CellModel, int, TrainSettings, Path]], dm: Any, *, address: str,
                 cpus_per_run: int, tracking_uri: str, experiment_name: str, parent_id: str, calibrate: bool,
                 log: Callable[[str], None], resume: bool = False) -> dict[tuple[str, int], str | BaseException]:
    """Run ``jobs`` ((model, seed, settings, folder) each) as Ray tasks on the cluster at ``address``, each on
    ``cpus_per_run`` CPUs and as many threads; returns, per (cell, seed), the folder the finished run was written
    to, or the exception it failed with. Closes the connection :func:`connect` opened when done."""
    import ray

    from rnnzoo.compare.resume import RUN_FILE

    cluster = connect(address, tracking_uri, cpus_per_run)
    refs: dict[tuple[str, int], Any] = {}
    try:
        log(f"training {len(jobs)} runs as Ray tasks on the cluster at {cluster['gcs_address']} "
            f"({cluster['nodes']} node(s), {cluster['cpus']:g} CPUs, {cpus_per_run} per run) ...")
        dm_ref = ray.put(dm)  # shipped once, not once per task
        task = ray.remote(_train_task).options(num_cpus=cpus_per_run)
        # the workers' working directory is not the driver's: every path they get is absolute
        uri = _absolute_store(tracking_uri)
        refs = {(m.cell, seed): task.remote(m, dm_ref, seed, s, Path(root).resolve(), uri, experiment_name,
                                            parent_id, calibrate, cpus_per_run, resume)
                for m, seed, s, root in jobs}
        outcome: dict[tuple[str, int], str | BaseException] = {}
        for key, ref in refs.items():
            try:
                host, folder = ray.get(ref)
                if not (Path(folder) / RUN_FILE).is_file():
                    raise CompareOptionError(
                        f"the run finished on {host} in {folder}, which this machine does not see; put --out on a "
                        f"filesystem every node of the cluster shares (e.g. NFS), at the same path")
                outcome[key] = folder
            except Exception as err:  # noqa: BLE001 -- one failed run is reported; the others finish
                cause = getattr(err, "cause", None) or err  # a RayTaskError carries the run's own exception
                log(f"{key[0]} seed {key[1]}: failed on the Ray cluster ({type(cause).__name__}: "
                    f"{str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}); the other runs go on")
                outcome[key] = cause
        return outcome
    except BaseException:
        for ref in refs.values():  # Ctrl+C or a lost driver connection: stop what is still training
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 -- a task that ended cannot be cancelled; nothing to do
                pass
        raise
    finally:
        disconnect()


def _train_task(m: CellModel, dm: Any, seed: int, settings: TrainSettings, root: Path, tracking_uri: str,
                experiment_name: str, parent_id: str, calibrate: bool, threads: int,
                resume: bool = False) -> tuple[str, str]:
    """One run on a node of the cluster, through the worker function ``--jobs`` uses; returns the node's host
    name (for a folder the driver cannot see) and the run's folder."""
    from rnnzoo.compare.parallel_runs import _train_in_worker
    from rnnzoo.tracking import bound_mlflow_http

    if tracking_uri.startswith(("http://", "https://")):
        bound_mlflow_http()  # the driver's retry bounds, which a worker's environment does not carry
    return socket.gethostname(), _train_in_worker(m, dm, seed, settings, root, tracking_uri, experiment_name,
                                                  parent_id, calibrate, threads, resume)


def _describe(address: str, tracking_uri: str, cpus_per_run: int) -> dict[str, Any]:
    """The connected cluster, checked: a node must fit one run, and nodes elsewhere must reach the store."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    here = _this_machine()
    other = sorted({n["NodeManagerAddress"] for n in nodes if n["NodeManagerAddress"] not in here
                    and n.get("NodeManagerHostname") not in here})
    cpus = float(ray.cluster_resources().get("CPU", 0))
    widest = max((n.get("Resources", {}).get("CPU", 0) for n in nodes), default=0)
    if widest < cpus_per_run:
        raise CompareOptionError(f"--ray {address}: no node of the cluster has {cpus_per_run} CPUs for a run "
                                 f"(the most is {widest:g}), so no run could start; give --threads {int(widest) or 1}, "
                                 f"or add a node with more CPUs (ray start --address=... --num-cpus=N)")
    if other:
        _check_reachable(tracking_uri, other)
    return {"address": address, "gcs_address": ray.get_runtime_context().gcs_address, "nodes": len(nodes),
            "cpus": cpus, "cpus_per_run": cpus_per_run, "other_machines": other}


def _this_machine() -> set[str]:
    """The names and addresses this machine goes by, to tell its Ray nodes from other machines'."""
    import ray

    names = {"127.0.0.1", "localhost", socket.gethostname(), ray.util.get_node_ip_address()}
    try:
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass  # a host name that does not resolve: the names above still tell this machine's nodes
    return names


def _check_reachable(tracking_uri: str, other: list[str]) -> None:
    """Refuse a tracking store that nodes on other machines cannot log to: a SQLite file here, or a server on
    this machine's loopback address."""
    host = urlparse(tracking_uri).hostname or ""
    if tracking_uri.startswith("sqlite:"):
        problem = "a SQLite file on this machine"
    elif host in LOOPBACK or host.startswith("127."):
        problem = "a server on this machine's loopback address"
    else:
        return
    raise CompareOptionError(
        f"the Ray cluster has nodes on other machines ({', '.join(other)}), which cannot log their runs to "
        f"{tracking_uri} ({problem}); run an MLflow tracking server they can reach, e.g. `mlflow server --host "
        f"0.0.0.0 --port 5000 --backend-store-uri sqlite:///mlflow.db`, and give --tracking-uri "
        f"http://{socket.gethostname()}:5000")


def _absolute_store(tracking_uri: str) -> str:
    """A relative SQLite path made absolute (the workers start elsewhere); other URIs as they are."""
    prefix = "sqlite:///"
    if tracking_uri.startswith(prefix) and not os.path.isabs(tracking_uri[len(prefix):]):
        return prefix + str(Path(tracking_uri[len(prefix):]).resolve())
    return tracking_uri


def _check_head_answers(address: str, timeout: float = 5.0) -> None:
    """Raise ConnectionError unless the head node answers at ``address`` (``auto`` resolved as Ray resolves it)
    within ``timeout`` seconds: at a dead or wrong address ``ray.init`` retries for minutes before it fails."""
    if address.startswith("ray://"):
        return  # Ray Client: its own connection times out
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:
        return  # another Ray's internals: ray.init alone decides
    resolved = canonicalize_bootstrap_address(address)  # ConnectionError for "auto" with no cluster known
    if resolved is None:
        return
    host, _, port = resolved.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        raise ConnectionError(f"nothing answers at {resolved} ({err})") from None


def _no_cluster(address: str, err: BaseException) -> str:
    """Why ``ray.init`` found no cluster at ``address``, and what to do."""
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if address == "auto":
        return (f"--ray auto: no Ray cluster answers (auto is the one RAY_ADDRESS names, else the last one `ray "
                f"start` started on this machine: {reason}); start one (`ray start --head`, then `ray start --address=HEAD:6379` on "
                f"each other machine) or give its address, --ray HEAD:6379; for worker processes on this machine "
                f"alone, use --jobs N instead")
    return (f"--ray {address}: could not connect to a Ray cluster there ({reason}); check that the head node runs "
            f"(`ray status --address {address}` on it) and that this machine can reach that address")
