"""Quiet comparison runs: Lightning's and MLflow's notices that say nothing to someone comparing cells on their
data are filtered while a comparison trains; every other warning still shows."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

#: (message regex, why it is noise here)
NOISE = [
    (r".*isinstance\(treespec, LeafSpec\)", "a deprecation inside Lightning's own code, not the user's"),
    (r".*does not have many workers", "num_workers=0 is the fastest choice for these small in-memory data sets"),
    (r".*smaller than the logging interval", "epochs of few batches; train_one logs every epoch's steps anyway"),
    (r".*Checkpoint directory .* exists and is not empty", "compare empties each run's folder itself"),
]


@contextlib.contextmanager
def quiet_training() -> Iterator[None]:
    """Filter :data:`NOISE` and Lightning's per-Trainer info lines (devices, tips) for the duration."""
    lightning_logger = logging.getLogger("lightning.pytorch")
    level = lightning_logger.level
    lightning_logger.setLevel(logging.WARNING)
    with warnings.catch_warnings():
        for pattern, _why in NOISE:
            warnings.filterwarnings("ignore", message=pattern)
        try:
            yield
        finally:
            lightning_logger.setLevel(level)
