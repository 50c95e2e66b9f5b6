"""PeepholeLSTM against an LSTM (peepholes zero) and against an independent per-sequence reference."""

from __future__ import annotations

import itertools

import pytest
import torch
from safetensors.torch import load_file, save_file

import rnnzoo.nn as rnn
from tests.conftest import DEVICES
from tests.support.reference_cells import peephole_reference

GRID = list(itertools.product([1, 2], [False, True], [False, True], [None, [6, 2, 5]]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,lengths", GRID)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zero_peepholes_equal_lstm(num_layers, bidirectional, batch_first, lengths, dtype, device, loop_impl):
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    peephole = rnn.PeepholeLSTM(4, 5, **kwargs).to(device, dtype)
    lstm = torch.nn.LSTM(4, 5, **kwargs).to(device, dtype)
    missing, unexpected = peephole.load_state_dict(lstm.state_dict(), strict=False)
    assert all(name.startswith("weight_peephole") for name in missing) and not unexpected
    with torch.no_grad():
        for name, p in peephole.named_parameters():
            if name.startswith("weight_peephole"):
                p.zero_()
    lstm_ours = rnn.LSTM(4, 5, **kwargs).to(device, dtype)
    lstm_ours.load_state_dict(lstm.state_dict())

    x = torch.randn((3, 6, 4) if batch_first else (6, 3, 4), device=device, dtype=dtype)
    h0 = torch.randn(num_layers * (2 if bidirectional else 1), 3, 5, device=device, dtype=dtype)
    hx = (h0, torch.randn_like(h0))
    out, (h_n, c_n) = peephole(x, hx, lengths=lengths)
    out_ref, (h_ref, c_ref) = lstm_ours(x, hx, lengths=lengths)
    # Same equations, different kernels (fused torch LSTM vs our loop): summation-order differences only.
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    for a, b in [(out, out_ref), (h_n, h_ref), (c_n, c_ref)]:
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)
    loss, loss_ref = out.square().sum() + c_n.sum(), out_ref.square().sum() + c_ref.sum()
    grads = dict(zip([n for n, _ in peephole.named_parameters()], torch.autograd.grad(loss, list(peephole.parameters()))))
    grads_ref = dict(zip([n for n, _ in lstm_ours.named_parameters()], torch.autograd.grad(loss_ref, list(lstm_ours.parameters()))))
    for name, g_ref in grads_ref.items():
        torch.testing.assert_close(grads[name], g_ref, atol=tol, rtol=tol)


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,lengths", GRID)
def test_matches_per_sequence_reference(num_layers, bidirectional, batch_first, lengths, loop_impl):
    dtype = torch.float64
    layer = rnn.PeepholeLSTM(4, 5, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    layer = layer.to(dtype)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("weight_peephole") or name.startswith("bias"):
                p.uniform_(-1, 1)  # non-zero peepholes, so they matter
    x = torch.randn(6, 3, 4, dtype=dtype, requires_grad=True)
    h0 = torch.randn(num_layers * (2 if bidirectional else 1), 3, 5, dtype=dtype, requires_grad=True)
    c0 = torch.randn_like(h0, requires_grad=True)
    full = [6, 6, 6] if lengths is None else lengths

    x_in = x.transpose(0, 1) if batch_first else x
    out, (h_n, c_n) = layer(x_in, (h0, c0), lengths=lengths)
    out = out.transpose(0, 1) if batch_first else out
    out_ref, h_ref, c_ref = peephole_reference(layer, x, full, h0, c0)
    for a, b in [(out, out_ref), (h_n, h_ref), (c_n, c_ref)]:
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)  # float64: ulp-level differences only

    w = [torch.randn_like(t) for t in (out, h_n, c_n)]
    inputs = [x, h0, c0, *layer.parameters()]
    grads = torch.autograd.grad(sum((a * b).sum() for a, b in zip(w, (out, h_n, c_n))), inputs)
    grads_ref = torch.autograd.grad(sum((a * b).sum() for a, b in zip(w, (out_ref, h_ref, c_ref))), inputs)
    for g, g_ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=1e-10)


def test_gradcheck_float64(loop_impl):
    layer = rnn.PeepholeLSTM(3, 4, num_layers=2, bidirectional=True).double()
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("weight_peephole"):
                p.uniform_(-1, 1)
    params = list(layer.parameters())
    names = [n for n, _ in layer.named_parameters()]
    x = torch.randn(5, 3, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 3, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(4, 3, 4, dtype=torch.float64, requires_grad=True)

    def run(x, h0, c0, *weights):
        out, (h_n, c_n) = torch.func.functional_call(layer, dict(zip(names, weights)), (x, (h0, c0)), {"lengths": [5, 2, 4]})
        return out, h_n, c_n

    assert torch.autograd.gradcheck(run, (x, h0, c0, *[p.detach().requires_grad_() for p in params]))


def test_state_dict_round_trips_through_safetensors(tmp_path):
    layer = rnn.PeepholeLSTM(3, 4, num_layers=2, bidirectional=True)
    with torch.no_grad():
        layer.weight_peephole_l1_reverse.uniform_(-1, 1)
    save_file(layer.state_dict(), tmp_path / "w.safetensors")
    fresh = rnn.PeepholeLSTM(3, 4, num_layers=2, bidirectional=True)
    fresh.load_state_dict(load_file(tmp_path / "w.safetensors"))  # strict
    x = torch.randn(5, 2, 3)
    torch.testing.assert_close(fresh(x)[0], layer(x)[0], atol=0, rtol=0)
    names = [n for n, _ in layer.named_parameters() if "peephole" in n]
    assert names == ["weight_peephole_l0", "weight_peephole_l0_reverse", "weight_peephole_l1", "weight_peephole_l1_reverse"]
    assert layer.weight_peephole_l0.shape == (12,)


def test_new_peephole_layer_starts_as_lstm():
    layer = rnn.PeepholeLSTM(3, 4)
    assert torch.equal(layer.weight_peephole_l0, torch.zeros(12))
    assert layer.forget_bias == 1.0 and torch.equal(layer.bias_ih_l0[4:8], torch.ones(4))
