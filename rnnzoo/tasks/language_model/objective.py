"""Language modelling over contiguous streams with truncated backpropagation through time."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnnzoo.tasks.base import Objective


def _detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


class LanguageModelObjective(Objective):
    """Batches ``{"inputs" (B, T), "targets" (B, T)}``, row b of batch i+1 continuing row b of batch i (as
    :class:`~rnnzoo.data.text.TextDataModule` yields them): the recurrent state is carried over, detached, so the
    model sees the whole stream while gradients flow through ``T`` steps (Zaremba et al. 2014). Metrics:
    ``ppl`` (perplexity) and ``bpt`` (bits per token; bits per character for a character model)."""

    input_key = "inputs"
    monitor = ("val/ppl", "min")
    item_metrics = {"ppl": "min"}

    def __init__(self):
        self._state: dict[str, object] = {}

    def reset_state(self, stage):
        self._state.pop(stage, None)

    def metrics(self, model):
        # torchmetrics (and the Lightning it imports) is seconds of start-up that loading a model never needs
        from rnnzoo.tasks.language_model.metrics import TokenNLL

        return {"ppl": TokenNLL("perplexity"), "bpt": TokenNLL("bits")}

    def _logits(self, model, inputs, stage):
        """Next-token logits, carrying the stage's state over from the previous batch (detached)."""
        state = self._state.get(stage)
        if state is not None and (state[0] if isinstance(state, tuple) else state).shape[1] != inputs.shape[0]:
            state = None  # a batch of another size does not continue the previous rows
        logits, new_state = model(inputs, state, return_state=True)
        self._state[stage] = _detach(new_state)
        return logits

    def step(self, model, batch, metrics, stage):
        inputs, targets = batch["inputs"], batch["targets"]
        logits = self._logits(model, inputs, stage)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")
        for metric in (metrics or {}).values():
            metric.update(nll.detach(), targets.numel())
        return nll / targets.numel(), targets.numel()

    def item_scores(self, model, batch):
        # Items are the rows of each window, read in stream order (call reset_state("items") before a pass).
        logits = self._logits(model, batch["inputs"], "items")  # (B, T, V)
        nll = F.cross_entropy(logits.transpose(1, 2), batch["targets"], reduction="none")  # (B, T)
        return {"ppl": (nll.sum(1), torch.full((len(nll),), float(nll.shape[1])))}

    @staticmethod
    def metric_from_sums(name, numerator, denominator):
        return math.exp(numerator / denominator) if name == "ppl" else numerator / denominator

    def predict(self, model, batch):
        logits = model(batch["inputs"])
        return {"next_token_probs": torch.softmax(logits[:, -1], dim=-1), "logits": logits}
