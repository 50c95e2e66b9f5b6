"""Model files and the Hub: the Hugging Face folder layout, written and read, downloaded and uploaded.

Pure I/O at the top of the import order (pretrained metadata <- registry <- factory -> hub): this module never
decides which model to build; :mod:`rnnzoo.factory` reads a config here, builds the model and loads its weights
here.

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
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

from rnnzoo.errors import RnnzooError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
FORMAT_VERSION = 1
CONFIG_KEYS = {"architecture", "task", "init_args", "preprocessing", "num_params", "pretrained",
               "format_version", "rnnzoo_version", "training_run"}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class ModelFileError(RnnzooError, ValueError):
    """A saved model folder that cannot be loaded as it is: the message names the file and what to do."""


class WeightsMismatchError(ModelFileError):
    """A readable weights file whose tensors do not fit the model built from config.json (shapes or keys)."""


class HubError(RnnzooError, OSError):
    """A Hub repo that cannot be reached, found or read from the cache."""


# ---------------------------------------------------------------------------------------------------- settings
def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hub_endpoint() -> str | None:
    """HF_ENDPOINT as it is now (None: the library's default, https://huggingface.co)."""
    endpoint = os.environ.get("HF_ENDPOINT")
    return endpoint.rstrip("/") if endpoint else None


#: seconds a Hub call may wait for a connection or for the next bytes of an answer (not for a whole transfer)
DEFAULT_HUB_TIMEOUT = 6.0
HUB_TIMEOUT_VARIABLE = "RNNZOO_HUB_TIMEOUT"


def hub_timeout() -> float:
    """``RNNZOO_HUB_TIMEOUT`` seconds, read when a call starts (default 6: against an endpoint that never answers,
    a load failed in 11 s and a push in 8 s here, huggingface_hub's retries included)."""
    text = os.environ.get(HUB_TIMEOUT_VARIABLE, "").strip()
    try:
        value = float(text) if text else DEFAULT_HUB_TIMEOUT
    except ValueError:
        raise HubError(f"{HUB_TIMEOUT_VARIABLE}={text!r} is not a number of seconds; unset it or give e.g. 30") from None
    if not value > 0:
        raise HubError(f"{HUB_TIMEOUT_VARIABLE}={text!r}: give a number of seconds above 0")
    return value


def _bounded_hub_session() -> None:
    """Bound every wait of huggingface_hub's shared HTTP client: its default client has no timeout, and its API
    calls pass ``timeout=None`` themselves, so an endpoint that accepts the connection and never answers held
    ``load`` and ``push`` for over 600 s. A transport caps each request's connect/read/write/pool timeout at
    :func:`hub_timeout` seconds, whatever the call asked; it bounds each wait for a connection or for more bytes,
    so a slow but moving download still finishes. A client factory the user set (a proxy, certificates) is left
    alone."""
    from huggingface_hub.utils import _http

    factory = getattr(_http, "_GLOBAL_CLIENT_FACTORY", None)
    timeout = hub_timeout()
    if factory is not _http.default_client_factory and getattr(factory, "rnnzoo_timeout", None) is None:
        return  # the user's own factory
    if getattr(factory, "rnnzoo_timeout", None) == timeout:
        return
    import httpx2

    class BoundedTransport(httpx2.HTTPTransport):
        def handle_request(self, request):
            asked = request.extensions.get("timeout") or {}
            request.extensions["timeout"] = {
                key: timeout if asked.get(key) is None else min(asked[key], timeout)
                for key in ("connect", "read", "write", "pool")}
            return super().handle_request(request)

    def bounded_client():
        return httpx2.Client(event_hooks={"request": [_http.hf_request_event_hook]}, follow_redirects=True,
                             timeout=timeout, transport=BoundedTransport())

    bounded_client.rnnzoo_timeout = timeout
    _http.set_client_factory(bounded_client)


def _no_answer(err: BaseException) -> bool:
    """Whether ``err`` means the Hub did not answer (a refused connection, a timeout), as opposed to an answer."""
    if isinstance(err, (OSError, TimeoutError)):
        return True
    return type(err).__module__.split(".")[0] in ("httpx", "httpx2", "requests", "urllib3", "httpcore")


def _no_answer_message(what: str) -> str:
    return (f"cannot reach the Hub at {_hub_endpoint() or 'https://huggingface.co'} to {what}: no answer within "
            f"{hub_timeout():g} s ({HUB_TIMEOUT_VARIABLE} sets it) or the connection was refused; check the network "
            f"or HF_ENDPOINT")


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
    training_run: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``save_directory`` as config.json + model.safetensors + README.md.

    Args:
        model: an rnnzoo task model (it has ``config``, ``task`` and ``architecture``).
        save_directory: created if missing; the three files are overwritten.
        preprocessing: the model's typed preprocessing (or its config dict); defaults to ``model.preprocessing``
            (what a trained or loaded model carries).
        pretrained_info: a :class:`rnnzoo.pretrained.PretrainedInfo` of the run that trained these weights; its
            metrics go into the card's model-index. Leave it out for anything not trained and measured.
        repo_id: the Hub repo the folder is for, used in the model card's loading example.
        training_run: what the run that trained these weights recorded (``rnnzoo compare`` passes its data, seed,
            MLflow run id, validation and test metrics); stored in config.json and shown in the card.

    Returns:
        The folder's path.
    """
    from rnnzoo.version import __version__

    texts = _config_and_card(model, preprocessing, pretrained_info, repo_id, training_run)

    def write(staging: Path) -> None:
        (staging / CONFIG_NAME).write_text(texts[CONFIG_NAME])
        # save_model (not save_file) stores tied weights once; load_model restores the tie.
        save_model(model, str(staging / WEIGHTS_NAME), metadata={"format": "pt", "rnnzoo_version": __version__})
        (staging / CARD_NAME).write_text(texts[CARD_NAME])

    return _replace_files(Path(save_directory), write, (WEIGHTS_NAME, CONFIG_NAME, CARD_NAME))


def write_pretrained_info(model: nn.Module, folder: str | os.PathLike, pretrained_info: Any,
                          repo_id: str | None = None) -> Path:
    """Rewrite a saved folder's config.json and README.md with ``pretrained_info`` (what a run measured),
    leaving model.safetensors — and so the sha256 the info quotes — untouched. Safetensors writes its header's
    metadata in no fixed order, so saving the weights again could change the bytes that sha256 describes."""
    texts = _config_and_card(model, None, pretrained_info, repo_id)

    def write(staging: Path) -> None:
        for name, text in texts.items():
            (staging / name).write_text(text)

    return _replace_files(Path(folder), write, tuple(texts))


def _config_and_card(model: nn.Module, preprocessing: Any, pretrained_info: Any, repo_id: str | None,
                     training_run: dict[str, Any] | None = None) -> dict[str, str]:
    """The texts of config.json and README.md for ``model`` (see :func:`save_pretrained`)."""
    from rnnzoo.version import __version__
    from rnnzoo.model_card import render_model_card

    if not hasattr(model, "config") or not getattr(model, "task", ""):
        raise TypeError(f"save_pretrained needs an rnnzoo task model (rnnzoo.models), got {type(model).__name__}")
    if preprocessing is None:
        preprocessing = model.preprocessing
    elif isinstance(preprocessing, dict) and preprocessing:  # checked as the model will read it back
        preprocessing = type(model).preprocessing_class.from_config(preprocessing, task=model.task)
    preprocessing = preprocessing.to_config() if preprocessing else {}
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
    if training_run:  # only when recorded: other folders keep config.json as before
        config["training_run"] = training_run
    try:
        config_text = json.dumps(config, indent=2, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"config.json must be plain JSON ({err}); pass preprocessing state as dicts, lists, numbers and "
            f"strings (e.g. scaler statistics via tensor.tolist())"
        ) from None
    card = render_model_card(config, type(model).card_tags, repo_id, usage=type(model).card_usage)
    return {CONFIG_NAME: config_text + "\n", CARD_NAME: card}


def _replace_files(folder: Path, write: Callable[[Path], None], names: tuple[str, ...]) -> Path:
    """Write files into a staging folder inside ``folder``, then move them in: a save that fails part-way (a full
    disk, a file-size limit, an interrupt) leaves an existing model folder as it was, never a new config.json
    beside old weights. Other files in the folder are left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.saving-", dir=folder))
    try:
        write(staging)
        for name in names:  # renames within one file system: atomic each
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
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
    if not isinstance(config["architecture"], str):
        raise ModelFileError(f"{path}: 'architecture' must be a name (a string), got {config['architecture']!r}; "
                             f"the file was edited by hand or is not rnnzoo's: re-save or re-download the model")
    version = config.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: format_version must be a whole number >= 1, got {version!r}; the file was "
                             f"edited by hand: re-save or re-download the model")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path} has format_version {version}, newer than this rnnzoo reads "
                             f"({FORMAT_VERSION}); upgrade rnnzoo")
    return config


def _weights_file(folder: Path, where: str) -> Path:
    path = folder / WEIGHTS_NAME
    if path.is_file():
        return path
    if path.exists() or path.is_symlink():  # there, but no regular file: a device, a folder, a dangling link
        target = f" (a link to {os.readlink(path)})" if path.is_symlink() else ""
        raise ModelFileError(f"{where}/{WEIGHTS_NAME} is not a regular file{target}; replace it with the weights "
                             f"file itself (save the model again with rnnzoo.save_pretrained)")
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES) if folder.is_dir() else []
    if pickles:
        raise ModelFileError(
            f"{where} has {pickles} but no {WEIGHTS_NAME}; rnnzoo never loads pickle files (unpickling can run "
            f"arbitrary code). Convert them where you trust them: safetensors.torch.save_file(torch.load(...), "
            f"'{WEIGHTS_NAME}')"
        )
    raise ModelFileError(f"{where} has no {WEIGHTS_NAME}; save the model with rnnzoo.save_pretrained")


def read_config(folder: str | os.PathLike, where: str | None = None) -> dict[str, Any]:
    """config.json of a saved model folder, checked (``where`` names the folder in errors)."""
    return _read_config(Path(folder), where or str(folder))


FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}


def _check_dtypes(model: nn.Module, weights: Path) -> None:
    """Refuse integer or boolean tensors for the model's floating-point parameters (loading would cast them to
    float without a word: a file that is not what it claims to be)."""
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        stored = {key: f.get_slice(key).get_dtype() for key in f.keys()}
    wrong = [f"{key} ({stored[key]})" for key, tensor in model.state_dict().items()
             if key in stored and tensor.is_floating_point() and stored[key] not in FLOAT_DTYPES]
    if wrong:
        raise ModelFileError(f"{weights} stores {', '.join(wrong[:5])}{' ...' if len(wrong) > 5 else ''} as "
                             f"integers or booleans where the model has floating-point weights; the file is not "
                             f"an rnnzoo save of this model. Re-save or re-download it")


def load_weights(
    model: nn.Module,
    folder: str | os.PathLike,
    *,
    where: str | None = None,
    expected_sha256: str | None = None,
    strict: bool = True,
) -> nn.Module:
    """Read a folder's model.safetensors into ``model`` (built from its config.json by the factory).

    ``expected_sha256`` is checked before anything is read from the file. With ``strict`` (the default) every key
    of the model must be in the file and every key of the file in the model.
    """
    folder = Path(folder)
    where = where or str(folder)
    weights = _weights_file(folder, where)
    if expected_sha256 is not None:
        actual = sha256_file(weights)
        if actual != expected_sha256.lower():
            raise ModelFileError(f"{weights}: sha256 {actual} does not match the expected {expected_sha256}; the "
                                 f"file is corrupt or not the published one. Delete it and download/install again")
    try:
        _check_dtypes(model, weights)
        missing, unexpected = load_model(model, str(weights), strict=False)
    except SafetensorError as err:
        raise ModelFileError(f"{weights} is not a readable safetensors file ({err}): truncated or corrupt. "
                             f"Delete it (for a Hub model, its Hugging Face cache entry) and download again") from None
    except RuntimeError as err:  # shapes that do not fit the architecture in config.json
        raise WeightsMismatchError(f"{weights} does not fit the model config.json describes: {err}") from None
    if strict and (missing or unexpected):
        raise WeightsMismatchError(f"{weights} does not match {getattr(model, 'architecture', '')!r}: missing keys "
                             f"{sorted(missing)}, unexpected keys {sorted(unexpected)}. Check config.json's "
                             f"init_args, or pass strict=False to load what fits")
    return model


def download(repo_id: str, revision: str | None, token: str | bool | None, cache_dir: str | None) -> Path:
    """snapshot_download of a Hub repo's three model files into the Hugging Face cache; returns the local folder.
    Errors say what to do (a missing repo or revision, offline without a cached copy, no network)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    from rnnzoo.version import __version__

    offline = _hub_offline()
    cache_dir = cache_dir or _hub_cache()
    at = f"{repo_id}@{revision}" if revision else repo_id
    _bounded_hub_session()
    try:
        path = snapshot_download(
            repo_id, revision=revision, token=token, cache_dir=cache_dir, endpoint=_hub_endpoint(),
            local_files_only=offline, library_name="rnnzoo", library_version=__version__,
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME],  # never even download a pickle
            etag_timeout=hub_timeout(),
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
        raise HubError(f"{_no_answer_message(f'download {at}')}; it is not in the Hugging Face cache either (set "
                       f"HF_HUB_OFFLINE=1 to use only cached models)") from None
    except Exception as err:
        if not _no_answer(err):
            raise
        raise HubError(f"{_no_answer_message(f'download {at}')} ({type(err).__name__})") from None
    return Path(path)


# -------------------------------------------------------------------------------------------------------- push
def is_repo_id(name: str) -> bool:
    """Whether ``name`` has the shape of a Hub repo id, ``org/name``."""
    return bool(_REPO_ID.match(name))


def upload_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    private: bool | None = None,
    commit_message: str = "Upload rnnzoo model",
    token: str | None = None,
    revision: str | None = None,
):
    """Create the Hub repo ``repo_id`` if needed (``private`` applies then) and upload config.json,
    model.safetensors and README.md of ``folder`` in one commit (nothing else: no pickles, no stray files).
    Returns huggingface_hub's ``CommitInfo``; an unreachable Hub is a :class:`HubError` that names the endpoint."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    _bounded_hub_session()
    api = HfApi(endpoint=_hub_endpoint(), token=token)
    try:
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        return api.upload_folder(
            repo_id=repo_id, folder_path=str(folder), commit_message=commit_message, revision=revision,
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME], repo_type="model",
        )
    except HfHubHTTPError:
        raise  # the Hub answered: its message (permissions, a bad name) is the one to read
    except Exception as err:
        # No answer at all: the HTTP client's transport errors (httpx's ConnectError, timeouts), not OSErrors.
        if not _no_answer(err):
            raise
        raise HubError(f"{_no_answer_message(f'push {repo_id}')} ({type(err).__name__}: {err})") from None
