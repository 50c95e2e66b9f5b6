"""rnnzoo: a Lightning model zoo of parameter-matched recurrent networks (RNN, LSTM, peephole LSTM, GRU)."""

from rnnzoo import nn

__version__ = "0.1.0"

__all__ = ["nn", "__version__"]
