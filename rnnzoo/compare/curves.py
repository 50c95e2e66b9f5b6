"""A callback that records the validation metric after every epoch with the wall-clock time since fitting began
(Chung et al. 2014, Figures 2-3 plot both axes)."""

from __future__ import annotations

import time

import lightning as L


class ValidationCurve(L.Callback):
    """After each validation run of fitting: ``epochs`` (1-based), ``seconds`` since fit start (training and
    validation both count: it is the time a user waits) and ``values`` of ``monitor``.

    Read at ``on_validation_end``, where ModelCheckpoint and EarlyStopping read it too: at
    ``on_validation_epoch_end`` the epoch's aggregated metrics are not yet in ``callback_metrics``.

    The curve is saved in every checkpoint (Lightning keeps a callback's ``state_dict``), so a fit resumed from
    one continues it: earlier epochs kept, seconds counted on from where the interrupted fit stopped. A curve that
    has values already is not replaced (testing a checkpoint restores callbacks too).
    """

    #: recorded too when the task logs them (probabilistic forecasters): shown in a second row of curves.png
    ALSO = ("val/pinball", "val/coverage")

    def __init__(self, monitor: str):
        self.monitor = monitor
        self.also: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.seconds: list[float] = []
        self.values: list[float] = []
        self._start = 0.0
        self._resumed_seconds = 0.0  # fitting time before a resume, taken from the checkpoint
        self.fit_seconds = 0.0

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter() - self._resumed_seconds

    def state_dict(self) -> dict:
        return {"monitor": self.monitor, "curve": self.as_dict(), "elapsed": time.perf_counter() - self._start}

    def load_state_dict(self, state_dict: dict) -> None:
        if self.values:
            # Lightning restores callbacks from a checkpoint for test(ckpt_path=...) too: after this fit, the best
            # checkpoint's curve would cut this one off at the best epoch. Only a fit that starts empty resumes.
            return
        if state_dict.get("monitor") != self.monitor:
            return  # a checkpoint of a fit that watched another metric: its curve is not this one
        curve = dict(state_dict["curve"])
        self.epochs, self.seconds, self.values = curve.pop("epoch"), curve.pop("seconds"), curve.pop("value")
        self.also = curve
        # Lightning may restore callbacks before or after on_fit_start: both orders count on from here.
        self._resumed_seconds = float(state_dict["elapsed"])
        self._start = time.perf_counter() - self._resumed_seconds

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        self.epochs.append(trainer.current_epoch + 1)
        self.seconds.append(time.perf_counter() - self._start)
        self.values.append(float(trainer.callback_metrics[self.monitor]))
        for name in self.ALSO:
            if name in trainer.callback_metrics:
                self.also.setdefault(name, []).append(float(trainer.callback_metrics[name]))

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.fit_seconds = time.perf_counter() - self._start

    def as_dict(self) -> dict[str, list]:
        return {"epoch": list(self.epochs), "seconds": list(self.seconds), "value": list(self.values),
                **{name: list(values) for name, values in self.also.items()}}
