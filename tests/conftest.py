import pytest
import torch


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
