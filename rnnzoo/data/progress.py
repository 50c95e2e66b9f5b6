"""A progress bar for slow dataset builds (tqdm; silent when output is not a terminal or when disabled)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None, enabled: bool | None = None) -> Iterator[T]:
    """Iterate ``items`` with a progress bar. ``enabled=None`` shows it only on a terminal (tqdm's rule), so
    logs and CI output stay clean; ``False`` never shows it."""
    yield from tqdm(items, desc=desc, total=total, disable=None if enabled is None else not enabled, leave=False)
