"""The progress bar: Lightning's TQDM bar is replaced by one that redraws at most every ``min_interval`` seconds
and always draws a loop's last batch; a bar the user chose, or none, is left as it is."""

from __future__ import annotations

import lightning as L
import pytest
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar

from rnnzoo.data.timeseries import TimeSeriesDataModule
from rnnzoo.training import TrainingModule
from rnnzoo.training.progress import ThrottledProgressBar

TINY = {"task": "forecaster", "cell": "gru", "horizon": 2, "hidden_size": 8}


class MyBar(TQDMProgressBar):
    pass


def bars_after_fit(tmp_path, **trainer_options) -> list[ProgressBar]:
    trainer = L.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=3, limit_val_batches=1,
                        logger=False, enable_model_summary=False, **trainer_options)
    trainer.fit(TrainingModule(TINY), datamodule=TimeSeriesDataModule("co2", input_length=12, horizon=2))
    return [c for c in trainer.callbacks if isinstance(c, ProgressBar)]


def test_lightnings_default_bar_is_replaced_and_a_chosen_one_kept(tmp_path):
    assert [type(bar) for bar in bars_after_fit(tmp_path / "a")] == [ThrottledProgressBar]
    assert [type(bar) for bar in bars_after_fit(tmp_path / "b", callbacks=[MyBar(refresh_rate=2)])] == [MyBar]
    assert bars_after_fit(tmp_path / "c", enable_progress_bar=False) == []


def test_redraws_wait_min_interval_but_the_last_batch_is_drawn():
    bar = ThrottledProgressBar(min_interval=3600)
    assert bar._should_update(1, 10)  # the first draw of a run
    assert not any(bar._should_update(n, 10) for n in range(2, 10))  # within the hour
    assert bar._should_update(10, 10)  # the loop's end: its final count and metrics
    every = ThrottledProgressBar(min_interval=0)
    assert all(every._should_update(n, 10) for n in range(1, 11))  # 0: as often as Lightning's own bar
    assert ThrottledProgressBar(refresh_rate=4, min_interval=0)._should_update(3, 10) is False  # refresh_rate kept
    with pytest.raises(ValueError, match="min_interval is -1; give seconds >= 0"):
        ThrottledProgressBar(min_interval=-1)
