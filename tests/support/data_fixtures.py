"""Datasets built once per test session and shared by the data and task tests (building is the slow part)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile

SESSION_CACHE = tempfile.mkdtemp(prefix="rnnzoo-test-cache-")
atexit.register(shutil.rmtree, SESSION_CACHE, ignore_errors=True)

# 40 chorales parse in about 4 s here; all ~350 take about 40 s, too slow for every test run (the full build is
# what PianoRollDataModule does by default, measured by hand and reported in docs/data.md).
JSB_LIMIT = 40


@functools.lru_cache(maxsize=None)
def jsb_small():
    """A PianoRollDataModule over the first 40 chorales, set up, cached in the session's temporary cache dir."""
    from rnnzoo.data import PianoRollDataModule

    dm = PianoRollDataModule(limit=JSB_LIMIT, cache_dir=SESSION_CACHE, batch_size=8, progress=False)
    dm.setup()
    return dm
