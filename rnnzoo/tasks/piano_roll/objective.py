"""Next-frame prediction on piano rolls: Bernoulli NLL per frame."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnzoo.tasks.base import Objective, length_mask


def shifted_input(roll: Tensor) -> Tensor:
    """The model reads frames ``0..T-2`` after an all-silent start frame, so its output at t predicts frame t and
    every frame of a piece is predicted, the first one included (B-L's "averaged over all frames")."""
    return torch.cat([torch.zeros_like(roll[:, :1]), roll[:, :-1]], dim=1)


class PianoRollObjective(Objective):
    """Loss = NLL per frame (nats, summed over 88 keys, averaged over frames); metrics ``nll``, ``frame_acc``."""

    input_key = "roll"
    monitor = ("val/nll", "min")
    item_metrics = {"nll": "min"}

    def metrics(self, model):
        # torchmetrics (and the Lightning it imports) is seconds of start-up that loading a model never needs
        from rnnzoo.tasks.piano_roll.metrics import FrameAccuracy, FrameNLL

        return {"nll": FrameNLL(), "frame_acc": FrameAccuracy()}

    def step(self, model, batch, metrics, stage):
        roll, lengths = batch["roll"], batch["lengths"]
        logits = model(shifted_input(roll), lengths=lengths)
        mask = length_mask(lengths, roll.shape[1], roll.device)
        per_frame = F.binary_cross_entropy_with_logits(logits, roll, reduction="none").sum(-1)
        frames = int(mask.sum())
        loss = (per_frame * mask).sum() / max(frames, 1)
        for metric in (metrics or {}).values():
            metric.update(logits.detach(), roll, mask)
        return loss, frames

    def item_scores(self, model, batch):
        roll, lengths = batch["roll"], batch["lengths"]
        logits = model(shifted_input(roll), lengths=lengths)
        mask = length_mask(lengths, roll.shape[1], roll.device)
        per_frame = F.binary_cross_entropy_with_logits(logits.float(), roll.float(), reduction="none").sum(-1)
        return {"nll": ((per_frame * mask).sum(1), mask.sum(1).float())}

    def model_input(self, model, batch):
        self.check_batch(model, batch)
        return shifted_input(batch["roll"]), batch.get("lengths")

    def predict(self, model, batch):
        roll, lengths = batch["roll"], batch["lengths"]
        probs = torch.sigmoid(model(shifted_input(roll), lengths=lengths))
        return {"probs": probs, "lengths": lengths}
