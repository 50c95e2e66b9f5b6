"""``compare(..., resume=True)`` (``rnnzoo compare --resume``): continue an interrupted comparison in its folder,
keeping the runs that finished and training only the rest.

A run that finished writes ``runs/<cell>-seed<k>/run.json`` (its :class:`RunResult`, per-item scores included)
beside its checkpoints; the comparison writes ``comparison.json`` (what decides its runs: data, models, seeds,
training settings) before its first run. Resuming checks that the new call would train the same runs, then takes
each finished run's result from run.json and its weights from its best checkpoint; a run that was interrupted
continues from its last checkpoint (the epochs it finished are not trained again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnnzoo.compare.errors import CompareOptionError
from rnnzoo.compare.single_run import RunResult, TrainSettings

RUN_FILE = "run.json"
COMPARISON_FILE = "comparison.json"
#: what must be equal for a resumed comparison's runs to be the interrupted one's
SAME_KEYS = ("data", "data_info", "split_sizes", "task_config", "family", "budget", "cells", "quantiles", "settings",
             "calibrate")


def identity(meta: dict[str, Any]) -> dict[str, Any]:
    """The part of a comparison's meta that decides its runs (JSON-normalised, so it compares with a saved one)."""
    return json.loads(json.dumps({k: meta.get(k) for k in SAME_KEYS}, default=str))


def write_identity(out: Path, meta: dict[str, Any]) -> None:
    """Record what decides the comparison's runs, before the first is trained."""
    (out / COMPARISON_FILE).write_text(json.dumps(identity(meta), indent=1) + "\n")


def check_resumable(out: Path, meta: dict[str, Any]) -> None:
    """Refuse to resume in ``out`` unless it holds a comparison started with the same data, models and settings."""
    saved_path = out / COMPARISON_FILE
    if not saved_path.is_file():
        raise CompareOptionError(f"--resume: {out} holds no interrupted comparison ({COMPARISON_FILE} is missing); "
                                 f"start one without --resume")
    saved, now = json.loads(saved_path.read_text()), identity(meta)
    changed = {k: (saved.get(k), now.get(k)) for k in SAME_KEYS if saved.get(k) != now.get(k)}
    if changed:
        listing = "; ".join(f"{k}: was {a!r}, now {b!r}" for k, (a, b) in changed.items())
        raise CompareOptionError(f"--resume: {out} was started with other settings ({listing}); give the same "
                                 f"options to resume it, or another --out for a new comparison")


def save_finished(root: Path, result: RunResult) -> None:
    """Mark a run finished: its result, per-item scores included, next to its checkpoints."""
    tmp = root / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(result.to_dict(), default=float) + "\n")
    tmp.replace(root / RUN_FILE)  # whole or absent: an interruption while writing leaves no half file


def interrupted_checkpoint(root: Path) -> Path | None:
    """The last checkpoint of a run that was interrupted in ``root`` (``checkpoints/last.ckpt``, saved after every
    epoch), or None: a resumed comparison continues such a run from it instead of training it again."""
    last = Path(root) / "checkpoints" / "last.ckpt"
    return last if last.is_file() and not (Path(root) / RUN_FILE).is_file() else None


def load_finished(root: Path, model: Any, settings: TrainSettings, overrides: dict[str, Any] | None):
    """``(RunResult, TrainingModule with the best checkpoint's weights)`` of a run that finished in ``root``, or
    None when it did not (no run.json, or its checkpoint is gone)."""
    path = root / RUN_FILE
    if not path.is_file():
        return None
    result = RunResult(**json.loads(path.read_text()))
    if not Path(result.best_checkpoint).is_file():
        return None
    from rnnzoo.compare.single_run import _load_best
    from rnnzoo.training import TrainingModule

    task = TrainingModule(model, optimizer=settings.optimizer, lr=settings.lr, weight_decay=settings.weight_decay,
                         model_overrides=overrides, lr_scheduler=settings.lr_scheduler)
    return result, _load_best(task, result.best_checkpoint).eval()
