"""Access to the optional fast time loops: C++ on the CPU (peephole LSTM, LSTM, GRU, vanilla RNN), Triton on CUDA
(peephole LSTM, and LSTM/GRU gate tracing).

:func:`scan_ops` is what the scans ask: it returns the Triton kernels for CUDA tensors (when triton is installed),
the C++ kernels for CPU tensors (when built), or None (the Python reference loops run). Both expose the same
``peephole_forward / peephole_backward / gru_forward / gru_backward`` signatures.

The Triton kernels (rnnzoo/nn/triton_scan.py) are imported on first use with a CUDA tensor, so ``import rnnzoo``
never imports triton. ``RNNZOO_DISABLE_TRITON=1`` keeps CUDA on the Python loops. ``RNNZOO_TRITON=1`` forces the
Triton kernels for CPU tensors too: only useful under Triton's interpreter (``TRITON_INTERPRET=1`` set before
triton is imported), which is how tests/nn/test_triton_scan.py checks them without a GPU.

The C++ kernels come from one of two places:

1. ``rnnzoo._C``, compiled when the package is installed without build isolation (``make``, or
   ``pip install --no-build-isolation .``);
2. otherwise, built once on first use with ``torch.utils.cpp_extension.load`` into the cache
   (``$RNNZOO_CACHE/extensions`` or the user cache directory), keyed by the torch version and a hash of the
   sources, then reused. A plain ``pip install .`` (build isolation on: the isolated build has no torch and
   skips the extension) gets the fast kernels this way.

When neither works (no C++ compiler, no ninja, a build error) one warning says so, what it costs and how to fix
it, and the Python reference loops run: same results, slower on the CPU. ``RNNZOO_DISABLE_NATIVE=1`` forces the
Python loops (tests compare both); ``RNNZOO_NO_BUILD=1`` skips the build on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import warnings
from pathlib import Path

import torch
from torch import Tensor

SOURCES = ("peephole.cpp", "gru.cpp", "rnn.cpp")
HEADERS = ("pointwise.h", "scan_common.h")
CFLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wno-unused-parameter"]  # as setup.py
CSRC = Path(__file__).resolve().parents[1] / "csrc"

#: where the kernels came from: "installed" (rnnzoo._C), "built on first use: PATH", or "unavailable: WHY"
ORIGIN = ""


def _cache_dir() -> Path:
    from rnnzoo.cache_dir import default_cache_dir  # $RNNZOO_CACHE or the user cache dir

    digest = hashlib.sha256()
    for name in (*SOURCES, *HEADERS):
        digest.update((CSRC / name).read_bytes())
    tag = f"torch{torch.__version__.replace('+', '_')}-{digest.hexdigest()[:12]}"
    return Path(default_cache_dir()) / "extensions" / tag


def _build_on_first_use() -> str:
    """Compile the kernels with ``torch.utils.cpp_extension.load`` (once per torch version and source), or
    explain why not. Returns the ORIGIN line."""
    if os.environ.get("RNNZOO_NO_BUILD") == "1":
        return "unavailable: RNNZOO_NO_BUILD=1"
    if not all((CSRC / name).is_file() for name in (*SOURCES, *HEADERS)):
        return f"unavailable: the C++ sources are not in {CSRC}"
    if not (shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")):
        return "unavailable: no C++ compiler (c++, g++ or clang++) on PATH"
    try:
        import ninja  # noqa: F401  (torch's load() drives the build with it)
    except ImportError:
        return "unavailable: ninja is not installed (pip install ninja)"
    from torch.utils.cpp_extension import load

    build_dir = _cache_dir()
    fresh = not any(build_dir.glob("*.so"))
    build_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        print(f"rnnzoo: building the C++ time loops once (about a minute) into {build_dir}; later runs reuse them",
              file=sys.stderr)
    try:
        load(name="rnnzoo_jit_C", sources=[str(CSRC / name) for name in SOURCES], extra_cflags=CFLAGS,
             build_directory=str(build_dir), verbose=False, is_python_module=False)
    except Exception as err:  # noqa: BLE001  (a compiler error, missing headers: the loops still run)
        return f"unavailable: building them failed ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
    return f"built on first use: {build_dir}"


def _load() -> bool:
    global ORIGIN
    if os.environ.get("RNNZOO_FORCE_JIT") != "1":  # tests set it to exercise the first-use build
        try:
            from rnnzoo import _C  # noqa: F401  (importing registers torch.ops.rnnzoo.*)

            ORIGIN = "installed (rnnzoo._C)"
            return True
        except ImportError:
            pass
    ORIGIN = _build_on_first_use()
    if ORIGIN.startswith("unavailable") and os.environ.get("RNNZOO_DISABLE_NATIVE") != "1":
        warnings.warn(
            f"rnnzoo's C++ time loops are {ORIGIN}. The RNN, GRU and padded LSTM run on torch's kernels and the "
            f"peephole LSTM and gate tracing on Python loops instead, 2-6x slower on the CPU. Fix: install a C++ "
            f"compiler and ninja, or reinstall with `pip install --no-build-isolation .`; `rnnzoo env` shows what "
            f"runs", stacklevel=3)
    return not ORIGIN.startswith("unavailable")


AVAILABLE = _load()
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


_TRITON_INSTALLED = importlib.util.find_spec("triton") is not None


def triton_ops(like: Tensor):
    """Return rnnzoo.nn.triton_scan (importing triton on first use) when its kernels should run on tensors like
    ``like``: CUDA float32/float64 tensors with triton installed, or any float32/float64 tensor under
    ``RNNZOO_TRITON=1``. Else None. ``RNNZOO_DISABLE_TRITON=1`` turns them off."""
    if not _TRITON_INSTALLED or os.environ.get("RNNZOO_DISABLE_TRITON") == "1" or like.dtype not in _DTYPES:
        return None
    if like.device.type != "cuda" and os.environ.get("RNNZOO_TRITON") != "1":
        return None
    from rnnzoo.nn import triton_scan

    return triton_scan


def scan_ops(like: Tensor):
    """The kernels for the peephole and GRU scans on tensors like ``like``: Triton (CUDA), C++ (CPU) or None."""
    ops = triton_ops(like)
    return ops if ops is not None else native_ops(like)
