"""rnnzoo's recurrent layers: torch.nn-compatible RNN, LSTM, PeepholeLSTM and GRU.

All four share one contract (``forward(input, hx=None, *, lengths=None, return_gates=False)``) so that a
comparison between them changes nothing but the cell.
"""

from rnnzoo.nn.gru import GRU
from rnnzoo.nn.lstm import LSTM
from rnnzoo.nn.peephole_lstm import PeepholeLSTM
from rnnzoo.nn.rnn import RNN

__all__ = ["RNN", "LSTM", "PeepholeLSTM", "GRU"]
