"""``compare``: train every cell x seed at one parameter budget on one dataset, and write the table, the curves
and every number (results.md, curves.png, results.json), with one parent MLflow run and a child run per run.

Three steps, each in its module: the plan (:mod:`rnnzoo.compare.planner`: the data read once, the models, the
settings, every choice said before training), the run (:mod:`rnnzoo.compare.run_phase`: searches, the cell x seed
runs, the baselines on the same items) and the report (:mod:`rnnzoo.compare.report`), with what can be used
afterwards saved in between (:mod:`rnnzoo.compare.saving`). This module opens and closes the parent run around
them, whatever happens.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from typing import Any, Callable

import torch

from rnnzoo.compare.errors import CompareOptionError
from rnnzoo.compare.lifecycle import INTERRUPTS, end_killed, fail_abandoned_runs, owner_tags, sigterm_exits
from rnnzoo.compare.options import CompareOptions
from rnnzoo.compare.planner import (COMPARISON_FILES, ComparisonPlan, DataSource, check_out_dir, default_out_dir,
                                    make_plan)
from rnnzoo.compare.single_run import ROLE_TAG

__all__ = ["COMPARISON_FILES", "CompareOptionError", "CompareOptions", "DataSource", "check_out_dir", "compare",
           "default_out_dir"]


def _stoppable(function: Callable) -> Callable:
    """``function`` with SIGTERM turned into ``SystemExit(143)`` while it runs (see :func:`~rnnzoo.compare
    .lifecycle.sigterm_exits`), so that a stopped comparison ends its MLflow runs as KILLED."""

    @functools.wraps(function)
    def stoppable(*args: Any, **kwargs: Any) -> Any:
        with sigterm_exits():
            return function(*args, **kwargs)

    return stoppable


@_stoppable
def compare(data: DataSource, options: CompareOptions | None = None, **overrides: Any) -> dict[str, Any]:
    """Train every cell with every seed at one parameter budget and report them side by side.

    Args:
        data: a preset name (``"jsb"``, ``"japanese_vowels"``, ``"co2"``, ``"sunspots"``, ``"ptb"``, see
            :mod:`rnnzoo.compare.presets`: it also brings the models and a training set-up), the path of the
            user's own data (a CSV/Parquet table, a folder of label/*.wav, a .txt file or folder: see
            :mod:`rnnzoo.compare.user_data`, which chooses the task, models and budget from it), a DataModule, or
            a factory called with ``datamodule_options``. The same DataModule (same split) serves every run.
        options: every other choice (:class:`~rnnzoo.compare.options.CompareOptions`, whose fields are documented
            there); default: all defaults.
        **overrides: fields of :class:`CompareOptions` given as keywords (``cells=("gru",)``, ``seeds=(0,)``,
            ``max_epochs=5`` ...), applied over ``options``; an unknown name is refused.

    Returns:
        Everything written to results.json (``meta``, ``verdict``, ``cells``, ``runs``, ``lr_search``,
        ``baselines``, ``models``, ``files``, ``use``).
    """
    from rnnzoo.compare.parallel_runs import refuse_in_a_starting_worker
    from rnnzoo.compare.quiet import quiet_training
    from rnnzoo.compare.report import write_report
    from rnnzoo.compare.run_phase import run_plan
    from rnnzoo.compare.saving import save_outputs

    refuse_in_a_starting_worker()
    o = CompareOptions.merged(options, overrides)
    plan = make_plan(data, o)
    client, parent_id, abandoned = _parent_run(plan)
    log, progress = _progress(o.log, len(plan.models) * len(o.seeds))
    for line in abandoned:
        log(line)
    log("Plan:\n" + "\n".join(f"  {line}" for line in plan.meta["plan"]))
    plan.meta["parent_run_id"] = parent_id
    status = "FAILED"
    old_threads = torch.get_num_threads()
    if o.threads:
        torch.set_num_threads(o.threads)
    context = contextlib.ExitStack()  # quiet warnings and the progress bar, closed whatever happens
    context.enter_context(quiet_training())
    if progress is not None:
        context.callback(progress.close)
    try:
        outcome = run_plan(plan, client=client, parent_id=parent_id, log=log, progress=progress,
                           threads=o.threads or old_threads)
        results = write_report(plan, outcome, save_outputs(plan, outcome), client=client, parent_id=parent_id,
                               log=log)
        status = "FINISHED"
        return results
    except INTERRUPTS:  # Ctrl+C, or SIGTERM through sigterm_exits
        status = "KILLED"
        raise
    finally:
        context.close()
        if status == "KILLED":
            end_killed(client, parent_id)  # a failing store must not replace the interruption
        else:
            client.set_terminated(parent_id, status)
        torch.set_num_threads(old_threads)


def _parent_run(plan: ComparisonPlan) -> tuple[Any, str, list[str]]:
    """The comparison's parent run, after marking FAILED the runs a dead process left RUNNING for ``plan.out``;
    returns the client, the run's id and a line per run so marked."""
    from mlflow.tracking import MlflowClient

    from rnnzoo.tracking import experiment_id, sqlite_artifact_location

    meta, space = plan.meta, plan.space
    params = {"data": plan.data_name, "budget": plan.label, "cells": meta["cells"], "seeds": meta["seeds"],
              **{f"settings.{k}": v for k, v in meta["settings"].items()}, "lr_search": plan.options.lr_search,
              **({"search.storage": meta["lr_search"]["storage"], "search.study_prefix": space.study_name,
                  "search.size_range": meta["lr_search"]["size_range"]} if space else {})}
    client = MlflowClient(tracking_uri=plan.tracking_uri)
    # Artifacts next to a SQLite store, not in the working directory (see sqlite_artifact_location).
    experiment = experiment_id(client, plan.options.experiment_name, sqlite_artifact_location(plan.tracking_uri))
    abandoned = fail_abandoned_runs(client, experiment, plan.out)
    # The owner's tags go in with the run, in one write: a run that exists always says whose it is.
    run = client.create_run(experiment, run_name=f"compare-{plan.data_name}-{plan.label}",
                            tags={ROLE_TAG: "compare", **owner_tags(plan.out)})
    for key, value in params.items():
        client.log_param(run.info.run_id, key, str(value)[:6000])  # MLflow's limit on a parameter value
    return client, run.info.run_id, abandoned


def _progress(log: Callable[[str], None] | None, total: int):
    """The log function and a progress bar over the whole comparison (one tick per run) when stderr is a terminal
    and no log function was given; the bar is None otherwise."""
    if log is not None or not sys.stderr.isatty():
        return log or print, None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="rnnzoo compare", unit="run", dynamic_ncols=True)
    return bar.write, bar
