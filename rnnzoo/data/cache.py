"""On-disk cache of built datasets: numpy arrays plus JSON metadata in one ``.npz``, never a pickle.

Each entry is named by a key hashed from its *recipe* (source, options, format version), and carries the sha256
of its own contents, checked on every read. Entries are written to a temporary file in the cache directory and
moved into place with ``os.replace`` (atomic on POSIX and Windows), so a crash or Ctrl-C mid-build never leaves
a half-written entry that a later run would read.

Where: ``cache_dir=`` if given, else ``$RNNZOO_CACHE``, else the user's cache directory (``~/.cache/rnnzoo`` on
Linux, via platformdirs). ``cache_dir=False`` turns caching off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.cache_dir import default_cache_dir  # noqa: E402  (re-exported: rnnzoo.data uses it)

CACHE_FORMAT = 1
_META_KEY = "__meta__"

Arrays = dict[str, np.ndarray]


def recipe_key(recipe: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able recipe (what the dataset is built from and how)."""
    text = json.dumps({"cache_format": CACHE_FORMAT, **recipe}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes: what a cache entry built from the file is keyed on (a replacement of the same
    size and modification time, as a copy with preserved times makes, still changes the key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(arrays: Arrays) -> str:
    """sha256 over the arrays' names, dtypes, shapes and bytes (in name order): the dataset's identity."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _read(path: Path) -> tuple[Arrays, dict[str, Any]] | None:
    """The entry at ``path``, or None if it is missing or fails its check (then it is rebuilt)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files if k != _META_KEY}
            meta = json.loads(npz[_META_KEY].tobytes().decode())
    except Exception as err:  # truncated or foreign file: rebuilding is always safe
        warnings.warn(f"{path}: unreadable cache entry ({err}); rebuilding it", stacklevel=3)
        return None
    if meta.get("content_sha256") != content_hash(arrays):
        warnings.warn(f"{path}: cache entry fails its content hash; rebuilding it", stacklevel=3)
        return None
    return arrays, meta


def _write(path: Path, arrays: Arrays, meta: dict[str, Any]) -> None:
    """Write atomically: a temporary file in the same directory (same filesystem), then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(arrays)
    payload[_META_KEY] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_build(
    name: str,
    recipe: dict[str, Any],
    build: Callable[[], tuple[Arrays, dict[str, Any]]],
    cache_dir: str | os.PathLike | None | bool = None,
) -> tuple[Arrays, dict[str, Any]]:
    """The dataset ``name`` built by ``build()`` from ``recipe``, read from the cache when it is there.

    ``build`` returns ``(arrays, meta)``: numpy arrays (no object dtype) and JSON-able metadata. The returned
    meta gains ``content_sha256`` (the data hash to quote in results), ``recipe`` and ``cache_path``
    (None when caching is off). Nothing is written unless ``build`` returns normally.
    """
    key = recipe_key(recipe)
    path = None
    if cache_dir is not False:
        root = default_cache_dir() if cache_dir in (None, True) else Path(cache_dir).expanduser()
        path = root / f"{name}-{key}.npz"
        cached = _read(path)
        if cached is not None:
            arrays, meta = cached
            return arrays, {**meta, "cache_path": str(path), "from_cache": True}
    arrays, meta = build()
    for k, a in arrays.items():
        if a.dtype == object:
            raise TypeError(f"cache array {k!r} has object dtype; store numbers only (no pickles in the cache)")
    meta = {**meta, "recipe": recipe, "content_sha256": content_hash(arrays)}
    if path is not None:
        _write(path, arrays, meta)
    return arrays, {**meta, "cache_path": None if path is None else str(path), "from_cache": False}


def pack_ragged(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate variable-length arrays along axis 0 -> ``(values, offsets)`` with ``offsets[i]:offsets[i+1]``
    the i-th sequence (how ragged data fits in an ``.npz`` without object arrays)."""
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in sequences])
    values = np.concatenate(sequences, axis=0) if sequences else np.zeros((0,), dtype=np.float32)
    return values, offsets


def unpack_ragged(values: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """Inverse of :func:`pack_ragged`."""
    return [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
