"""A comparison's runs in parallel worker processes (``compare(..., jobs=N)``, ``rnnzoo compare --jobs N``).

Each (cell, seed) run is independent: a worker process trains it exactly as the sequential path does
(:func:`~rnnzoo.compare.single_run.train_one`, seeded the same way, logging its own child run to the same MLflow
store), scores its best checkpoint per item, and marks it finished in its folder (``run.json``, as ``--resume``
reads it). The parent then takes each result back from that folder, in the sequential order, so the report is
the same whatever finishes first. Workers are spawned, not forked (a fork of a process that ran torch's thread
pools can hang), and share the machine's threads: ``threads // jobs`` each, at least 1. A run that fails is
reported and the others finish.
"""

from __future__ import annotations

import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable

from rnnzoo.compare.models import CellModel
from rnnzoo.compare.single_run import RunResult, TrainSettings
from rnnzoo.errors import RnnzooError

#: what to do when workers die while starting: the usual cause is a script without a ``__main__`` guard
MAIN_GUARD_FIX = ('if compare(..., jobs=N) is called from a script, put the call under `if __name__ == "__main__":` '
                  '(worker processes are spawned: each imports the script first, which must not start a comparison)')


class StartedInAWorkerError(RnnzooError, RuntimeError):
    """compare() called while a spawned worker process was importing the user's script."""


def refuse_in_a_starting_worker() -> None:
    """Refuse to start a comparison inside a worker process that is still starting.

    A spawned worker imports the script that started the pool; a script that calls ``compare`` at its top level
    would start a second comparison there (its plan, MLflow runs and folders) before multiprocessing's own check
    fails it with a bare RuntimeError. This stops it first, with the fix.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise StartedInAWorkerError(f"compare() was called while a worker process was starting; {MAIN_GUARD_FIX}")


def train_and_score(m: CellModel, dm: Any, seed: int, settings: TrainSettings, root: Path, *, tracking_uri: str,
                    experiment_name: str, parent_id: str, calibrate: bool,
                    resume: bool = False) -> tuple[RunResult, Any]:
    """One run in ``root``: trained, its best checkpoint scored per item on test and validation (the verdict
    chooses on validation), and marked finished (``run.json``, as ``--resume`` reads it).

    The folder starts empty, except with ``resume`` where an interrupted run left its last checkpoint there: the
    run then continues from that epoch instead of losing it (:func:`~rnnzoo.compare.resume.interrupted_checkpoint`).
    """
    from rnnzoo.compare.resume import interrupted_checkpoint, save_finished
    from rnnzoo.compare.single_run import train_one
    from rnnzoo.compare.verdict import collect_item_scores

    last = interrupted_checkpoint(root) if resume else None
    if last is None:
        shutil.rmtree(root, ignore_errors=True)
    r, task = train_one(m, dm, seed, settings, root, tracking_uri=tracking_uri, experiment_name=experiment_name,
                        parent_run_id=parent_id, calibrate=calibrate, resume_from=last)
    r.items = collect_item_scores(task, dm)
    r.val_items = collect_item_scores(task, dm, "val")
    save_finished(root, r)
    return r, task


def _train_in_worker(cell_model: CellModel, dm: Any, seed: int, settings: TrainSettings, root: Path,
                     tracking_uri: str, experiment_name: str, parent_id: str, calibrate: bool,
                     threads: int, resume: bool = False) -> str:
    """One run in a worker process, as the sequential path runs it; returns ``root``."""
    import torch

    from rnnzoo.compare.quiet import quiet_training

    torch.set_num_threads(threads)
    with quiet_training():
        dm.setup("fit")
        train_and_score(cell_model, dm, seed, settings, root, tracking_uri=tracking_uri,
                        experiment_name=experiment_name, parent_id=parent_id, calibrate=calibrate, resume=resume)
    return str(root)


def train_in_parallel(jobs: list[tuple[CellModel, int, TrainSettings, Path]], dm: Any, *, workers: int,
                      threads: int, tracking_uri: str, experiment_name: str, parent_id: str, calibrate: bool,
                      log: Callable[[str], None], resume: bool = False) -> dict[tuple[str, int], str | BaseException]:
    """Run ``jobs`` ((model, seed, settings, folder) each) on ``workers`` processes; returns, per (cell, seed),
    the folder the finished run was written to, or the exception it failed with."""
    context = multiprocessing.get_context("spawn")
    per_worker = max(1, threads // workers)
    outcome: dict[tuple[str, int], str | BaseException] = {}
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {(m.cell, seed): pool.submit(_train_in_worker, m, dm, seed, s, root, tracking_uri,
                                               experiment_name, parent_id, calibrate, per_worker, resume)
                   for m, seed, s, root in jobs}
        for key, future in futures.items():
            try:
                outcome[key] = future.result()
            except Exception as err:  # noqa: BLE001 -- one failed run is reported; the others finish
                hint = f"; {MAIN_GUARD_FIX}" if isinstance(err, BrokenProcessPool) else ""
                log(f"{key[0]} seed {key[1]}: failed in its worker ({type(err).__name__}: {err}{hint}); the other "
                    f"runs go on")
                outcome[key] = err
    return outcome
