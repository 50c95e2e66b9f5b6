"""rnnzoo's RNN, LSTM and GRU against torch.nn's layers with the same state dict.

Both execution paths are compared: the fused path (``return_gates=False``, torch's kernels with packed
sequences) and the per-direction path (``return_gates=True``: rnnzoo's own layer/direction loop, padding
reversal and final-state gathering). The torch.nn side handles ``lengths`` with packed sequences, the way
users do without rnnzoo.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnzoo.nn as rnn
from tests.conftest import DEVICES

CELLS = {
    "rnn_tanh": (rnn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (rnn.LSTM, torch.nn.LSTM, {}),
    "gru": (rnn.GRU, torch.nn.GRU, {}),
}
# float32: results differ only in summation order (packed vs padded kernels, two matmuls vs one), a few ulps of
# O(1) values over 6 steps; 1e-5 leaves room for that. float64: same argument with 2^-52 ulps.
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}
GRID = list(itertools.product([1, 2], [False, True], [False, True], [None, [6, 2, 5]]))


def torch_forward(layer, x, hx, lengths, batch_first):
    if lengths is None:
        return layer(x, hx)
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out, state = layer(packed, hx)
    out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=x.shape[1 if batch_first else 0])
    return out, state


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,lengths", GRID)
@pytest.mark.parametrize("return_gates", [False, True])
def test_matches_torch_nn(cell, num_layers, bidirectional, batch_first, lengths, return_gates, dtype, device, loop_impl):
    if loop_impl == "python" and not return_gates:
        pytest.skip("with the C++ loops off and no gates the fused torch kernels run: the same as torch.nn itself")
    ours_cls, torch_cls, extra = CELLS[cell]
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **extra)
    ours = ours_cls(4, 5, **kwargs).to(device, dtype)
    ref = torch_cls(4, 5, **kwargs).to(device, dtype)
    ref.load_state_dict(ours.state_dict())  # our init is not torch's: copy ours into the reference

    shape = (3, 6, 4) if batch_first else (6, 3, 4)
    x = torch.randn(shape, device=device, dtype=dtype, requires_grad=True)
    num_states = num_layers * (2 if bidirectional else 1)
    h0 = torch.randn(num_states, 3, 5, device=device, dtype=dtype)
    hx = (h0, torch.randn_like(h0)) if cell == "lstm" else h0

    out_ref, state_ref = torch_forward(ref, x, hx, lengths, batch_first)
    result = ours(x, hx, lengths=lengths, return_gates=return_gates)
    out, state = result[0], result[1]
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(out, out_ref, atol=tol, rtol=tol)
    for s, s_ref in zip(flat(state), flat(state_ref)):
        torch.testing.assert_close(s, s_ref, atol=tol, rtol=tol)

    # Gradients of one scalar that touches every output and final state, through both layers.
    weights = [torch.randn_like(t) for t in [out, *flat(state)]]
    loss = sum((w * t).sum() for w, t in zip(weights, [out, *flat(state)]))
    loss_ref = sum((w * t).sum() for w, t in zip(weights, [out_ref, *flat(state_ref)]))
    grads = torch.autograd.grad(loss, [x, *ours.parameters()])
    grads_ref = torch.autograd.grad(loss_ref, [x, *ref.parameters()])
    for g, g_ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, g_ref, atol=tol, rtol=tol)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_torch_state_dict_loads_and_round_trips(cell):
    ours_cls, torch_cls, extra = CELLS[cell]
    ref = torch_cls(3, 4, num_layers=2, bidirectional=True, **extra)
    ours = ours_cls(3, 4, num_layers=2, bidirectional=True, **extra)
    ours.load_state_dict(ref.state_dict())  # strict: names and shapes equal torch.nn's
    back = torch_cls(3, 4, num_layers=2, bidirectional=True, **extra)
    back.load_state_dict(ours.state_dict())
    for (name, a), (name_b, b) in zip(ref.state_dict().items(), back.state_dict().items()):
        assert name == name_b
        assert torch.equal(a, b)


def test_is_a_torch_layer():
    # Code that checks isinstance(layer, nn.LSTM) (e.g. cuDNN flattening, export tools) keeps working.
    assert isinstance(rnn.LSTM(2, 3), torch.nn.LSTM)
    assert isinstance(rnn.GRU(2, 3), torch.nn.GRU)
    assert isinstance(rnn.RNN(2, 3), torch.nn.RNN)


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.LSTM, rnn.GRU, rnn.PeepholeLSTM])
def test_unbatched_input_equals_batch_of_one(cls):
    layer = cls(3, 4, num_layers=2, bidirectional=True).eval()
    x = torch.randn(5, 3)
    out, state = layer(x)
    out_b, state_b = layer(x.unsqueeze(1))
    torch.testing.assert_close(out, out_b.squeeze(1))
    for s, s_b in zip(flat(state), flat(state_b)):
        torch.testing.assert_close(s, s_b.squeeze(1))
    out_g, _, gates = layer(x, return_gates=True)
    torch.testing.assert_close(out_g, out, atol=1e-6, rtol=1e-6)
    assert gates["h"].shape == (4, 5, 4)


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.LSTM, rnn.GRU, rnn.PeepholeLSTM])
def test_dropout_between_layers_only_in_training(cls):
    layer = cls(3, 8, num_layers=2, dropout=0.5)
    x = torch.randn(5, 2, 3)
    layer.eval()
    out_eval, _, _ = layer(x, return_gates=True)
    torch.testing.assert_close(layer(x)[0], out_eval, atol=1e-6, rtol=1e-6)
    layer.train()
    assert not torch.allclose(layer(x, return_gates=True)[0], out_eval)


def test_lstm_forget_bias_and_init():
    layer = rnn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert layer.forget_bias == 1.0
    for name, p in layer.named_parameters():
        if name.startswith("bias_ih"):
            assert torch.equal(p[4:8], torch.ones(4))
            assert torch.equal(torch.cat([p[:4], p[8:]]), torch.zeros(12))
        elif name.startswith("bias_hh"):
            assert torch.equal(p, torch.zeros(16))
        elif name.startswith("weight_hh"):
            for block in p.split(4):  # each gate's recurrent block is orthogonal
                torch.testing.assert_close(block @ block.T, torch.eye(4), atol=1e-5, rtol=0)
    assert torch.equal(rnn.LSTM(3, 4, forget_bias=0.0).bias_ih_l0, torch.zeros(16))
    with pytest.raises(ValueError, match="forget_bias=2.0 needs bias=True"):
        rnn.LSTM(3, 4, bias=False, forget_bias=2.0)
    assert rnn.LSTM(3, 4, bias=False).forget_bias == 0.0
