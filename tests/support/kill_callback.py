"""A callback for the resume test: the process dies (no clean-up, like `kill -9`) when an epoch starts."""

import os

import lightning as L


class KillAtEpoch(L.Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            os._exit(137)
