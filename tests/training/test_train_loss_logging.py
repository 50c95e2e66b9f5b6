"""TrainingModule logs the training loss as Lightning's ``self.log(on_step=True, on_epoch=True)`` would (the same
metric names, steps and values reach the loggers), calling ``self.log`` only on the steps the loggers write."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import Logger

from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.training import TrainingModule

TINY = {"task": "forecaster", "cell": "gru", "horizon": 2, "hidden_size": 8}


class Recorder(Logger):
    """Keeps every (step, name, value) a Trainer writes."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[int, str, float]] = []

    name, version = "recorder", 0

    def log_metrics(self, metrics, step=None):
        self.rows += [(step, k, float(v)) for k, v in sorted(metrics.items()) if k.startswith("train/")]

    def log_hyperparams(self, params, *args, **kwargs):
        pass


class LightningLogged(TrainingModule):
    """The training loss logged by Lightning itself, on every step: the reference."""

    def _log_train_loss(self, loss, n):
        self.log("train/loss", loss, batch_size=n, prog_bar=True, on_step=True, on_epoch=True)

    def on_train_epoch_end(self):
        pass


def fit(task_class, tmp_path, every: int) -> tuple[list, int]:
    torch.manual_seed(0)
    task = task_class(TINY, optimizer="adam", lr=1e-2)
    calls = []
    original = task.log
    task.log = lambda name, *args, **kwargs: (calls.append(name), original(name, *args, **kwargs))[1]
    recorder = Recorder()
    trainer = L.Trainer(default_root_dir=tmp_path, max_epochs=3, limit_train_batches=7, limit_val_batches=1,
                        logger=recorder, log_every_n_steps=every, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(task, datamodule=TimeSeriesDataModule("co2", input_length=12, horizon=2, batch_size=8))
    return recorder.rows, sum(name.startswith("train/") for name in calls)


@pytest.mark.parametrize("every", [1, 3])
def test_the_loggers_get_what_lightnings_own_logging_gives(tmp_path, every):
    ours, our_calls = fit(TrainingModule, tmp_path / "ours", every)
    reference, reference_calls = fit(LightningLogged, tmp_path / "reference", every)
    assert [(step, name) for step, name, _ in ours] == [(step, name) for step, name, _ in reference]
    assert {name for _, name, _ in ours} == {"train/loss_step", "train/loss_epoch"}
    # The same seeded run: the step values are the same tensors; the epoch means are a float32 sum of 7 batches
    # in another order of operations (ours: loss * n summed; Lightning's: a weighted running mean), so 1e-6.
    assert [value for *_, value in ours] == pytest.approx([value for *_, value in reference], rel=1e-6)
    # ... with fewer self.log calls: one on each step the loggers write (every `every`-th of the 21, counted
    # across epochs), and one per epoch for the epoch mean
    assert reference_calls == 21
    assert our_calls == 21 // every + 3
