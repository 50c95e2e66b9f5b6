import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))  # tests/reference_cells.py and other test helpers


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
