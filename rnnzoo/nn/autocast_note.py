"""The one warning the C++-backed time loops give when they run in float32 under autocast."""

from __future__ import annotations

import functools
import logging


@functools.cache
def note_float32_under_autocast(loop: str, device_type: str) -> None:
    """Say once per loop and device type that ``loop`` has no reduced-precision kernel and runs in float32."""
    logging.getLogger("rnnzoo").warning(
        "rnnzoo: the %s time loop has no reduced-precision kernel; under %s autocast it runs in float32 "
        "(its output is float32). Said once per device type.", loop, device_type
    )
