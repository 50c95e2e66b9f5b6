"""The instruction-set variants of the C++ float kernels, checked in a subprocess per variant.

The kernels are compiled for SSE2, AVX2+FMA and AVX-512 and picked at run time; one process only ever runs the
one its CPU supports best. ATEN_CPU_CAPABILITY caps the choice (as it does for PyTorch's own kernels) and
RNNZOO_NO_PACKED_GEMM=1 makes the float per-step matmuls take the ATen path instead of MKL's packed GEMM, so a
fresh process with those set runs the variants this one did not pick.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

isa_variants = pytest.mark.parametrize(
    "extra_env",
    [{"ATEN_CPU_CAPABILITY": "default", "RNNZOO_NO_PACKED_GEMM": "1"}, {"ATEN_CPU_CAPABILITY": "avx2"}],
    ids=["sse2-aten-gemm", "avx2-packed-gemm"],
)


def run_under_isa(script: str, extra_env: dict[str, str]) -> None:
    """Run ``script`` (which prints "ok" last when its checks pass) in a fresh Python with ``extra_env``."""
    env = {**os.environ, **extra_env}
    env.pop("RNNZOO_DISABLE_NATIVE", None)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")
