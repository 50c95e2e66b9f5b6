"""Learning-rate schedules: TrainingModule builds them from a config, a real Trainer steps them, the command line
takes them, and a bad config is refused when the task is made."""

from __future__ import annotations

import lightning as L
import pytest
import torch
import yaml

from rnnzoo.cli import main
from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.training import TrainingModule

TINY = {"task": "forecaster", "cell": "gru", "horizon": 2, "hidden_size": 8}
HALVING = {"class_path": "MultiStepLR", "init_args": {"milestones": [1, 2], "gamma": 0.5}}


class RecordLR(L.Callback):
    def __init__(self):
        self.rates: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


@pytest.mark.parametrize("class_path", ["MultiStepLR", "torch.optim.lr_scheduler.MultiStepLR"])
def test_trainer_steps_the_schedule_each_epoch(tmp_path, class_path):
    torch.manual_seed(0)
    task = TrainingModule(TINY, optimizer="sgd", lr=0.4, lr_scheduler={**HALVING, "class_path": class_path})
    record = RecordLR()
    trainer = L.Trainer(default_root_dir=tmp_path, max_epochs=4, limit_train_batches=2, limit_val_batches=1,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[record])
    trainer.fit(task, datamodule=TimeSeriesDataModule("co2", input_length=12, horizon=2))
    assert record.rates == pytest.approx([0.4, 0.2, 0.1, 0.1])  # halved after epochs 1 and 2, then constant


def test_without_a_schedule_the_rate_stays(tmp_path):
    task = TrainingModule(TINY, optimizer="sgd", lr=0.4)
    assert isinstance(task.configure_optimizers(), torch.optim.SGD)


@pytest.mark.parametrize("config, message", [
    ({"class_path": "HalvingLR"}, "unknown lr_scheduler class_path 'HalvingLR'.*MultiStepLR"),
    ({"class_path": "torch.optim.SGD"}, "unknown lr_scheduler class_path"),
    ({"init_args": {"gamma": 0.5}}, "must be a dict like"),
    ("MultiStepLR", "must be a dict like"),
    ({**HALVING, "frequency": 2}, r"unknown keys \['frequency'\]"),
    ({**HALVING, "interval": "batch"}, "interval must be 'epoch' or 'step'"),
])
def test_bad_schedule_is_refused_when_the_task_is_made(config, message):
    with pytest.raises(ValueError, match=message):
        TrainingModule(TINY, lr_scheduler=config)


def test_command_line_takes_a_schedule(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--model.model", "forecaster-gru-20k", "--data", "TimeSeriesDataModule",
              "--model.lr_scheduler", '{"class_path": "MultiStepLR", "init_args": {"milestones": [4], "gamma": 0.5}}',
              "--print_config"])
    assert stop.value.code in (0, None)
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["lr_scheduler"] == {"class_path": "MultiStepLR",
                                               "init_args": {"milestones": [4], "gamma": 0.5}}
