import os

import pytest
import torch

# Under pytest-xdist (`make test` runs one worker per core) each worker process gets an equal share of the cores:
# torch's default of one thread per core in every worker would put N workers x N threads on N cores, and its
# OpenMP threads spin while they wait. Subprocesses a test starts (CLI runs, servers) inherit the same share.
# Results do not depend on it: tests that compare numbers across thread counts set their own.
if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    _share = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    os.environ["OMP_NUM_THREADS"] = str(_share)
    torch.set_num_threads(_share)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=["native", "python"])
def loop_impl(request, monkeypatch):
    """Run a test on the C++ time loops (when built) and again on the Python reference loops."""
    if request.param == "python":
        monkeypatch.setenv("RNNZOO_DISABLE_NATIVE", "1")
    return request.param


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A loopback Hugging Face Hub (tests/support/hub_server.py) that rnnzoo's Hub calls reach through HF_ENDPOINT, with a
    cache of its own."""
    from tests.support.hub_server import LoopbackHub

    with LoopbackHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
        monkeypatch.setenv("HF_TOKEN", "dummy-token")  # the loopback accepts any; never a real one in tests
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        yield server
