"""rnnzoo: a Lightning model zoo of parameter-matched recurrent networks (RNN, LSTM, peephole LSTM, GRU).

Importing rnnzoo registers the zoo's names and bundled weights (plain data) and nothing else: torch, the layers
and the Hub client are imported when first used (``rnnzoo.load``, ``rnnzoo.nn`` ...), so ``rnnzoo --help`` and
``rnnzoo list`` answer at once.
"""

from __future__ import annotations

import importlib
from typing import Any

from rnnzoo.version import __version__  # noqa: E402

from rnnzoo import families as _families  # noqa: E402,F401  (registers the zoo's names)
from rnnzoo.registry import list_models, list_pretrained, register_model  # noqa: E402
from rnnzoo.registry import register_pretrained as _register_pretrained  # noqa: E402
from rnnzoo.weights import BUNDLED as _BUNDLED  # noqa: E402

for _info in _BUNDLED:
    _register_pretrained(_info)

# name -> module that defines it, imported on first access (PEP 562)
_LAZY = {
    "nn": "rnnzoo.nn", "create_model": "rnnzoo.factory", "load": "rnnzoo.factory", "push_to_hub": "rnnzoo.factory",
    "from_pretrained": "rnnzoo.factory", "save_pretrained": "rnnzoo.hub", "export_onnx": "rnnzoo.export",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rnnzoo' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if name == "nn" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "nn", "__version__", "load", "create_model", "from_pretrained", "list_models", "list_pretrained",
    "register_model", "save_pretrained", "push_to_hub", "export_onnx",
]
