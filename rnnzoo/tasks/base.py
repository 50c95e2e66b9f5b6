"""What every task shares: the model base class, the typed preprocessing base, and the objective base.

A task (piano roll, sequence classifier, language model, forecaster) is one package under ``rnnzoo/tasks/`` that
subclasses these three. The model class ties them together (``objective_class``, ``preprocessing_class``, the
model-card tags, how ``inspect`` draws and synthesises its input), so generic code — training, hub I/O,
``inspect``, ``compare``, the model card — asks the model and never tests ``task == "..."``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from rnnzoo.errors import RnnzooError

if TYPE_CHECKING:
    from torchmetrics import Metric


class PreprocessingError(RnnzooError, ValueError):
    """Raw input that a model's preprocessing cannot encode: the message names the problem and the fix."""


# ---------------------------------------------------------------------------------------------- preprocessing
@dataclasses.dataclass
class Preprocessing:
    """Typed, two-way preprocessing: encodes raw input into what the model reads and decodes its outputs into the
    user's units (torchvision's ``Weights.transforms`` in spirit).

    It serialises to ``config.json`` as ``{key: {field: value}}`` (the layout DataModules write and format 1
    files hold) and is rebuilt from it on load. Subclasses are dataclasses with JSON-able fields and set ``key``.
    """

    key: ClassVar[str] = ""

    def to_config(self) -> dict[str, Any]:
        """``{key: fields}``, plain JSON."""
        return {self.key: dataclasses.asdict(self)}

    @classmethod
    def from_config(cls, config: dict[str, Any], *, task: str = "") -> "Preprocessing":
        """Rebuild from a ``preprocessing`` block of config.json (or a DataModule's ``preprocessing``)."""
        if not isinstance(config, dict) or set(config) != {cls.key}:
            have = sorted(config) if isinstance(config, dict) else type(config).__name__
            raise PreprocessingError(
                f"a {task or cls.__name__} model needs preprocessing {{{cls.key!r}: ...}}, got {have}: the data "
                f"does not fit the model (e.g. a DataModule of another kind). Train it on a DataModule of its task"
            )
        fields = config[cls.key]
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise PreprocessingError(f"preprocessing[{cls.key!r}] has unknown fields {unknown}; {cls.__name__} has "
                                     f"{sorted(known)}. A newer rnnzoo wrote it: upgrade rnnzoo")
        return cls(**fields)


# ------------------------------------------------------------------------------------------------------ model
class TaskModel(nn.Module):
    """Base of rnnzoo's task models (a recurrent layer + a head), with the Hugging Face mixin's methods.

    Subclasses set ``task`` (the key of :data:`rnnzoo.tasks.TASKS`, stored in config.json), call
    :meth:`_store_config` with their init arguments (``model.config`` rebuilds the same architecture and is what
    config.json stores) and point at their task's classes:

    * ``objective_class``: the loss, metrics and predict outputs (:class:`Objective`);
    * ``preprocessing_class``: the typed preprocessing; ``model.preprocessing`` holds an instance of it (or None
      for a model that was never trained on a DataModule) and accepts the dict form, converting it;
    * ``card_tags``: (Hub pipeline tag, readable task name) for the model card;
    * ``input_kind``: how ``inspect`` draws the input (``"tokens"``, ``"lines"``, ``"roll"``, ``"features"``);
    * ``card_usage``: the raw-input call shown in the model card (a string, or a function of the config dict);
    * ``predict_input_example``: the input placeholder after ``rnnzoo predict MODEL`` in the commands a comparison
      writes (``history.csv``, ``recording.wav`` ...);
    * ``saved_baseline_kind``: the :mod:`rnnzoo.baselines` kind a comparison saves this task's baselines as (None:
      not saved);
    * ``median_ensemble``: whether a comparison can rank the median of the cells' point forecasts (forecasters).

    ``architecture`` is the zoo name the model was created from (set by the factory), else ``task``.
    """

    task: ClassVar[str] = ""
    objective_class: ClassVar[type["Objective"]]
    preprocessing_class: ClassVar[type[Preprocessing]]
    card_tags: ClassVar[tuple[str, str]] = ("", "")
    input_kind: ClassVar[str] = "features"
    # the raw-input call the model card shows after loading, or a function of the saved config.json dict giving it
    card_usage: ClassVar[str | Callable[[dict[str, Any]], str]] = ""
    predict_input_example: ClassVar[str] = "INPUT"
    saved_baseline_kind: ClassVar[str | None] = None
    median_ensemble: ClassVar[bool] = False

    def _store_config(self, **init_args: Any) -> None:
        self._config = dict(init_args)
        self.architecture: str = self.task
        self._preprocessing: Preprocessing | None = None

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

    # ------------------------------------------------------------------------------------------ preprocessing
    @property
    def preprocessing(self) -> Preprocessing | None:
        """The typed preprocessing the model was trained with (None: never trained on a DataModule)."""
        return self._preprocessing

    @preprocessing.setter
    def preprocessing(self, value: Preprocessing | dict[str, Any] | None) -> None:
        if value is None or (isinstance(value, dict) and not value):
            self._preprocessing = None
        elif isinstance(value, self.preprocessing_class):
            self._preprocessing = value
        elif isinstance(value, dict):
            self._preprocessing = self.preprocessing_class.from_config(value, task=self.task)
        else:
            raise TypeError(f"a {self.task} model's preprocessing is a {self.preprocessing_class.__name__} (or its "
                            f"config dict), got {type(value).__name__}")

    def require_preprocessing(self, what: str) -> Preprocessing:
        """The preprocessing, or an error saying that ``what`` needs a model trained on a DataModule."""
        if self._preprocessing is None:
            raise PreprocessingError(
                f"{what} needs the preprocessing a DataModule gives a model during training; this "
                f"{self.architecture!r} model has none (untrained, or saved without it). Load a pretrained one "
                f"(rnnzoo.list_pretrained()) or train it with rnnzoo fit / TrainingModule on a DataModule"
            )
        return self._preprocessing

    @contextlib.contextmanager
    def inference(self) -> Iterator[Tensor]:
        """Eval mode and no autograd for a raw-input call, restoring the mode after; yields a parameter, whose
        device and dtype the inputs should take."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                yield next(self.parameters())
        finally:
            self.train(was_training)

    # ------------------------------------------------------------------------------------------------ inspect
    def layer_input(self, model_input: Tensor) -> Tensor:
        """The recurrent layer's input ``(B, T, I)`` for a batch of model inputs (what ``inspect`` runs the
        layer on); the input follows the layer to its device and dtype."""
        weight = next(self.rnn.parameters())
        return model_input.to(device=weight.device, dtype=weight.dtype)

    def synthetic_input(self, steps: int, generator: torch.Generator) -> Tensor:
        """One seeded stand-in input ``(1, T, ...)`` of this task's kind, for looking inside a model when no data
        is at hand (reports made from it say so)."""
        raise NotImplementedError

    def synthetic_keywords(self, model_input: Tensor) -> dict[str, Tensor]:
        """The keyword inputs ``forward`` needs beside a (synthetic) model input, e.g. a forecaster's future-known
        covariates; ``{}`` for most models. Generic code that runs a model on :meth:`synthetic_input` (timing,
        export) calls ``model(x, **model.synthetic_keywords(x))``."""
        return {}

    def predict_from_files(self, inputs: list[str], options: Any) -> str | None:
        """``rnnzoo predict MODEL INPUT ...`` for this task: read the inputs (file paths, or text), run the raw-input
        method, and return what to print (or write ``options.out`` and say so). ``options`` holds the command's
        parsed options (``--horizon``, ``--seed``, ``--out`` ...)."""
        raise PreprocessingError(f"rnnzoo predict has no reader for {self.task} models yet")

    # ---------------------------------------------------------------------------- Hugging Face mixin methods
    def save_pretrained(self, save_directory: str | os.PathLike, *, repo_id: str | None = None,
                        pretrained_info: Any = None):
        """Write config.json + model.safetensors + README.md to ``save_directory`` (see
        :func:`rnnzoo.save_pretrained`); returns the folder."""
        from rnnzoo.hub import save_pretrained

        return save_pretrained(self, save_directory, repo_id=repo_id, pretrained_info=pretrained_info)

    def push_to_hub(self, repo_id: str, **kwargs: Any):
        """Upload to the Hub repo ``repo_id`` (see :func:`rnnzoo.push_to_hub`: ``private``, ``token``,
        ``revision``, ``commit_message``); returns huggingface_hub's ``CommitInfo``."""
        from rnnzoo.factory import push_to_hub

        return push_to_hub(self, repo_id, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any):
        """Load a zoo name, ``hf-hub:org/repo[@rev]``, a Hub repo id ``org/repo`` or a saved folder (see
        :func:`rnnzoo.load`); refuses a model of another task than ``cls``'s."""
        from rnnzoo.factory import from_pretrained

        model = from_pretrained(name_or_path, **kwargs)
        if cls is not TaskModel and not isinstance(model, cls):
            raise TypeError(f"{name_or_path} is a {type(model).__name__} ({model.task}), not a {cls.__name__}; "
                            f"load it with rnnzoo.load or {type(model).__name__}.from_pretrained")
        return model


# -------------------------------------------------------------------------------------------------- objective
class Objective:
    """A task's training objective for :class:`~rnnzoo.training.TrainingModule`: the loss of one batch (updating
    metrics on the way), the metrics to track, what ``predict`` returns, and where a batch holds the model's input.
    """

    #: the batch key holding the model's input, as the task's DataModule names it
    input_key: ClassVar[str] = ""
    #: the metric ``ModelCheckpoint``/early stopping should watch, and whether lower is better
    monitor: ClassVar[tuple[str, str]] = ("val/loss", "min")

    #: the test metrics a comparison's verdict can rank by (:meth:`item_scores` gives each), lower or higher better
    item_metrics: ClassVar[dict[str, str]] = {}

    def metrics(self, model: nn.Module) -> dict[str, "Metric"]:
        """Fresh metric objects for one stage (val or test), by short name."""
        return {}

    def verdict_metric(self, datamodule: Any) -> str:
        """The test metric a comparison's verdict ranks by on ``datamodule``: the first of :attr:`item_metrics`."""
        return next(iter(self.item_metrics))

    def item_scores(self, model: nn.Module, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        """Per item of a test batch (a window, a sequence, a piece, a row of a text window), for each metric of
        :attr:`item_metrics`, a ``(numerator, denominator)`` pair ``(B,)``: the metric over any set of items is
        :meth:`metric_from_sums` of their summed numerators and denominators. A comparison's verdict resamples
        items with these (a bootstrap over test items and seeds)."""
        raise NotImplementedError

    @staticmethod
    def metric_from_sums(name: str, numerator: float, denominator: float) -> float:
        """The metric ``name`` from summed per-item scores (a mean; perplexity overrides it with exp)."""
        return numerator / denominator

    def step(self, model: nn.Module, batch: dict[str, Tensor], metrics: dict[str, "Metric"] | None,
             stage: str) -> tuple[Tensor, int]:
        """Loss of ``batch`` (mean over its items) and the number of items it averages over; updates ``metrics``."""
        raise NotImplementedError

    def predict(self, model: nn.Module, batch: dict[str, Tensor]) -> dict[str, Any]:
        """Useful outputs for one batch (probabilities, labels, forecasts in the data's units)."""
        raise NotImplementedError

    def reset_state(self, stage: str) -> None:
        """Forget any state carried across batches (language models' truncated BPTT)."""

    def check_batch(self, model: nn.Module, batch: dict[str, Any]) -> None:
        """Refuse a batch of another task's DataModule with a message that says so (not a KeyError)."""
        if self.input_key not in batch:
            raise KeyError(f"a {model.task} model reads batch[{self.input_key!r}], but this batch has "
                           f"{sorted(batch)}: the DataModule is for another task. Use a DataModule that fits "
                           f"the model (docs/data.md)")

    def model_input(self, model: nn.Module, batch: dict[str, Any]) -> tuple[Tensor, Tensor | None]:
        """``(model input, lengths or None)`` from one batch, as the training step feeds it (``inspect``)."""
        self.check_batch(model, batch)
        return batch[self.input_key], batch.get("lengths")


def length_mask(lengths: Tensor, seq_len: int, device: torch.device) -> Tensor:
    """``(B, seq_len)`` bool, true on each sequence's real steps (``t < lengths[b]``)."""
    return torch.arange(seq_len, device=device).unsqueeze(0) < lengths.to(device).unsqueeze(1)
