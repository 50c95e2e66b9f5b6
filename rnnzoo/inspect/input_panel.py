"""Draw a model's input on a time axis shared with the gate heatmaps below it (one column per step)."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from rnnzoo.tasks.base import TaskModel


def token_labels(model: TaskModel, tokens: Tensor) -> list[str]:
    """Readable labels of token ids: the vocabulary saved with the model, else bytes for 256-token models."""
    vocab = model.preprocessing.vocab if model.preprocessing is not None else None
    ids = [int(i) for i in tokens]
    if vocab:
        return [str(vocab[i]) if i < len(vocab) else f"#{i}" for i in ids]
    if model.config.get("vocab_size") == 256:
        return [chr(i) if 32 < i < 127 else ("␣" if i == 32 else f"\\x{i:02x}") for i in ids]
    return [str(i) for i in ids]


def draw_input(ax: Any, model: TaskModel, sequence: Tensor) -> Any:
    """Draw one unbatched input (``(T, F)`` or ``(T,)`` token ids) on ``ax``; return the image (None for lines).

    Pixel centres sit at integer steps 0..T-1, like the heatmaps' ``imshow``, so step t lines up across panels.
    """
    steps = sequence.shape[0]
    ax.set_xlim(-0.5, steps - 0.5)
    if model.input_kind == "tokens":
        ids = sequence.long().numpy()
        image = ax.imshow(ids[None, :], aspect="auto", cmap="tab20", interpolation="nearest")
        if steps <= 96:  # beyond that the labels would overlap into a grey smear
            for t, label in enumerate(token_labels(model, sequence)):
                ax.text(t, 0, label, ha="center", va="center", fontsize=7, family="monospace")
        ax.set_yticks([])
        ax.set_ylabel("tokens")
        return image
    values = sequence.float().numpy()
    if model.input_kind == "lines":
        for channel in range(values.shape[1]):
            ax.plot(np.arange(steps), values[:, channel], lw=1.2)
        ax.set_ylabel("series")
        return None
    if model.input_kind == "roll":
        image = ax.imshow(values.T, aspect="auto", origin="lower", cmap="Greys", vmin=0, vmax=1,
                          interpolation="nearest")
        ax.set_ylabel("key")
        return image
    image = ax.imshow(values.T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest")
    ax.set_ylabel("feature")
    return image
