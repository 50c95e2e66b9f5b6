"""The C++ time loops on every install route: built once on first use when the install did not compile them
(pip's default build isolation skips them), reused after, and one clear warning when they cannot be built."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = """
import time, torch
start = time.perf_counter()
from rnnzoo.nn import native
import rnnzoo.nn as rnn
print("ORIGIN", native.ORIGIN)
print("SECONDS", time.perf_counter() - start)
torch.manual_seed(0)
layer = rnn.PeepholeLSTM(5, 7, bidirectional=True, batch_first=True)
with torch.no_grad():
    for name, p in layer.named_parameters():
        if "peephole" in name:
            p.uniform_(-0.5, 0.5)  # peepholes start at zero; make them count
x = torch.randn(3, 9, 5, requires_grad=True)
def run():
    out, (h, c) = layer(x, lengths=[9, 4, 6])
    grads = torch.autograd.grad(out.sum() + c.sum(), [x, *layer.parameters()])
    return [out, h, c, *grads]
ops_native = native.native_ops(x) is not None
fast = run()
import os
os.environ["RNNZOO_DISABLE_NATIVE"] = "1"
slow = run()
print("NATIVE", ops_native)
print("MAXDIFF", max(float((a - b).abs().max()) for a, b in zip(fast, slow)))
"""


def run_check(tmp_path, **env_changes):
    env = {**os.environ, "RNNZOO_CACHE": str(tmp_path / "cache"), **env_changes}
    env.pop("RNNZOO_DISABLE_NATIVE", None)
    result = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    values = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return values, result.stderr


@pytest.mark.timeout(900)
def test_built_on_first_use_then_reused_and_equal_to_the_python_loops(tmp_path):
    first, err = run_check(tmp_path, RNNZOO_FORCE_JIT="1")  # as if rnnzoo._C had not been compiled
    assert first["ORIGIN"].startswith("built on first use: ") and first["NATIVE"] == "True"
    assert "building the C++ time loops once" in err
    # The same kernels as the Python reference loops: float32 sums in another order, 1e-5 absolute on O(1) values.
    assert float(first["MAXDIFF"]) < 1e-5
    second, err = run_check(tmp_path, RNNZOO_FORCE_JIT="1")
    assert second["ORIGIN"] == first["ORIGIN"] and "building" not in err  # reused from the cache
    assert float(second["SECONDS"]) < 5  # loading a built library, not compiling one


def test_no_compiler_gives_one_warning_and_the_python_loops(tmp_path):
    values, err = run_check(tmp_path, RNNZOO_FORCE_JIT="1", PATH=str(tmp_path))  # no c++ on this PATH
    assert values["ORIGIN"] == "unavailable: no C++ compiler (c++, g++ or clang++) on PATH"
    assert values["NATIVE"] == "False" and float(values["MAXDIFF"]) == 0.0
    assert err.count("rnnzoo's C++ time loops are unavailable") == 1 and "about 2x slower" in err


def test_env_reports_versions_and_the_kernels_each_cell_runs(capsys):
    from rnnzoo.cli import main
    from rnnzoo.nn import native

    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert f"C++ time loops: {native.ORIGIN}" in out and "torch " in out
    for cell in ("RNN", "LSTM", "PeepholeLSTM", "GRU"):
        assert any(line.startswith(cell + " ") for line in out.splitlines()), cell
