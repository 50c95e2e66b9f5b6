"""``return_gates=True``: same output as without, and gates that recompute that output by the cell equations."""

from __future__ import annotations

import pytest
import torch

import rnnzoo.nn as rnn

CELLS = [rnn.RNN, rnn.LSTM, rnn.GRU, rnn.PeepholeLSTM]
LENGTHS = [7, 3, 5, 1]
# float64 throughout: the checks below recompute each step independently, so only ulp-level differences remain.
TOL = dict(atol=1e-10, rtol=1e-10)


def make_layer(cls, **kwargs):
    layer = cls(3, 4, **kwargs).double().eval()
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("weight_peephole") or name.startswith("bias"):
                p.uniform_(-1, 1)
    return layer


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_output_identical_with_and_without_gates(cls, batch_first, lengths, loop_impl):
    layer = make_layer(cls, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = torch.randn((4, 7, 3) if batch_first else (7, 4, 3), dtype=torch.float64)
    out, state = layer(x, lengths=lengths)
    out_g, state_g, gates = layer(x, lengths=lengths, return_gates=True)
    torch.testing.assert_close(out_g, out, **TOL)
    for a, b in zip(state_g if isinstance(state_g, tuple) else [state_g], state if isinstance(state, tuple) else [state]):
        torch.testing.assert_close(a, b, **TOL)
    assert list(gates) == list(cls.gate_names)
    expected = (4, 4, 7, 4) if batch_first else (4, 7, 4, 4)
    assert all(g.shape == expected for g in gates.values())
    # The trace's h is the output, split by direction and layer.
    h = gates["h"]
    top = torch.cat([h[2], h[3]], dim=-1)
    torch.testing.assert_close(top, out, **TOL)


def step_equations(cls, layer, suffix, x_t, h_prev, c_prev, g):
    """Check one step's trace entries ``g`` (dict of (H,) tensors) against the cell's equations."""
    w_ih, w_hh = getattr(layer, "weight_ih" + suffix), getattr(layer, "weight_hh" + suffix)
    b_ih, b_hh = getattr(layer, "bias_ih" + suffix), getattr(layer, "bias_hh" + suffix)
    gx, gh = w_ih @ x_t + b_ih, w_hh @ h_prev + b_hh
    if cls is rnn.RNN:
        torch.testing.assert_close(g["h"], torch.tanh(gx + gh), **TOL)
        return None
    if cls is rnn.GRU:
        r = torch.sigmoid(gx[:4] + gh[:4])
        z = torch.sigmoid(gx[4:8] + gh[4:8])
        n = torch.tanh(gx[8:] + r * gh[8:])
        for name, value in [("reset", r), ("update", z), ("candidate", n), ("h", (1 - z) * n + z * h_prev)]:
            torch.testing.assert_close(g[name], value, **TOL)
        return None
    a = gx + gh
    p = getattr(layer, "weight_peephole" + suffix) if cls is rnn.PeepholeLSTM else torch.zeros(12, dtype=a.dtype)
    i = torch.sigmoid(a[:4] + p[:4] * c_prev)
    f = torch.sigmoid(a[4:8] + p[4:8] * c_prev)
    cand = torch.tanh(a[8:12])
    c = f * c_prev + i * cand
    o = torch.sigmoid(a[12:] + p[8:] * c)
    for name, value in [("input", i), ("forget", f), ("candidate", cand), ("output", o), ("c", c), ("h", o * torch.tanh(c))]:
        torch.testing.assert_close(g[name], value, **TOL)
    return c


@pytest.mark.parametrize("cls", CELLS)
def test_gates_recompute_output_by_cell_equations(cls, loop_impl):
    layer = make_layer(cls, num_layers=2, bidirectional=True)
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    h0 = torch.randn(4, 4, 4, dtype=torch.float64)
    c0 = torch.randn(4, 4, 4, dtype=torch.float64)
    hx = (h0, c0) if cls.has_cell_state else h0
    _, _, gates = layer(x, hx, lengths=LENGTHS, return_gates=True)
    for k in range(4):  # layer 0 fwd, layer 0 rev, layer 1 fwd, layer 1 rev
        layer_idx, reverse = divmod(k, 2)
        suffix = f"_l{layer_idx}" + ("_reverse" if reverse else "")
        layer_input = x if layer_idx == 0 else torch.cat([gates["h"][0], gates["h"][1]], dim=-1)
        for b, n in enumerate(LENGTHS):
            order = range(n - 1, -1, -1) if reverse else range(n)
            h_prev, c_prev = h0[k, b], c0[k, b]
            for t in order:
                step = {name: value[k, t, b] for name, value in gates.items()}
                c_new = step_equations(cls, layer, suffix, layer_input[t, b], h_prev, c_prev, step)
                h_prev, c_prev = step["h"], c_new
            for name, value in gates.items():  # nothing past the length
                assert torch.count_nonzero(value[k, n:, b]) == 0, name


@pytest.mark.parametrize("cls", CELLS)
def test_gate_trace_is_detached_and_output_is_not(cls, loop_impl):
    layer = cls(3, 4)
    out, _, gates = layer(torch.randn(5, 2, 3), return_gates=True)
    assert out.requires_grad
    assert not any(g.requires_grad for g in gates.values())
