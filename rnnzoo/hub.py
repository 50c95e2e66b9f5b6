"""Saving, loading and sharing models in the Hugging Face layout, and ``rnnzoo.load``.

A saved model is a folder::

    config.json         {"architecture", "task", "init_args", "preprocessing", "num_params", "pretrained", ...}
    model.safetensors   the state dict (tied weights stored once); pickles (.bin, .pt) are never read
    README.md           model card with YAML front matter (library_name: rnnzoo, model-index when measured)

Hub settings are read from the environment when each function runs, not when huggingface_hub was imported
(it freezes ``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` and ``HF_HUB_CACHE`` at import): setting them in a running
process, a notebook or a test takes effect.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
FORMAT_VERSION = 1
CONFIG_KEYS = {"architecture", "task", "init_args", "preprocessing", "num_params", "pretrained",
               "format_version", "rnnzoo_version"}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class ModelFileError(ValueError):
    """A saved model folder that cannot be loaded as it is: the message names the file and what to do."""


class HubError(OSError):
    """A Hub repo that cannot be reached, found or read from the cache."""


# ---------------------------------------------------------------------------------------------------- settings
def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hub_endpoint() -> str | None:
    """HF_ENDPOINT as it is now (None: the library's default, https://huggingface.co)."""
    endpoint = os.environ.get("HF_ENDPOINT")
    return endpoint.rstrip("/") if endpoint else None


def _hub_offline() -> bool:
    from huggingface_hub import constants

    return _env_flag("HF_HUB_OFFLINE") or _env_flag("TRANSFORMERS_OFFLINE") or constants.HF_HUB_OFFLINE


def _hub_cache() -> str | None:
    """HF_HUB_CACHE, else HF_HOME/hub, as they are now (None: the library's default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -------------------------------------------------------------------------------------------------------- save
def save_pretrained(
    model: nn.Module,
    save_directory: str | os.PathLike,
    *,
    preprocessing: dict[str, Any] | None = None,
    pretrained_info: Any = None,
    repo_id: str | None = None,
) -> Path:
    """Write ``model`` to ``save_directory`` as config.json + model.safetensors + README.md.

    Args:
        model: an rnnzoo task model (it has ``config``, ``task`` and ``architecture``).
        save_directory: created if missing; the three files are overwritten.
        preprocessing: JSON-able state the data pipeline needs (scaler statistics, vocabulary, feature
            settings); defaults to ``model.preprocessing`` (what a loaded model came with).
        pretrained_info: a :class:`rnnzoo.registry.PretrainedInfo` of the run that trained these weights; its
            metrics go into the card's model-index. Leave it out for anything not trained and measured.
        repo_id: the Hub repo the folder is for, used in the model card's loading example.

    Returns:
        The folder's path.
    """
    from rnnzoo import __version__

    if not hasattr(model, "config") or not getattr(model, "task", ""):
        raise TypeError(f"save_pretrained needs an rnnzoo task model (rnnzoo.models), got {type(model).__name__}")
    preprocessing = getattr(model, "preprocessing", {}) if preprocessing is None else preprocessing
    config = {
        "architecture": getattr(model, "architecture", None) or model.task,
        "task": model.task,
        "init_args": model.config,
        "preprocessing": preprocessing,
        "num_params": sum(p.numel() for p in model.parameters()),
        "pretrained": pretrained_info.to_dict() if pretrained_info is not None else None,
        "format_version": FORMAT_VERSION,
        "rnnzoo_version": __version__,
    }
    try:
        config_text = json.dumps(config, indent=2, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"config.json must be plain JSON ({err}); pass preprocessing state as dicts, lists, numbers and "
            f"strings (e.g. scaler statistics via tensor.tolist())"
        ) from None
    from rnnzoo.models.model_card import render_model_card

    folder = Path(save_directory)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).write_text(config_text + "\n")
    # save_model (not save_file) stores tied weights once; load_model restores the tie.
    save_model(model, str(folder / WEIGHTS_NAME), metadata={"format": "pt", "rnnzoo_version": __version__})
    (folder / CARD_NAME).write_text(render_model_card(config, repo_id))
    return folder


# -------------------------------------------------------------------------------------------------------- load
def _read_config(folder: Path, where: str) -> dict[str, Any]:
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ModelFileError(f"{where} has no {CONFIG_NAME}; it is not an rnnzoo model folder (save one with "
                             f"rnnzoo.save_pretrained)")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{path} is not valid JSON ({err}); re-save or re-download the model") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{path} must hold a JSON object, got {type(config).__name__}")
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ModelFileError(f"{path} has unknown keys {unknown}; allowed: {sorted(CONFIG_KEYS)}. It was written "
                             f"by another library or a newer rnnzoo (upgrade rnnzoo) or edited by hand")
    for key in ("architecture", "init_args"):
        if key not in config:
            raise ModelFileError(f"{path} has no {key!r}; rnnzoo cannot tell which model to build. Re-save it "
                                 f"with rnnzoo.save_pretrained")
    if config.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ModelFileError(f"{path} has format_version {config['format_version']}, newer than this rnnzoo "
                             f"reads ({FORMAT_VERSION}); upgrade rnnzoo")
    return config


def _weights_file(folder: Path, where: str) -> Path:
    path = folder / WEIGHTS_NAME
    if path.is_file():
        return path
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES) if folder.is_dir() else []
    if pickles:
        raise ModelFileError(
            f"{where} has {pickles} but no {WEIGHTS_NAME}; rnnzoo never loads pickle files (unpickling can run "
            f"arbitrary code). Convert them where you trust them: safetensors.torch.save_file(torch.load(...), "
            f"'{WEIGHTS_NAME}')"
        )
    raise ModelFileError(f"{where} has no {WEIGHTS_NAME}; save the model with rnnzoo.save_pretrained")


def _build(config: dict[str, Any], where: str, overrides: dict[str, Any]) -> nn.Module:
    """The untrained model config.json describes: a zoo architecture name, or a task model key."""
    from rnnzoo.models import TASK_MODELS
    from rnnzoo.registry import UnknownModelError, _model_entrypoints, create_model, unknown_model_message

    architecture, init_args = config["architecture"], config["init_args"]
    if not isinstance(init_args, dict):
        raise ModelFileError(f"{where}/{CONFIG_NAME}: init_args must be an object, got {type(init_args).__name__}")
    init_args = {**init_args, **overrides}
    if architecture in _model_entrypoints:
        build = lambda: create_model(architecture, **init_args)  # noqa: E731
    elif architecture in TASK_MODELS:  # saved from a model built directly from its class
        build = lambda: TASK_MODELS[architecture](**init_args)  # noqa: E731
    else:  # the registry's message lists the closest names
        raise UnknownModelError(f"{where}/{CONFIG_NAME}: {unknown_model_message(str(architecture))}; upgrade "
                                f"rnnzoo if a newer one wrote it")
    try:
        model = build()
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{where}/{CONFIG_NAME}: init_args do not fit {architecture!r} ({err})") from None
    if config.get("task", model.task) != model.task:
        raise ModelFileError(f"{where}/{CONFIG_NAME} says task {config['task']!r} but {architecture!r} is a "
                             f"{model.task!r} model")
    return model


def load_folder(
    folder: str | os.PathLike,
    *,
    where: str | None = None,
    expected_sha256: str | None = None,
    strict: bool = True,
    **overrides: Any,
) -> nn.Module:
    """Load a saved model folder (see :func:`save_pretrained`); ``where`` names it in error messages.

    ``expected_sha256`` is checked against model.safetensors before anything is read from it. With ``strict``
    (the default) every key of the model must be in the file and every key of the file in the model.
    The model comes back in eval mode with ``model.preprocessing`` and ``model.architecture`` set.
    """
    folder = Path(folder)
    where = where or str(folder)
    config = _read_config(folder, where)
    weights = _weights_file(folder, where)
    if expected_sha256 is not None:
        actual = sha256_file(weights)
        if actual != expected_sha256.lower():
            raise ModelFileError(f"{weights}: sha256 {actual} does not match the expected {expected_sha256}; the "
                                 f"file is corrupt or not the published one. Delete it and download/install again")
    model = _build(config, where, overrides)
    try:
        missing, unexpected = load_model(model, str(weights), strict=False)
    except SafetensorError as err:
        raise ModelFileError(f"{weights} is not a readable safetensors file ({err}): truncated or corrupt. "
                             f"Delete it (for a Hub model, its Hugging Face cache entry) and download again") from None
    except RuntimeError as err:  # shapes that do not fit the architecture in config.json
        raise ModelFileError(f"{weights} does not fit the model config.json describes: {err}") from None
    if strict and (missing or unexpected):
        raise ModelFileError(f"{weights} does not match {config['architecture']!r}: missing keys {sorted(missing)}, "
                             f"unexpected keys {sorted(unexpected)}. Check config.json's init_args, or pass "
                             f"strict=False to load what fits")
    model.architecture = config["architecture"]
    model.preprocessing = config.get("preprocessing") or {}
    return model.eval()


def _download(repo_id: str, revision: str | None, token: str | bool | None, cache_dir: str | None) -> Path:
    """snapshot_download of the three model files, with errors that say what to do."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    from rnnzoo import __version__

    offline = _hub_offline()
    cache_dir = cache_dir or _hub_cache()
    at = f"{repo_id}@{revision}" if revision else repo_id
    try:
        path = snapshot_download(
            repo_id, revision=revision, token=token, cache_dir=cache_dir, endpoint=_hub_endpoint(),
            local_files_only=offline, library_name="rnnzoo", library_version=__version__,
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME],  # never even download a pickle
        )
    except RevisionNotFoundError:
        raise HubError(f"Hub repo {repo_id!r} has no revision {revision!r}; use a branch, tag or commit it has") from None
    except RepositoryNotFoundError:
        raise HubError(f"Hub repo {repo_id!r} does not exist or is private (endpoint "
                       f"{_hub_endpoint() or 'https://huggingface.co'}); check the name, or pass token= / run "
                       f"`hf auth login` for a private repo") from None
    except LocalEntryNotFoundError:
        if offline:
            raise HubError(f"{at} is not in the Hugging Face cache ({cache_dir or 'default cache'}) and offline "
                           f"mode is on (HF_HUB_OFFLINE=1); load it once online, or unset HF_HUB_OFFLINE") from None
        raise HubError(f"cannot reach the Hub for {at} and it is not in the Hugging Face cache; check the network "
                       f"or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only cached models") from None
    return Path(path)


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
    """Load a model from a local folder or a Hub repo id (``org/name``); a folder that exists wins.

    Hub downloads go through ``snapshot_download``: the Hugging Face cache, ``HF_HUB_OFFLINE``,
    ``HF_ENDPOINT``, ``revision`` (branch, tag or commit) and ``token`` work as usual. ``overrides`` replace
    init arguments (e.g. ``dropout=0.0``).
    """
    path = Path(dir_or_repo)
    if path.is_dir():
        return load_folder(path, expected_sha256=expected_sha256, strict=strict, **overrides)
    name = str(dir_or_repo)
    if not _REPO_ID.match(name):
        raise ModelFileError(f"{name!r} is neither a folder nor a Hub repo id (org/name)")
    folder = _download(name, revision, token, cache_dir)
    where = f"Hub repo {name}" + (f"@{revision}" if revision else "")
    return load_folder(folder, where=where, expected_sha256=expected_sha256, strict=strict, **overrides)


def load_pretrained_info(info: Any, **overrides: Any) -> nn.Module:
    """Load the weights a :class:`rnnzoo.registry.PretrainedInfo` describes, checking their sha256."""
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


def load(name_or_uri: str, **overrides: Any) -> nn.Module:
    """Load a model with its weights and preprocessing.

    Args:
        name_or_uri: a zoo name with pretrained weights (``"pianoroll-gru-20k.jsb"``; see
            ``rnnzoo.list_pretrained()``), ``"hf-hub:org/repo"`` or ``"hf-hub:org/repo@revision"``, or
            ``"local-dir:PATH"`` (a folder written by :func:`save_pretrained`). A bare ``org/repo`` is refused:
            prefix it with ``hf-hub:``.
        **overrides: init arguments to replace (e.g. ``dropout=0.0``).
    """
    if name_or_uri.startswith("hf-hub:"):
        repo_id, _, revision = name_or_uri.removeprefix("hf-hub:").partition("@")
        if not _REPO_ID.match(repo_id):
            raise ValueError(f"{name_or_uri!r}: expected hf-hub:org/repo or hf-hub:org/repo@revision")
        return from_pretrained(repo_id, revision=revision or None, **overrides)
    if name_or_uri.startswith("local-dir:"):
        folder = Path(name_or_uri.removeprefix("local-dir:")).expanduser()
        if not folder.is_dir():
            raise ModelFileError(f"{name_or_uri}: no such folder")
        return load_folder(folder, **overrides)
    from rnnzoo.registry import create_model

    return create_model(name_or_uri, pretrained=True, **overrides)


# -------------------------------------------------------------------------------------------------------- push
def push_to_hub(
    model_or_dir: nn.Module | str | os.PathLike,
    repo_id: str,
    *,
    private: bool | None = None,
    commit_message: str = "Upload rnnzoo model",
    token: str | None = None,
    revision: str | None = None,
    preprocessing: dict[str, Any] | None = None,
    pretrained_info: Any = None,
):
    """Upload a model (saved to a temporary folder first) or a saved folder to the Hub repo ``repo_id``.

    Creates the repo if needed (``private`` applies then), uploads config.json, model.safetensors and
    README.md in one commit (nothing else: no pickles, no stray files) and returns huggingface_hub's
    ``CommitInfo`` (``.oid`` is the commit to pin with ``hf-hub:repo_id@oid``). A folder is checked by loading
    it before anything is uploaded.
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=_hub_endpoint(), token=token)
    with tempfile.TemporaryDirectory(prefix="rnnzoo-push-") as tmp:
        if isinstance(model_or_dir, nn.Module):
            folder = save_pretrained(model_or_dir, tmp, preprocessing=preprocessing,
                                     pretrained_info=pretrained_info, repo_id=repo_id)
        else:
            folder = Path(model_or_dir)
            load_folder(folder)  # refuse to publish a folder that would not load back
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        return api.upload_folder(
            repo_id=repo_id, folder_path=str(folder), commit_message=commit_message, revision=revision,
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME], repo_type="model",
        )
