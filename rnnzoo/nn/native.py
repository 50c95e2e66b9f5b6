"""Access to the optional C++ kernels in ``rnnzoo._C``.

The extension is compiled when the package is installed (see setup.py). Without it (no compiler at install
time, or tensors on a GPU) the Python reference loops run instead: same results, slower on the CPU.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

try:
    from rnnzoo import _C  # noqa: F401  (importing registers torch.ops.rnnzoo.*)

    AVAILABLE = True
except ImportError:  # built without a compiler, or a source checkout that was never installed
    AVAILABLE = False

_DTYPES = (torch.float32, torch.float64)


def native_ops(like: Tensor):
    """Return ``torch.ops.rnnzoo`` when the C++ kernels can run on tensors like ``like``, else None.

    Setting ``RNNZOO_DISABLE_NATIVE=1`` forces the Python loops (used by tests to compare both).
    """
    if not AVAILABLE or os.environ.get("RNNZOO_DISABLE_NATIVE") == "1":
        return None
    if like.device.type != "cpu" or like.dtype not in _DTYPES:
        return None
    return torch.ops.rnnzoo
