"""``CalibrateIntervals``: at the end of fit, calibrate a quantile forecaster's intervals on the validation split
(conformalized quantile regression, :mod:`rnnzoo.tasks.forecaster.calibration`), so a recipe gets calibrated
intervals without a separate step::

    model:
      model: quantile-forecaster-gru-20k
      model_overrides: {calibrated: true}
    trainer:
      callbacks:
        - class_path: rnnzoo.training.callbacks.CalibrateIntervals
        - class_path: rnnzoo.mlflow_export.MLflowModelExport   # after it: exports the calibrated model
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch

from rnnzoo.tasks.forecaster.calibration import calibrate_intervals

#: the model's buffer as TrainingModule's checkpoints name it
OFFSETS_KEY = "model.interval_offsets"


class CalibrateIntervals(L.Callback):
    """When fit ends, calibrate the trained model's intervals on the trainer's DataModule's validation windows and
    write the offsets of the best checkpoint's weights into that checkpoint file.

    Both the weights in memory (the last epoch's) and the best checkpoint's get offsets computed for their own
    quantiles, so ``rnnzoo test --ckpt_path <best>.ckpt`` and the callbacks listed after this one that read the
    best checkpoint (:class:`~rnnzoo.mlflow_export.MLflowModelExport`, :class:`~rnnzoo.callbacks.HubPush`) see
    calibrated intervals. last.ckpt, the resume point, is left as it was. The model must be built with
    ``calibrated=True`` (``model_overrides: {calibrated: true}`` for a zoo name); otherwise the error says so.

    Attributes after fit: ``summary`` (what :func:`calibrate_intervals` returned for the weights in memory) and
    ``checkpoint_summary`` (for the best checkpoint's, or None when the trainer kept none).

    Args:
        checkpoint: also calibrate and rewrite the best checkpoint (default True).
    """

    def __init__(self, checkpoint: bool = True):
        self.checkpoint = checkpoint
        self.summary: dict[str, Any] | None = None
        self.checkpoint_summary: dict[str, Any] | None = None

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        if datamodule is None:
            raise ValueError("CalibrateIntervals calibrates on the DataModule's validation split: fit with "
                             "trainer.fit(task, datamodule=...) (a recipe's data: section), not bare dataloaders")
        self.summary = calibrate_intervals(pl_module.model, datamodule)
        best = getattr(trainer.checkpoint_callback, "best_model_path", "") if self.checkpoint else ""
        if not best or not Path(best).is_file():
            return
        task = type(pl_module).load_from_checkpoint(best, map_location=pl_module.device)
        self.checkpoint_summary = calibrate_intervals(task.model, datamodule)
        if trainer.is_global_zero:  # every rank computes the same offsets; one writes the file
            # Lightning's loop state, hyperparameters and our preprocessing are plain containers and numbers:
            # the safe unpickler reads them (no arbitrary code from a file on disk).
            state = torch.load(best, map_location="cpu", weights_only=True)
            state["state_dict"][OFFSETS_KEY] = task.model.interval_offsets.detach().cpu()
            torch.save(state, best)
