"""Lightning's TQDM progress bar, redrawn at most ten times a second.

Lightning redraws its bar after every batch (``refresh_rate=1``), formatting every logged metric for the postfix
each time, which bypasses tqdm's own rate limit. With the zoo's small models a training step takes 5-15 ms on a
CPU, and the redraw about 2 ms of it (``benchmarks/train_throughput.py``). A person cannot read more than a few
redraws a second, so this bar skips the ones that come sooner than ``min_interval`` after the last; the last batch
of a loop is always drawn, so the counts and metrics a loop ends with are the same as Lightning's.
"""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import TQDMProgressBar


class ThrottledProgressBar(TQDMProgressBar):
    """:class:`~lightning.pytorch.callbacks.TQDMProgressBar` that also waits ``min_interval`` seconds between
    redraws (besides every ``refresh_rate`` batches).

    Args:
        refresh_rate, process_position, leave: as ``TQDMProgressBar``.
        min_interval: seconds between two redraws within a loop; 0 draws as often as Lightning does.
    """

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False,
                 min_interval: float = 0.1):
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        if min_interval < 0:
            raise ValueError(f"min_interval is {min_interval}; give seconds >= 0 (0: redraw on every batch)")
        self.min_interval = min_interval
        self._last_drawn = float("-inf")

    def _should_update(self, current: int, total: int) -> bool:
        if not super()._should_update(current, total):
            return False
        now = time.monotonic()
        if current != total and now - self._last_drawn < self.min_interval:
            return False
        self._last_drawn = now
        return True

    @classmethod
    def replacing(cls, bar: TQDMProgressBar) -> "ThrottledProgressBar":
        """A throttled bar with ``bar``'s settings (what Lightning added when ``enable_progress_bar`` is on)."""
        return cls(refresh_rate=bar.refresh_rate, process_position=bar.process_position, leave=bar._leave)
