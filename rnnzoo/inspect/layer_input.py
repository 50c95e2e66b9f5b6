"""How a batch reaches a task model's recurrent layer, for the inspectors (which run ``model.rnn`` directly).

Each task says it itself: its objective knows which batch key holds the model's input and how the training step
feeds it (``Objective.model_input``), its model how that input becomes the layer's (``TaskModel.layer_input``).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rnnzoo.tasks.base import TaskModel


def layer_input(model: TaskModel, model_input: Tensor) -> Tensor:
    """The recurrent layer's input ``(B, T, I)`` for a batch of model inputs (what ``model(...)`` takes)."""
    return model.layer_input(model_input)


def batch_model_input(model: TaskModel, batch: dict[str, Any]) -> tuple[Tensor, Tensor | None]:
    """``(model input, lengths or None)`` from one DataModule batch, as the task's training step feeds it."""
    return type(model).objective_class().model_input(model, batch)

