"""Gaussian weight noise in training (Graves 2011, "Practical variational inference for neural networks"; Chung
et al. 2014 train their music models with it): a regulariser for small recurrent networks on small data sets."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch


class WeightNoise(L.Callback):
    """Each training step's forward and backward run at ``w + eps``, ``eps ~ N(0, sigma^2)`` drawn anew for every
    weight of the module; the gradient found there updates the clean ``w``.

    The noise is added when a training batch starts and taken away after its backward pass (or when the batch
    ends, for a step that ran no backward), so the optimizer, gradient clipping, weight averaging, validation,
    test and checkpoints all see the clean weights. Draws come from torch's generator, so ``seed_everything``
    makes them repeatable.

    Args:
        sigma: the noise's standard deviation (Chung et al.: 0.075), > 0.

    In a recipe: ``trainer.callbacks: [{class_path: rnnzoo.training.weight_noise.WeightNoise, init_args:
    {sigma: 0.075}}]``; in ``rnnzoo compare``: ``--weight-noise SIGMA``.
    """

    def __init__(self, sigma: float):
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"WeightNoise sigma must be a finite number above 0, got {sigma!r} (Chung et al. 2014 "
                             f"used 0.075)")
        self.sigma = float(sigma)
        self._clean: list[tuple[torch.Tensor, torch.Tensor]] | None = None  # (parameter, its clean value)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        # One walk over the module per step: walking it again to restore costs as much as the noise at 20k
        # parameters (a LightningModule's tree includes its metrics).
        params = [p for p in pl_module.parameters() if p.requires_grad]
        with torch.no_grad():
            self._clean = [(p, p.detach().clone()) for p in params]
            for p in params:
                p.add_(torch.randn_like(p), alpha=self.sigma)

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # After backward, not before: autograd still needs the noisy weights it saved in the forward pass.
        self._restore(pl_module)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self._restore(pl_module)  # a step that skipped its backward (training_step returned None)

    def _restore(self, pl_module: L.LightningModule) -> None:
        if self._clean is None:
            return
        with torch.no_grad():
            for p, clean in self._clean:
                p.copy_(clean)
        self._clean = None
