"""Model names -> builders, and pretrained weights -> their provenance (timm's ``_registry.py`` in spirit).

Naming scheme, one for the whole zoo:

* architecture ``{family}-{cell}-{budget}``: ``pianoroll-gru-20k`` is the piano-roll family's model with a GRU
  sized to 20k parameters (a family is a task with its settings: ``forecaster``, ``sdiff-quantile-forecaster``
  ... all forecasting, see :mod:`rnnzoo.families`); its three siblings differ only in the cell (``pianoroll-*-20k``: ``rnn``, ``lstm``,
  ``peephole-lstm``, ``gru``) and have the same parameter budget within 2%;
* pretrained weights ``{architecture}.{dataset}``: ``pianoroll-gru-20k.jsb`` is that architecture trained on
  JSB Chorales; ``list_pretrained()`` lists only weights that were actually trained and measured (each with a
  :class:`~rnnzoo.pretrained.PretrainedInfo`).

Registries are plain dicts; ``@register_model`` adds a builder; filters are fnmatch patterns. Building models from
names (and loading their weights) is :mod:`rnnzoo.factory`'s; this module imports neither torch nor the hub.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rnnzoo.errors import RnnzooError
from rnnzoo.pretrained import PretrainedInfo

if TYPE_CHECKING:
    from torch import nn

_model_entrypoints: dict[str, Callable[..., "nn.Module"]] = {}  # architecture -> builder(**overrides)
_model_pretrained: dict[str, dict[str, PretrainedInfo]] = {}  # architecture -> tag -> weights metadata


class UnknownModelError(RnnzooError, ValueError):
    """A model name the registry does not know; the message lists the closest known names."""


class NoPretrainedWeightsError(RnnzooError, ValueError):
    """``pretrained=True`` for an architecture (or tag) that has no trained weights."""


def split_model_name(name: str) -> tuple[str, str | None]:
    """``"pianoroll-gru-20k.jsb"`` -> ``("pianoroll-gru-20k", "jsb")``; no tag -> ``(name, None)``."""
    architecture, _, tag = name.partition(".")
    return architecture, tag or None


def register_model(fn: Callable[..., "nn.Module"] | None = None, *, name: str | None = None):
    """Register a model builder, as a decorator (``@register_model`` or ``@register_model(name="x-y")``).

    The builder takes keyword overrides and returns an ``nn.Module``. Without ``name`` the function's name is
    used with ``_`` turned into ``-``. Registering a name twice is an error (it would silently shadow one).
    """

    def add(builder: Callable[..., "nn.Module"]) -> Callable[..., "nn.Module"]:
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


def model_builder(architecture: str) -> Callable[..., "nn.Module"]:
    """The registered builder of ``architecture`` (a name without a tag); unknown names are an error."""
    if architecture not in _model_entrypoints:
        raise UnknownModelError(unknown_model_message(architecture))
    return _model_entrypoints[architecture]
