"""Builds the optional C++ extension ``rnnzoo._C`` (time loops of the peephole LSTM, GRU and vanilla RNN); metadata is in pyproject.toml.

Install without build isolation so the extension compiles against the torch already installed (isolation would
fetch another torch):  pip install -e . --no-deps --no-build-isolation

Flags are portable (-O3, no -march=native): the float kernels carry their own AVX2 / AVX-512 clones, chosen at
run time. If the build fails (no compiler) the package still installs, and the Python loops run instead.
"""

from __future__ import annotations

import sys

from setuptools import setup

try:
    from torch.utils.cpp_extension import BuildExtension, CppExtension
except ImportError:  # torch missing at build time: install the pure-Python package
    BuildExtension = CppExtension = None


def _extensions():
    if CppExtension is None:
        return [], {}

    class OptionalBuildExtension(BuildExtension):
        """BuildExtension that warns instead of failing: the extension is an optional speed-up."""

        def run(self):
            try:
                super().run()
            except Exception as exc:  # noqa: BLE001  (no compiler, missing headers, ...)
                self._skip(exc)

        def build_extension(self, ext):
            try:
                super().build_extension(ext)
            except Exception as exc:  # noqa: BLE001
                self._skip(exc)

        @staticmethod
        def _skip(exc):
            print(
                f"WARNING: rnnzoo._C was not built ({exc}); the time loops run in Python.",
                file=sys.stderr,
            )

    ext = CppExtension(
        "rnnzoo._C",
        sources=["rnnzoo/csrc/peephole.cpp", "rnnzoo/csrc/gru.cpp", "rnnzoo/csrc/rnn.cpp"],
        depends=["rnnzoo/csrc/pointwise.h", "rnnzoo/csrc/scan_common.h"],
        extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wno-unused-parameter"],
    )
    return [ext], {"build_ext": OptionalBuildExtension}


ext_modules, cmdclass = _extensions()
setup(ext_modules=ext_modules, cmdclass=cmdclass)
