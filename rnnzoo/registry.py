"""Model names -> builders, and pretrained weights -> their provenance (timm's ``_registry.py`` in spirit).

Naming scheme, one for the whole zoo:

* architecture ``{task}-{cell}-{budget}``: ``pianoroll-gru-20k`` is the piano-roll model with a GRU sized to
  20k parameters; its three siblings differ only in the cell (``pianoroll-*-20k``: ``rnn``, ``lstm``,
  ``peephole-lstm``, ``gru``) and have the same parameter budget within 2%;
* pretrained weights ``{architecture}.{dataset}``: ``pianoroll-gru-20k.jsb`` would be that architecture trained
  on JSB Chorales (none exist yet: ``list_pretrained()`` lists only weights that were actually trained and
  measured).

Registries are plain dicts; ``@register_model`` adds a builder; filters are fnmatch patterns.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

_model_entrypoints: dict[str, Callable[..., nn.Module]] = {}  # architecture -> builder(**overrides)
_model_pretrained: dict[str, dict[str, PretrainedInfo]] = {}  # architecture -> tag -> weights metadata


class UnknownModelError(ValueError):
    """A model name the registry does not know; the message lists the closest known names."""


class NoPretrainedWeightsError(ValueError):
    """``pretrained=True`` for an architecture (or tag) that has no trained weights."""


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


def split_model_name(name: str) -> tuple[str, str | None]:
    """``"pianoroll-gru-20k.jsb"`` -> ``("pianoroll-gru-20k", "jsb")``; no tag -> ``(name, None)``."""
    architecture, _, tag = name.partition(".")
    return architecture, tag or None


def register_model(fn: Callable[..., nn.Module] | None = None, *, name: str | None = None):
    """Register a model builder, as a decorator (``@register_model`` or ``@register_model(name="x-y")``).

    The builder takes keyword overrides and returns an ``nn.Module``. Without ``name`` the function's name is
    used with ``_`` turned into ``-``. Registering a name twice is an error (it would silently shadow one).
    """

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        key = name or builder.__name__.replace("_", "-")
        if "." in key or "/" in key or ":" in key:
            raise ValueError(f"model name {key!r} may not contain '.', '/' or ':' (they separate tags and URIs)")
        if key in _model_entrypoints:
            raise ValueError(f"model {key!r} is already registered")
        _model_entrypoints[key] = builder
        return builder

    return add(fn) if fn is not None else add


def register_pretrained(info: PretrainedInfo) -> PretrainedInfo:
    """Attach trained weights (with their metadata) to a registered architecture."""
    if info.architecture not in _model_entrypoints:
        raise UnknownModelError(unknown_model_message(info.architecture))
    _model_pretrained.setdefault(info.architecture, {})[info.tag] = info
    return info


def _matches(name: str, patterns: str | Iterable[str]) -> bool:
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    return any(fnmatch.fnmatchcase(name, p) for p in patterns if p) or not any(patterns)


def list_models(filter: str | Iterable[str] = "", pretrained: bool = False) -> list[str]:
    """Registered names matching the fnmatch ``filter`` (e.g. ``"pianoroll-*-20k"``), sorted.

    With ``pretrained=True``: only ``architecture.tag`` names that have trained weights.
    """
    if pretrained:
        names = [f"{arch}.{tag}" for arch, tags in _model_pretrained.items() for tag in tags]
    else:
        names = list(_model_entrypoints)
    return sorted(n for n in names if _matches(n, filter))


def list_pretrained(filter: str | Iterable[str] = "") -> list[str]:
    """``architecture.tag`` names with trained weights, matching ``filter``."""
    return list_models(filter, pretrained=True)


def is_model(name: str) -> bool:
    """Whether ``name`` (with or without a tag) names a registered architecture."""
    return split_model_name(name)[0] in _model_entrypoints


def unknown_model_message(name: str) -> str:
    """'unknown model NAME; did you mean ...?' with the closest registered names (difflib)."""
    known = list(_model_entrypoints) + list_pretrained()
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown model {name!r}{hint} (rnnzoo.list_models() lists all {len(_model_entrypoints)})"


def check_model_name(name: str) -> None:
    """Refuse a name with '/' (a Hub repo id needs ``hf-hub:``, as in timm) and unknown names."""
    if "/" in name:
        raise ValueError(
            f"{name!r} looks like a Hugging Face Hub repo id; load it with 'hf-hub:{name}' "
            f"(or a folder with 'local-dir:PATH')"
        )
    if not is_model(name):
        raise UnknownModelError(unknown_model_message(name))


def get_pretrained_info(name: str) -> PretrainedInfo:
    """Metadata of the weights ``name`` names (``arch.tag``; a bare arch takes its only/first tag)."""
    check_model_name(name)
    architecture, tag = split_model_name(name)
    tags = _model_pretrained.get(architecture, {})
    if not tags:
        have = list_pretrained()
        raise NoPretrainedWeightsError(
            f"{architecture!r} has no pretrained weights yet (pretrained: {have or 'none so far'}). "
            f"create_model({architecture!r}) builds it untrained, to train with a recipe"
        )
    if tag is None:
        tag = next(iter(tags))
    if tag not in tags:
        raise NoPretrainedWeightsError(
            f"{architecture!r} has no weights tagged {tag!r}; it has: {', '.join(f'{architecture}.{t}' for t in tags)}"
        )
    return tags[tag]


def create_model(name: str, pretrained: bool = False, **overrides: Any) -> nn.Module:
    """Build a zoo model by name, untrained or with its pretrained weights.

    Args:
        name: an architecture (``"pianoroll-gru-20k"``), with a weights tag for pretrained ones
            (``"pianoroll-gru-20k.jsb"``), or a ``hf-hub:org/repo[@revision]`` / ``local-dir:PATH`` URI
            (those always load weights, as :func:`rnnzoo.load`).
        pretrained: load the trained weights (bundled in the package: no network). Raises
            :class:`NoPretrainedWeightsError` when the architecture has none.
        **overrides: init arguments replacing the architecture's (e.g. ``dropout=0.3``). Overrides that change
            sizes break the parameter match and, with ``pretrained=True``, fail strict weight loading.
    """
    if name.startswith(("hf-hub:", "local-dir:")):
        from rnnzoo.hub import load

        return load(name, **overrides)
    check_model_name(name)
    if pretrained:
        from rnnzoo.hub import load_pretrained_info

        return load_pretrained_info(get_pretrained_info(name), **overrides)
    architecture, tag = split_model_name(name)
    if tag is not None:
        get_pretrained_info(name)  # an unknown tag is an error even when only the architecture is built
    model = _model_entrypoints[architecture](**overrides)
    model.architecture = architecture
    return model
