"""What every task model shares: a JSON-able config of its init arguments, so it can be saved and rebuilt."""

from __future__ import annotations

from typing import Any

from torch import nn


class TaskModel(nn.Module):
    """Base of rnnzoo's task models (a recurrent layer + a head).

    Subclasses set ``task`` (the key under which ``rnnzoo.models.TASK_MODELS`` finds them) and call
    :meth:`_store_config` with their init arguments; ``model.config`` then rebuilds the same architecture
    (``type(model)(**model.config)``) and is what ``config.json`` stores.
    ``architecture`` is the zoo name the model was created from (set by ``create_model``), else ``task``.
    ``preprocessing`` is whatever state the data pipeline needs (scaler, vocabulary, feature settings); it is
    saved and loaded with the weights but the model itself never reads it.
    """

    task: str = ""

    def _store_config(self, **init_args: Any) -> None:
        self._config = dict(init_args)
        self.architecture: str = self.task
        self.preprocessing: dict[str, Any] = {}

    @property
    def config(self) -> dict[str, Any]:
        """The init arguments (a copy); ``type(self)(**self.config)`` builds the same architecture."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        """Build from a config dict (the init arguments)."""
        return cls(**config)

    @property
    def num_parameters(self) -> int:
        """Number of distinct trainable parameters (tied weights counted once)."""
        return sum(p.numel() for p in self.parameters())  # parameters() already skips shared duplicates
