"""Models from names: zoo names, ``hf-hub:`` repos and ``local-dir:`` folders -> built models with their weights.

The middle of the import order (timm's): pretrained metadata <- registry <- factory -> hub I/O. The registry says
which builder a name has and what weights exist; :mod:`rnnzoo.hub` reads and writes the files; this module puts
them together. Everything here is re-exported as ``rnnzoo.create_model``, ``rnnzoo.load``, ``rnnzoo.push_to_hub``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from torch import nn

from rnnzoo import hub
from rnnzoo.hub import HubError, ModelFileError
from rnnzoo.pretrained import PretrainedInfo
from rnnzoo.registry import (
    UnknownModelError, check_model_name, get_pretrained_info, is_model, model_builder, split_model_name,
    unknown_model_message,
)

__all__ = ["HubError", "ModelFileError", "ModelSource", "create_model", "from_pretrained", "load", "load_folder",
           "load_pretrained_info", "parse_model_source", "push_to_hub"]


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: a zoo name, a Hub repo (at a revision) or a local folder."""

    kind: Literal["zoo", "hub", "folder"]
    name: str  # the zoo name, the repo id, or the folder's path
    revision: str | None = None


def parse_model_source(spec: str | os.PathLike) -> ModelSource:
    """The one reading of a model source (timm's ``parse_model_name``), shared by every loader and command.

    ``hf-hub:org/repo[@revision]`` is a Hub repo; ``local-dir:PATH`` and any path to an existing folder are a
    folder (an existing folder is never read as a Hub id); anything else must be a zoo name. A non-existing
    ``a/b`` is refused with both fixes (the Hub prefix, or the folder's right path).
    """
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        raise TypeError(f"a model source is a name, a URI or a folder path, got {type(spec).__name__}")
    if spec.startswith("hf-hub:"):
        repo_id, _, revision = spec.removeprefix("hf-hub:").partition("@")
        if not hub.is_repo_id(repo_id):
            raise ValueError(f"{spec!r}: expected hf-hub:org/repo or hf-hub:org/repo@revision")
        return ModelSource("hub", repo_id, revision or None)
    if spec.startswith("local-dir:"):
        folder = Path(spec.removeprefix("local-dir:")).expanduser()
        if not folder.is_dir():
            raise ModelFileError(f"{spec}: no such folder")
        return ModelSource("folder", str(folder))
    folder = Path(spec).expanduser()
    if spec and folder.is_dir():
        return ModelSource("folder", str(folder))
    if hub.is_repo_id(spec):
        raise ModelFileError(f"{spec!r} is no folder here ({Path.cwd()}) and looks like a Hugging Face Hub repo id; "
                             f"load it with 'hf-hub:{spec}', or give the saved folder's right path")
    if "/" in spec or os.sep in spec or spec.startswith((".", "~")):
        raise ModelFileError(f"{spec!r} is neither a folder, a zoo name nor a Hub repo id (no folder of that name "
                             f"exists from {Path.cwd()}); give the saved folder's right path")
    check_model_name(spec)
    return ModelSource("zoo", spec)


def create_model(name: str, pretrained: bool = False, **overrides: Any) -> nn.Module:
    """Build a zoo model by name, untrained or with its pretrained weights.

    Args:
        name: an architecture (``"pianoroll-gru-20k"``), with a weights tag for pretrained ones
            (``"pianoroll-gru-20k.jsb"``), or a ``hf-hub:org/repo[@revision]`` / ``local-dir:PATH`` URI
            (those always load weights, as :func:`load`), or a saved folder's path.
        pretrained: load the trained weights (bundled in the package: no network). Raises
            :class:`~rnnzoo.registry.NoPretrainedWeightsError` when the architecture has none.
        **overrides: init arguments replacing the architecture's (e.g. ``dropout=0.3``). Overrides that change
            sizes break the parameter match and, with ``pretrained=True``, fail strict weight loading.
    """
    if parse_model_source(name).kind != "zoo":
        return load(name, **overrides)
    if pretrained:
        return load_pretrained_info(get_pretrained_info(name), **overrides)
    architecture, tag = split_model_name(name)
    if tag is not None:
        get_pretrained_info(name)  # an unknown tag is an error even when only the architecture is built
    model = model_builder(architecture)(**overrides)
    model.architecture = architecture
    return model


def _build(config: dict[str, Any], where: str, overrides: dict[str, Any]) -> nn.Module:
    """The untrained model config.json describes: a zoo architecture name, or a task key (a model built
    directly from its class)."""
    from rnnzoo.tasks import TASKS

    architecture, init_args = config["architecture"], config["init_args"]
    if not isinstance(init_args, dict):
        raise ModelFileError(f"{where}/{hub.CONFIG_NAME}: init_args must be an object, got {type(init_args).__name__}")
    init_args = {**init_args, **overrides}
    if isinstance(architecture, str) and is_model(architecture):
        build = lambda: model_builder(architecture)(**init_args)  # noqa: E731
    elif isinstance(architecture, str) and architecture in TASKS:
        build = lambda: TASKS[architecture](**init_args)  # noqa: E731
    else:  # the registry's message lists the closest names
        raise UnknownModelError(f"{where}/{hub.CONFIG_NAME}: {unknown_model_message(str(architecture))}; upgrade "
                                f"rnnzoo if a newer one wrote it")
    try:
        model = build()
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{where}/{hub.CONFIG_NAME}: init_args do not fit {architecture!r} ({err})") from None
    if config.get("task", model.task) != model.task:
        raise ModelFileError(f"{where}/{hub.CONFIG_NAME} says task {config['task']!r} but {architecture!r} is a "
                             f"{model.task!r} model")
    model.architecture = architecture
    try:
        model.preprocessing = config.get("preprocessing") or None
    except ValueError as err:
        raise ModelFileError(f"{where}/{hub.CONFIG_NAME}: preprocessing does not fit the model ({err})") from None
    return model


def load_folder(
    folder: str | os.PathLike,
    *,
    where: str | None = None,
    expected_sha256: str | None = None,
    strict: bool = True,
    **overrides: Any,
) -> nn.Module:
    """Load a saved model folder (see :func:`rnnzoo.save_pretrained`); ``where`` names it in error messages.

    ``expected_sha256`` is checked against model.safetensors before anything is read from it; ``strict`` (the
    default) refuses missing or unexpected keys. The model comes back in eval mode with its typed
    ``preprocessing`` and ``architecture`` set.
    """
    where = where or str(folder)
    config = hub.read_config(folder, where)
    model = _build(config, where, overrides)
    try:
        hub.load_weights(model, folder, where=where, expected_sha256=expected_sha256, strict=strict)
    except hub.WeightsMismatchError:
        changed = {k: v for k, v in overrides.items() if config["init_args"].get(k) != v}
        if changed:
            raise ModelFileError(f"the override(s) {changed} change the shapes of {where}'s model, so its trained "
                                 f"weights do not fit; load it without them (sizes are part of the weights), or "
                                 f"create_model(..., pretrained=False) to train such a model") from None
        raise
    return model.eval()


def from_pretrained(
    dir_or_repo: str | os.PathLike,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | None = None,
    expected_sha256: str | None = None,
    strict: bool = True,
    **overrides: Any,
) -> nn.Module:
    """Load a model from a local folder, a Hub repo id (``org/name``) or anything :func:`load` takes; a folder
    that exists wins.

    Hub downloads go through ``snapshot_download``: the Hugging Face cache, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT``,
    ``revision`` (branch, tag or commit) and ``token`` work as usual. ``overrides`` replace init arguments.
    """
    name = os.fspath(dir_or_repo)
    if not Path(name).is_dir() and hub.is_repo_id(name) and not name.startswith(("hf-hub:", "local-dir:")):
        name = f"hf-hub:{name}"  # from_pretrained's own convention (Hugging Face's): a bare org/name is a repo
    source = parse_model_source(name)
    if source.kind == "hub" and revision is not None:
        source = ModelSource("hub", source.name, revision)
    return _load_source(source, token=token, cache_dir=cache_dir, expected_sha256=expected_sha256, strict=strict,
                        **overrides)


def _load_source(source: ModelSource, *, token: str | bool | None = None, cache_dir: str | None = None,
                 expected_sha256: str | None = None, strict: bool = True, **overrides: Any) -> nn.Module:
    """The model ``source`` names, with its weights."""
    if source.kind == "folder":
        return load_folder(source.name, expected_sha256=expected_sha256, strict=strict, **overrides)
    if source.kind == "hub":
        folder = hub.download(source.name, source.revision, token, cache_dir)
        where = f"Hub repo {source.name}" + (f"@{source.revision}" if source.revision else "")
        return load_folder(folder, where=where, expected_sha256=expected_sha256, strict=strict, **overrides)
    return load_pretrained_info(get_pretrained_info(source.name), **overrides)


def load_pretrained_info(info: PretrainedInfo, **overrides: Any) -> nn.Module:
    """Load the weights a :class:`~rnnzoo.pretrained.PretrainedInfo` describes, checking their sha256."""
    if info.source.startswith("bundled:"):
        from rnnzoo.weights import bundled_folder

        folder = bundled_folder(info.source)
        model = load_folder(folder, where=f"bundled weights {info.name} ({folder})",
                            expected_sha256=info.weights_sha256, **overrides)
    elif info.source.startswith("hf-hub:"):
        repo_id, _, revision = info.source.removeprefix("hf-hub:").partition("@")
        model = from_pretrained(repo_id, revision=revision or None, expected_sha256=info.weights_sha256, **overrides)
    else:
        raise ValueError(f"pretrained source {info.source!r} of {info.name} must start with bundled: or hf-hub:")
    model.architecture = info.architecture
    return model


def load(name_or_uri: str | os.PathLike, **overrides: Any) -> nn.Module:
    """Load a model with its weights and preprocessing, ready for raw input (``forecast``, ``perplexity``,
    ``classify``, ``sample``...).

    Args:
        name_or_uri: a zoo name with pretrained weights (``"pianoroll-gru-20k.jsb"``; see
            ``rnnzoo.list_pretrained()``), ``"hf-hub:org/repo"`` or ``"hf-hub:org/repo@revision"``, or
            ``"local-dir:PATH"`` or the path of an existing folder (written by :func:`rnnzoo.save_pretrained`,
            ``rnnzoo compare`` or ``model.save_pretrained``). A bare ``org/repo`` that is no folder is refused:
            prefix it with ``hf-hub:``.
        **overrides: init arguments to replace (e.g. ``dropout=0.0``).

    A folder ``rnnzoo compare`` saved a baseline in (``<out>/baselines/<name>``) loads as that baseline
    (:mod:`rnnzoo.baselines`): it forecasts like a network, refitted on the history it is given.
    """
    source = parse_model_source(name_or_uri)
    if source.kind == "folder":
        from rnnzoo.baselines import is_baseline, load_baseline

        if is_baseline(source.name):
            if overrides:
                raise ModelFileError(f"{source.name} is a saved baseline, which has no init arguments to "
                                     f"override ({sorted(overrides)}); load it without them")
            return load_baseline(source.name)
    return _load_source(source, **overrides)


def push_to_hub(
    model_or_dir: nn.Module | str | os.PathLike,
    repo_id: str,
    *,
    private: bool | None = None,
    commit_message: str = "Upload rnnzoo model",
    token: str | None = None,
    revision: str | None = None,
    preprocessing: Any = None,
    pretrained_info: PretrainedInfo | None = None,
):
    """Upload a model (saved to a temporary folder first) or a saved folder to the Hub repo ``repo_id``.

    Creates the repo if needed (``private`` applies then), uploads config.json, model.safetensors and README.md
    in one commit and returns huggingface_hub's ``CommitInfo`` (``.oid`` is the commit to pin with
    ``hf-hub:repo_id@oid``). A folder is checked by loading it before anything is uploaded.
    """
    with tempfile.TemporaryDirectory(prefix="rnnzoo-push-") as tmp:
        if isinstance(model_or_dir, nn.Module):
            folder = hub.save_pretrained(model_or_dir, tmp, preprocessing=preprocessing,
                                         pretrained_info=pretrained_info, repo_id=repo_id)
        else:
            folder = Path(model_or_dir)
            load_folder(folder)  # refuse to publish a folder that would not load back
        return hub.upload_folder(folder, repo_id, private=private, commit_message=commit_message, token=token,
                                 revision=revision)
