"""Whole-sequence classification: cross-entropy, accuracy and macro F1."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnzoo.tasks.base import Objective


class ClassificationObjective(Objective):
    """Batches ``{"features" (B, T, F), "lengths", "label" (B,)}``; metrics ``acc`` (micro) and ``f1`` (macro)."""

    input_key = "features"
    monitor = ("val/acc", "max")
    item_metrics = {"acc": "max"}

    def metrics(self, model):
        # torchmetrics (and the Lightning it imports) is seconds of start-up that loading a model never needs
        from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

        n = model.config["num_classes"]
        return {"acc": MulticlassAccuracy(n, average="micro"), "f1": MulticlassF1Score(n, average="macro")}

    def step(self, model, batch, metrics, stage):
        logits = model(batch["features"], lengths=batch["lengths"])
        loss = F.cross_entropy(logits, batch["label"])
        for metric in (metrics or {}).values():
            metric.update(logits.detach(), batch["label"])
        return loss, len(batch["label"])

    def item_scores(self, model, batch):
        correct = (model(batch["features"], lengths=batch["lengths"]).argmax(-1) == batch["label"]).float()
        return {"acc": (correct, torch.ones_like(correct))}

    def predict(self, model, batch):
        probs = torch.softmax(model(batch["features"], lengths=batch["lengths"]), dim=-1)
        return {"probs": probs, "label": probs.argmax(-1)}
