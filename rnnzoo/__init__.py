"""rnnzoo: a Lightning model zoo of parameter-matched recurrent networks (RNN, LSTM, peephole LSTM, GRU)."""

__version__ = "0.1.0"

from rnnzoo import nn  # noqa: E402
from rnnzoo.models import architectures as _architectures  # noqa: E402,F401  (registers the zoo's names)
from rnnzoo.hub import load, push_to_hub, save_pretrained  # noqa: E402
from rnnzoo.registry import create_model, list_models, list_pretrained, register_model  # noqa: E402
from rnnzoo.registry import register_pretrained as _register_pretrained  # noqa: E402
from rnnzoo.weights import BUNDLED as _BUNDLED  # noqa: E402

for _info in _BUNDLED:
    _register_pretrained(_info)

__all__ = [
    "nn", "__version__", "load", "create_model", "list_models", "list_pretrained", "register_model",
    "save_pretrained", "push_to_hub",
]
