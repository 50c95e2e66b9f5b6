"""Where rnnzoo keeps what it builds once and reuses (prepared datasets, kernels compiled on first use)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$RNNZOO_CACHE`` if set, else the platform's user cache directory for rnnzoo (read at call time)."""
    if os.environ.get("RNNZOO_CACHE"):
        return Path(os.environ["RNNZOO_CACHE"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rnnzoo"))
