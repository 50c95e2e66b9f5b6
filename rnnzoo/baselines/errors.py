"""A saved baseline that cannot be read."""

from __future__ import annotations

from rnnzoo.errors import RnnzooError


class BaselineError(RnnzooError, ValueError):
    """A baseline folder that cannot be read (a missing or foreign baseline.json or baseline.safetensors)."""
