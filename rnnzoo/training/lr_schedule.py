"""Learning-rate schedules from a plain config, so that a schedule lives in a recipe, a checkpoint's
hyperparameters and ``rnnzoo compare`` presets alike."""

from __future__ import annotations

from typing import Any

import torch

SCHEDULER_MODULE = "torch.optim.lr_scheduler"


def check_lr_scheduler(config: dict[str, Any] | None) -> None:
    """Refuse a schedule config that :func:`build_lr_scheduler` could not build, when the task is made (not
    epochs later when fitting starts)."""
    if config is None:
        return
    if not isinstance(config, dict) or "class_path" not in config:
        raise ValueError(
            f"lr_scheduler must be a dict like {{'class_path': 'MultiStepLR', 'init_args': {{'milestones': [4], "
            f"'gamma': 0.5}}}}, got {config!r}")
    unknown = set(config) - {"class_path", "init_args", "interval"}
    if unknown:
        raise ValueError(f"lr_scheduler has unknown keys {sorted(unknown)}; use class_path, init_args, interval")
    if config.get("interval", "epoch") not in ("epoch", "step"):
        raise ValueError(f"lr_scheduler interval must be 'epoch' or 'step', got {config['interval']!r}")
    _scheduler_class(config["class_path"])


def _scheduler_class(class_path: str) -> type:
    name = class_path.removeprefix(SCHEDULER_MODULE + ".")
    cls = getattr(torch.optim.lr_scheduler, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.lr_scheduler.LRScheduler)):
        choices = sorted(n for n, c in vars(torch.optim.lr_scheduler).items()
                         if isinstance(c, type) and issubclass(c, torch.optim.lr_scheduler.LRScheduler)
                         and not n.startswith("_") and n != "LRScheduler")
        raise ValueError(f"unknown lr_scheduler class_path {class_path!r}; choose a {SCHEDULER_MODULE} class: "
                         f"{', '.join(choices)}")
    return cls


def build_lr_scheduler(optimizer: torch.optim.Optimizer, config: dict[str, Any]) -> dict[str, Any]:
    """Lightning's scheduler dict for ``config`` = ``{"class_path": "MultiStepLR" (or the full
    ``torch.optim.lr_scheduler.`` path), "init_args": {...}, "interval": "epoch" | "step"}``."""
    check_lr_scheduler(config)
    scheduler = _scheduler_class(config["class_path"])(optimizer, **config.get("init_args", {}))
    return {"scheduler": scheduler, "interval": config.get("interval", "epoch")}
