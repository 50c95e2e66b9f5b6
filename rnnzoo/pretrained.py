"""Pretrained weights' provenance: where a set of weights came from and how good it measured.

The bottom of the import order (timm's): pretrained metadata <- registry <- factory -> hub I/O. Plain data only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PretrainedInfo:
    """Where a set of pretrained weights came from and how good it measured (torchvision's ``Weights``).

    Every field is a fact about a training run that happened; nothing here is filled in by hand before it.
    """

    architecture: str  # registered architecture name, e.g. "pianoroll-gru-20k"
    tag: str  # the dataset (and variant) tag: the name is f"{architecture}.{tag}"
    task: str  # task model key, e.g. "piano_roll"
    dataset: str  # dataset name as on the Hub or in the paper, e.g. "jsb_chorales"
    split: str  # the split the metrics were measured on, e.g. "test"
    data_sha256: str  # hash of the prepared data the run read, so a re-run can check it has the same data
    num_params: int
    metrics: dict[str, float]  # measured on `split`, e.g. {"nll": 8.54}; keys are torchmetrics-style names
    recipe: str  # path of the YAML recipe (under recipes/) that reproduces the run
    license: str  # SPDX id of the weights' license (the dataset's terms may bind it)
    paper: str  # the paper whose set-up this follows (URL or citation)
    weights_sha256: str  # sha256 of model.safetensors, checked on every load
    source: str  # "bundled:FOLDER" (under rnnzoo/weights/) or "hf-hub:org/repo@revision"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The full pretrained name, ``architecture.tag``."""
        return f"{self.architecture}.{self.tag}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (stored in config.json and rendered in the model card)."""
        return asdict(self)
