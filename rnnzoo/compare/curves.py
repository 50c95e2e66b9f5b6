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
        self.fit_seconds = 0.0

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()

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
