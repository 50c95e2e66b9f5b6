"""The C++ time loops on every install route: built once on first use when the install did not compile them
(pip's default build isolation skips them), reused after, and one clear warning when they cannot be built."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from tests.support.paths import REPO

REPO = REPO

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


def run_check(cache: Path, python: str = sys.executable, cwd: Path | None = None, **env_changes):
    env = {**os.environ, "RNNZOO_CACHE": str(cache), **env_changes}
    env.pop("RNNZOO_DISABLE_NATIVE", None)
    result = subprocess.run([python, "-c", CHECK], env=env, capture_output=True, text=True, timeout=600, cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    values = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return values, result.stderr


def standard_install(tmp_path: Path) -> Path:
    """``pip install --no-deps .`` with pip's default build isolation into a new virtual environment (whose
    dependencies come from this one's site-packages through a .pth file, so nothing else is downloaded).
    Returns that environment's python."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "rnnzoo", source / "rnnzoo",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # After the new environment's own site-packages: torch, pip and the rest, as a user's environment has them.
    Path(site, "zz_shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_NO_BUILD_ISOLATION")}
    result = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(source)], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    installed = subprocess.run([python, "-c", "import rnnzoo, pathlib; print(pathlib.Path(rnnzoo.__file__).parent)"],
                               capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert installed.startswith(site), installed  # the installed copy, not this checkout
    assert not list(Path(installed).glob("_C*.so")), "build isolation has no torch: no rnnzoo._C is compiled"
    return Path(python)


@pytest.mark.timeout(1500)
def test_standard_pip_install_gets_the_kernels_on_first_use_then_reuses_them(tmp_path):
    """The route users take (``pip install .``, build isolation on, so no rnnzoo._C): the first use compiles the
    kernels into the cache, with a notice; results equal the Python reference loops; the next process loads them."""
    python = standard_install(tmp_path)
    cache = tmp_path / "cache"
    first, err = run_check(cache, python=str(python), cwd=tmp_path)
    assert first["ORIGIN"].startswith("built on first use: ") and first["NATIVE"] == "True"
    assert "building the C++ time loops once" in err
    # The same kernels as the Python reference loops: float32 sums in another order, 1e-5 absolute on O(1) values.
    assert float(first["MAXDIFF"]) < 1e-5
    second, err = run_check(cache, python=str(python), cwd=tmp_path)
    assert second["ORIGIN"] == first["ORIGIN"] and "building" not in err  # reused from the cache
    assert float(second["SECONDS"]) < 5  # loading a built library, not compiling one


def test_no_compiler_gives_one_warning_and_the_python_loops(tmp_path):
    values, err = run_check(tmp_path / "cache", RNNZOO_FORCE_JIT="1", PATH=str(tmp_path))  # no c++ on this PATH
    assert values["ORIGIN"] == "unavailable: no C++ compiler (c++, g++ or clang++) on PATH"
    assert values["NATIVE"] == "False" and float(values["MAXDIFF"]) == 0.0
    assert err.count("rnnzoo's C++ time loops are unavailable") == 1 and "2-6x slower" in err


def test_env_reports_versions_and_the_kernels_each_cell_runs(capsys):
    from rnnzoo.cli import main
    from rnnzoo.nn import native

    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert f"C++ time loops: {native.ORIGIN}" in out and "torch " in out
    for cell in ("RNN", "LSTM", "PeepholeLSTM", "GRU"):
        assert any(line.startswith(cell + " ") for line in out.splitlines()), cell
