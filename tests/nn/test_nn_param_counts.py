"""The parameter-count formulas of docs/layers.md, checked against the layers themselves."""

import pytest

import rnnzoo.nn as rnn

FORMULAS = {
    rnn.RNN: lambda i, h: h * (i + h) + 2 * h,
    rnn.LSTM: lambda i, h: 4 * h * (i + h) + 8 * h,
    rnn.PeepholeLSTM: lambda i, h: 4 * h * (i + h) + 8 * h + 3 * h,
    rnn.GRU: lambda i, h: 3 * h * (i + h) + 6 * h,
}


@pytest.mark.parametrize("cls", list(FORMULAS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("input_size,hidden", [(88, 36), (13, 100), (1, 1)])
def test_parameter_count_formula(cls, input_size, hidden):
    layer = cls(input_size, hidden, num_layers=2, bidirectional=True)
    count = sum(p.numel() for p in layer.parameters())
    # Layer 0 sees the input in both directions; layer 1 sees both directions' outputs (2H features).
    expected = 2 * FORMULAS[cls](input_size, hidden) + 2 * FORMULAS[cls](2 * hidden, hidden)
    assert count == expected
