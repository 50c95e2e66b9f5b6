"""Which model to look inside: a zoo name, an ``rnnzoo.load`` uri, or a model object, always in eval mode."""

from __future__ import annotations

import torch
from torch import nn

from rnnzoo.tasks.base import TaskModel


def is_untrained_name(spec: str) -> bool:
    """True for a bare zoo architecture name (``"pianoroll-gru-20k"``): no weights are named, so none load."""
    from rnnzoo.registry import is_model

    return ":" not in spec and "." not in spec and is_model(spec)


def resolve_model(model: str | nn.Module, *, seed: int = 0) -> TaskModel:
    """Return a task model in eval mode (dropout off, so what is drawn is what inference computes).

    Args:
        model: a :class:`~rnnzoo.models.TaskModel`; a bare zoo architecture name (``"pianoroll-gru-20k"``),
            built **untrained** from ``seed`` (a bare name names no weights); or any name or uri
            :func:`rnnzoo.load` takes (``"pianoroll-gru-20k.jsb"``, ``"local-dir:PATH"``, ``"hf-hub:org/repo"``).
        seed: seeds the initialisation of an untrained model (the caller's random state is left as it was).

    Raises:
        TypeError: for a module that is not one of rnnzoo's task models (the inspectors need its ``rnn`` layer
            and its ``task`` to know how its input reaches that layer).
    """
    if isinstance(model, str):
        from rnnzoo.factory import create_model, load

        if is_untrained_name(model):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = create_model(model)
        else:
            model = load(model)
    if not isinstance(model, TaskModel) or not hasattr(model, "rnn"):
        raise TypeError(f"expected an rnnzoo task model (with a recurrent layer .rnn), got {type(model).__name__}")
    return model.eval()


def weights_origin(spec: str | nn.Module, seed: int = 0) -> str:
    """Where the weights of ``resolve_model(spec)`` come from, in words, for every report to carry."""
    if isinstance(spec, str):
        return f"untrained: random initialisation, seed {seed}" if is_untrained_name(spec) else f"loaded from {spec}"
    return "the model object passed in (its current weights)"


def model_label(model: TaskModel) -> str:
    """A short name for plots and JSON: the zoo architecture name when there is one, else task and cell."""
    if model.architecture and model.architecture != model.task:
        return model.architecture
    return f"{model.task}-{model.config.get('cell', '?')}"
