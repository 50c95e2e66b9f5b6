"""Quiet runs: Lightning's notices that say nothing to someone training or comparing cells on their data are
filtered while ``rnnzoo fit`` or ``rnnzoo compare`` trains; every other warning still shows."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

#: (message regex, why it is noise here)
NOISE = [
    (r".*isinstance\(treespec, LeafSpec\)", "a deprecation inside Lightning's own code, not the user's"),
    (r".*does not have many workers", "num_workers=0 is the fastest choice for these small in-memory data sets"),
    (r".*smaller than the logging interval", "epochs of few batches: the epoch-level metrics are logged anyway"),
    (r".*Checkpoint directory .* exists and is not empty", "compare empties each run's folder itself"),
]


@contextlib.contextmanager
def noise_filtered() -> Iterator[None]:
    """Filter the warnings of :data:`NOISE` for the duration (``rnnzoo fit`` and ``rnnzoo compare``)."""
    with warnings.catch_warnings():
        for pattern, _why in NOISE:
            warnings.filterwarnings("ignore", message=pattern)
        yield


@contextlib.contextmanager
def quiet_training() -> Iterator[None]:
    """:func:`noise_filtered`, and Lightning's per-Trainer info lines (devices, tips) off for the duration: a
    comparison's own one line per run says what happened."""
    lightning_logger = logging.getLogger("lightning.pytorch")
    level = lightning_logger.level
    lightning_logger.setLevel(logging.WARNING)
    with noise_filtered():
        try:
            yield
        finally:
            lightning_logger.setLevel(level)
