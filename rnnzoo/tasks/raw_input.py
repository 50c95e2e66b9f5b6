"""Checks shared by the raw-input methods (``forecast``, ``classify``, ``nll`` ...): user arrays become float32
``(T, features)`` arrays or a clear error that names the sequence, the problem and the fix."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnzoo.tasks.base import PreprocessingError


def is_one_sequence(value: Any, paths: bool = True) -> bool:
    """Whether ``value`` is a single sequence (an array of rank 1 or 2, or a file path when ``paths``) rather
    than a batch of them. Without ``paths`` a list of strings is one sequence (of badly typed numbers). An empty
    list or tuple is an empty batch: ``classify([])`` was given no sequences, not one sequence of no steps."""
    if isinstance(value, (str, os.PathLike)):
        return True
    if isinstance(value, (list, tuple)):
        items = (np.ndarray, list, tuple, str, os.PathLike) if paths else (np.ndarray, list, tuple)
        return bool(value) and not isinstance(value[0], items) and not hasattr(value[0], "__array__")
    return np.ndim(value) <= 2


def as_batch(values: Any, paths: bool = True, what: str = "sequences",
             one: str = "sequence (a (steps, features) array)") -> list[Any]:
    """One sequence -> ``[it]``; a list/tuple of sequences or a rank-3 array -> a list of them. An empty batch
    is a :class:`PreprocessingError` (``what`` names the items, ``one`` what one of them is)."""
    if is_one_sequence(values, paths):
        return [values]
    if isinstance(values, np.ndarray) or hasattr(values, "__array__") and not isinstance(values, (list, tuple)):
        batch = list(np.asarray(values))
    else:
        batch = list(values)
    if not batch:
        raise PreprocessingError(f"no {what} given: pass one {one} or a list of them")
    return batch


def as_sequence(value: Any, features: int, what: str) -> np.ndarray:
    """``value`` (array, tensor, list, pandas Series/DataFrame) as float32 ``(T, features)``.

    A rank-1 input is one feature per step. Non-numeric values, NaN/inf, a wrong feature count and empty
    sequences are errors that say what to do.
    """
    if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU or with grad
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise PreprocessingError(f"{what} must be numbers ({err}); convert the column or list to floats "
                                 f"first (e.g. pandas.to_numeric)") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise PreprocessingError(f"{what} must be (steps,) or (steps, features), got shape {array.shape}")
    if array.shape[0] == 0:
        raise PreprocessingError(f"{what} is empty: give at least one step")
    if array.shape[1] != features:
        raise PreprocessingError(f"{what} has {array.shape[1]} features per step, the model reads {features}; "
                                 f"pass (steps, {features}) values in the order the model was trained on")
    with np.errstate(over="ignore"):  # overflow is reported below, as an error naming the value
        cast = array.astype(np.float32)  # checked after the cast: the model computes in float32
    bad = np.argwhere(~np.isfinite(cast))
    if len(bad):
        step, feature = (int(i) for i in bad[0])
        value = array[step, feature]
        if np.isfinite(value):
            raise PreprocessingError(
                f"{what}[{step}, {feature}] is {value:g}, beyond float32's range (±{np.finfo(np.float32).max:.3g}) "
                f"that the model computes in ({len(bad)} such values in all); rescale the data (e.g. to other "
                f"units) before using the model")
        raise PreprocessingError(
            f"{what}[{step}, {feature}] is {value} ({len(bad)} non-finite values in all); fill gaps "
            f"first, e.g. pandas' .interpolate() or .ffill(), or cut the sequence before them")
    return cast


def as_sequences(values: Any, features: int, what: str) -> list[np.ndarray]:
    """:func:`as_sequence` over a batch (see :func:`as_batch`); each error names its item."""
    batch = as_batch(values, paths=False, what=what, one="array (steps, features)")
    many = len(batch) > 1 or not is_one_sequence(values, paths=False)
    return [as_sequence(v, features, f"{what}[{i}]" if many else what) for i, v in enumerate(batch)]


def pad(sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad ``(T_i, F)`` arrays with zeros to ``(B, max T, F)``; return it and the lengths."""
    lengths = np.array([len(s) for s in sequences])
    out = np.zeros((len(sequences), int(lengths.max()), sequences[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out, lengths


def load_array(path: str | os.PathLike) -> np.ndarray:
    """A ``.npy`` array, never unpickled (object arrays are refused)."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise PreprocessingError(f"{path}: no such file") from None
    except ValueError as err:
        raise PreprocessingError(f"{path}: not a plain numeric .npy array ({err})") from None


def write_or_return(text: str, out: str | None) -> str:
    """Write ``text`` to ``out`` and say where, or return it to be printed."""
    if not out:
        return text
    with open(out, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return f"wrote {out}"


def whole_number(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int when it is a whole number >= ``minimum`` (``2.0`` passes, ``2.5``, ``"8"`` and ``True``
    do not), else a :class:`PreprocessingError` naming the argument and the allowed range."""
    whole = isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer())
    if isinstance(value, bool) or not whole or value < minimum:
        raise PreprocessingError(f"{name} must be a whole number >= {minimum}, got {value!r} "
                                 f"({type(value).__name__})")
    return int(value)

