"""``rnnzoo env``: what this machine runs — versions, threads, CUDA, and which kernels each cell uses."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def kernel_table(native_available: bool, cuda: bool, triton: bool = False) -> list[tuple[str, str, str]]:
    """(cell, plain forward, forward with ``return_gates=True``) for the CPU (and CUDA when present; ``triton``:
    the Triton scans can run there)."""
    scan = "C++ time loop" if native_available else "Python loop (C++ kernels unavailable)"
    fused = "torch fused kernel (packed with lengths)"
    # The routing rule of rnnzoo.nn (docs/layers.md, "Where each call runs"): the C++ scans where they were
    # measured faster, torch's kernels elsewhere and whenever the C++ kernels are missing.
    rows = [
        ("RNN", "C++ time loop" if native_available else fused,
         "C++ time loop" if native_available else "torch fused kernel per layer/direction"),
        ("LSTM", "torch fused kernel; C++ time loop with lengths" if native_available else fused, scan),
        ("PeepholeLSTM", scan, scan),
        ("GRU", "C++ time loop" if native_available else fused, scan),
    ]
    if cuda:
        loop = "Triton time loop" if triton else "Python loop (pip install triton for the Triton loops)"
        rows += [
            ("RNN on CUDA", "cuDNN", "cuDNN per layer/direction"),
            ("LSTM on CUDA", "cuDNN", loop),
            ("PeepholeLSTM on CUDA", loop, loop),
            ("GRU on CUDA", "cuDNN", loop),
        ]
    return rows


def env_main(argv: list[str]) -> int:
    """Print the report; returns 0."""
    if argv and argv[0] in ("-h", "--help"):
        print("usage: rnnzoo env\n\nVersions, threads, CUDA and the kernels each cell runs on this machine.")
        return 0
    import torch

    from rnnzoo.version import __version__
    from rnnzoo.nn import native

    cuda = torch.cuda.is_available()
    triton_off = os.environ.get("RNNZOO_DISABLE_TRITON") == "1"
    triton = cuda and native.triton_ops(torch.zeros(1, device="cuda")) is not None
    lines = [
        f"rnnzoo {__version__}, Python {platform.python_version()} ({sys.executable})",
        f"torch {torch.__version__}, lightning {_version('lightning')}, torchmetrics {_version('torchmetrics')}, "
        f"mlflow {_version('mlflow')}, huggingface-hub {_version('huggingface-hub')}, "
        f"safetensors {_version('safetensors')}",
        f"CPU: {platform.machine()}, torch threads {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})",
        f"CUDA: {torch.cuda.get_device_name(0) + f' (of {torch.cuda.device_count()})' if cuda else 'not available'}",
        f"C++ time loops: {native.ORIGIN}",
        f"Triton: {_version('triton')}{' (RNNZOO_DISABLE_TRITON=1: off)' if triton_off else ''}",
        "",
        f"{'cell':<22}{'forward':<50}forward with return_gates=True",
    ]
    lines += [f"{cell:<22}{plain:<50}{gates}" for cell, plain, gates in kernel_table(native.AVAILABLE, cuda, triton)]
    print("\n".join(lines))
    return 0
