"""A comparison's MLflow runs end with a status that says what happened, even when the process is stopped.

Ctrl+C (KeyboardInterrupt) and SIGTERM (a scheduler's or a container's stop) end the parent run and the child run in
progress as KILLED. SIGKILL, a power cut or an out-of-memory kill leave no chance to write anything: the parent
run carries the output folder, the host and the process id, and the next comparison into that folder on that host
marks such a run, and its children still RUNNING, as FAILED when that process is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PARENT_TAG = "mlflow.parentRunId"  # MLflow's own tag for nested runs (the UI folds children under the parent)
ROLE_TAG = "rnnzoo.compare.role"  # "compare" (the parent), "run" (a compared run) or "lr_search" (a search trial)
OUT_TAG = "rnnzoo.compare.out"  # the output folder's absolute path
HOST_TAG = "rnnzoo.compare.host"
PID_TAG = "rnnzoo.compare.pid"
# Linux's start time of the process (clock ticks since boot): a pid the system reused for another process later
# is then not taken for the comparison's.
START_TAG = "rnnzoo.compare.process_start"
INTERRUPTS = (KeyboardInterrupt, SystemExit)  # Lightning turns Ctrl+C during fit into sys.exit(1)


def owner_tags(out: Path) -> dict[str, str]:
    """The parent run's tags that let a later comparison tell whether its process still runs."""
    tags = {OUT_TAG: str(Path(out).resolve()), HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    start = _process_start(os.getpid())
    if start is not None:
        tags[START_TAG] = start
    return tags


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 on), or None where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()  # the name, in parentheses, may hold spaces


def _process_start(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22, starttime


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether process ``pid`` (started at ``start``, when known) still runs on this host. Unknown counts as
    alive: a run is only marked FAILED when its process is surely gone."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) is no probe on Windows (signal 0 is CTRL_C_EVENT there)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process, so one that exists
        return True
    fields = _proc_stat(pid)
    if fields is None:
        return True
    if fields[0] == "Z":  # exited, not yet reaped by its parent
        return False
    return start is None or len(fields) <= 19 or fields[19] == start


def fail_abandoned_runs(client: Any, experiment: str, out: Path) -> list[str]:
    """Mark FAILED every comparison run in ``experiment`` still RUNNING for the folder ``out`` whose process on
    this host is gone, and its children still RUNNING; one line per run marked, for the log."""
    folder, host = str(Path(out).resolve()), socket.gethostname()
    running = client.search_runs([experiment], f"tags.`{ROLE_TAG}` = 'compare' and attributes.status = 'RUNNING'",
                                 max_results=1000)
    notes = []
    for run in running:
        tags = run.data.tags
        pid = tags.get(PID_TAG, "")
        if tags.get(OUT_TAG) != folder or tags.get(HOST_TAG) != host or not pid.isdigit():
            continue  # another folder, another host (whose processes this one cannot see), or no owner recorded
        if int(pid) == os.getpid() or process_alive(int(pid), tags.get(START_TAG)):
            continue
        parent = run.info.run_id
        children = client.search_runs([experiment], f"tags.`{PARENT_TAG}` = '{parent}' and "
                                                     f"attributes.status = 'RUNNING'", max_results=1000)
        for child in children:
            client.set_terminated(child.info.run_id, "FAILED")
        client.set_terminated(parent, "FAILED")
        notes.append(f"marked the comparison run {parent} ({run.info.run_name}) FAILED, with {len(children)} child "
                     f"run(s): it was still RUNNING for {folder}, but its process {pid} on {host} is gone "
                     f"(killed, or the machine stopped)")
    return notes


def end_killed(client: Any, run_id: str | None) -> None:
    """Set ``run_id``'s status to KILLED on the way out of an interruption; a store that fails now only warns, so
    the interruption itself still propagates."""
    if run_id is None:
        return
    try:
        client.set_terminated(run_id, "KILLED")
    except Exception as err:  # the interruption matters more than its bookkeeping
        print(f"rnnzoo compare: could not mark MLflow run {run_id} KILLED: {err}", file=sys.stderr)


@contextlib.contextmanager
def sigterm_exits() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``SystemExit(143)`` in the main thread, so ``finally`` clauses (and
    Lightning's own interrupt handling) close the runs; the previous handler is restored after.

    Left alone where the process already handles SIGTERM (its owner decides) or off the main thread (Python
    delivers signals there only). A second SIGTERM while the runs are being closed is ignored: their statuses
    are being written (SIGKILL still stops the process at once).
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    received = False

    def handler(signum: int, frame: Any) -> None:
        nonlocal received
        if not received:
            received = True
            raise SystemExit(128 + signum)  # the shell's exit status for a process ended by that signal

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
