"""How the C++-backed time loops meet autocast: they run in float32, and say so once."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

import torch

F = TypeVar("F", bound=Callable)


@functools.cache
def note_float32_under_autocast(loop: str, device_type: str) -> None:
    """Say once per loop and device type that ``loop`` has no reduced-precision kernel and runs in float32."""
    logging.getLogger("rnnzoo").warning(
        "rnnzoo: the %s time loop has no reduced-precision kernel; under %s autocast it runs in float32 "
        "(its output is float32). Said once per device type.", loop, device_type
    )


def float32_under_autocast(loop: str) -> Callable[[F], F]:
    """Decorate a direction function ``fn(x, ...)`` whose kernels are float32/float64 only: under autocast it runs
    with autocast off and every floating tensor argument (or list of them) cast to float32, after one note."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def run(x, *args):
            if not torch.is_autocast_enabled(x.device.type):
                return fn(x, *args)
            note_float32_under_autocast(loop, x.device.type)
            with torch.autocast(x.device.type, enabled=False):
                return fn(*(_as_float32(a) for a in (x, *args)))

        return run  # type: ignore[return-value]

    return decorate


def _as_float32(value):
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value  # masks stay bool
    if isinstance(value, list):
        return [_as_float32(v) for v in value]
    return value
