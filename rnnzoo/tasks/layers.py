"""Cell names -> rnnzoo.nn layer classes: the one place a task model's ``cell`` argument is resolved."""

from __future__ import annotations

from typing import Any

from torch import nn

from rnnzoo.nn import GRU, LSTM, RNN, PeepholeLSTM

CELLS: dict[str, type[nn.Module]] = {
    "rnn": RNN,  # tanh by default; cell_options={"nonlinearity": "relu"} for a ReLU RNN
    "lstm": LSTM,
    "peephole_lstm": PeepholeLSTM,
    "gru": GRU,
}


def build_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dropout: float = 0.0,
    bidirectional: bool = False,
    cell_options: dict[str, Any] | None = None,
) -> nn.Module:
    """Build one batch-first rnnzoo.nn layer by cell name.

    ``cell_options`` go to the layer's constructor as they are (``forget_bias`` for the LSTMs, ``nonlinearity``
    for the RNN, ``bias``); task models store them in their config so a saved model rebuilds the same layer.
    """
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(CELLS)}")
    # Dropout between stacked layers only: torch.nn warns (and does nothing) with one layer.
    return CELLS[cell](
        input_size,
        hidden_size,
        num_layers=num_layers,
        dropout=dropout if num_layers > 1 else 0.0,
        bidirectional=bidirectional,
        batch_first=True,
        **(cell_options or {}),
    )


def last_layer_state(h_n, num_directions: int):
    """The top layer's final hidden state(s), ``(B, num_directions * H)``.

    rnnzoo.nn layers already take ``h_n`` at each sequence's own last step (reverse direction: at its first),
    so this is the "pool the last state per length" of a sequence classifier; LSTMs' ``(h_n, c_n)`` give h_n.
    """
    if isinstance(h_n, tuple):
        h_n = h_n[0]
    top = h_n[-num_directions:]  # (D, B, H): layer L-1 forward (and reverse)
    return top.transpose(0, 1).reshape(top.shape[1], -1)
