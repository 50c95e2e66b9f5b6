"""How a task model's input reaches its recurrent layer, and how a DataModule batch becomes that input.

The inspectors run the model's layer (``model.rnn``) directly, so they need the tensor the layer reads:
the roll, features or window as they are, and for a language model the token embeddings.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rnnzoo.models.base import TaskModel

#: task -> the batch key holding the model's input, as rnnzoo.data's DataModules name it
INPUT_KEYS = {"piano_roll": "roll", "sequence_classifier": "features", "language_model": "inputs",
              "forecaster": "window"}


def layer_input(model: TaskModel, model_input: Tensor) -> Tensor:
    """The recurrent layer's input ``(B, T, I)`` float for a batch of model inputs.

    ``model_input`` is what ``model(...)`` takes: ``(B, T, F)`` for rolls, features and windows, ``(B, T)``
    token ids for a language model (embedded here, as the model's forward does; dropout is off in eval mode).
    """
    weight = next(model.rnn.parameters())  # inputs follow the model to its device and dtype
    if model.task == "language_model":
        return model.embedding(model_input.long().to(weight.device))
    return model_input.to(device=weight.device, dtype=weight.dtype)


def batch_model_input(model: TaskModel, batch: dict[str, Any]) -> tuple[Tensor, Tensor | None]:
    """``(model input, lengths or None)`` from one DataModule batch, as the task's training step feeds it.

    A piano-roll model reads each piece after an all-silent start frame (``rnnzoo.tasks``'s ``shifted_input``),
    so its input here is shifted the same way. Text and time-series batches are unpadded: lengths is None.
    """
    key = INPUT_KEYS[model.task]
    if key not in batch:
        raise KeyError(f"a {model.task} model reads batch[{key!r}], but this batch has {sorted(batch)}")
    value = batch[key]
    if model.task == "piano_roll":
        from rnnzoo.tasks.piano_roll_task import shifted_input  # the training step's own definition

        value = shifted_input(value)
    return value, batch.get("lengths")

