"""The peephole LSTM's time loop as one autograd Function with a hand-written backward.

Autograd over a Python loop records ~15 small ops per step and replays them backwards; here the forward
stores what the backward needs anyway (the activated gates and every cell state), and the backward walks the
steps once with derivative factors precomputed for all steps in bulk. The input projection for all steps is
one matmul outside (autograd handles it), and the recurrent weight gradient is one large matmul after the loop.

The loops run in C++ (``rnnzoo._C``, one fused pointwise pass per step) when the extension is built and the
tensors are on the CPU, in Triton (rnnzoo/nn/triton_scan.py, one fused pointwise kernel plus one cuBLAS matmul per
step) on CUDA when triton is installed; otherwise in the Python below, which is the reference both are tested
against.

Canonical form: ``xproj`` (T, B, 4H) = W_ih x_t + b_ih + b_hh for every step, gate order i, f, g, o as in
torch.nn; ``peep`` (3H,) = [p_i, p_f, p_o]; ``mask`` (T, B, 1) bool or None. Past a sequence's length its state
is held, so the last step's state is the state at its own length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnzoo.nn.autocast_note import float32_under_autocast
from rnnzoo.nn.base import DirectionRun
from rnnzoo.nn.native import scan_ops


def peephole_scan(
    xproj: Tensor, w_hh: Tensor, peep: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Run the peephole LSTM recurrence. Returns h and c for every step (T, B, H) and the activated gates
    (T, B, 4H, detached: i, f, g, o)."""
    return PeepholeScan.apply(xproj, w_hh, peep, h0, c0, mask)


@float32_under_autocast("(peephole) LSTM")  # its kernels are float32/float64 only
def scan_direction(
    x: Tensor, h0: Tensor, c0: Tensor, weights: list[Tensor], peep: Tensor, mask: Tensor | None, return_gates: bool
) -> DirectionRun:
    """Run one (peephole) LSTM layer and direction over a canonical (T, B, I) input with :func:`peephole_scan`.

    ``weights`` is torch.nn's ``[w_ih, w_hh(, b_ih, b_hh)]``; a zero ``peep`` gives a plain LSTM.
    """
    w_ih, w_hh, *biases = weights
    xproj = F.linear(x, w_ih, biases[0] + biases[1] if biases else None)  # every step's input share: one matmul
    hs, cs, gates = peephole_scan(xproj, w_hh, peep, h0, c0, None if mask is None else mask.bool())
    trace = {}
    if return_gates:
        i, f, g, o = gates.chunk(4, dim=-1)
        trace = {"input": i, "forget": f, "candidate": g, "output": o, "c": cs.detach(), "h": hs.detach()}
    # Past each length the state is held, so the last step holds each sequence's final state.
    return DirectionRun(hs, hs[-1], cs[-1], trace)


class PeepholeScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xproj, w_hh, peep, h0, c0, mask):
        ops = scan_ops(xproj)
        xproj, w_hh, peep, h0, c0 = (t.contiguous() for t in (xproj, w_hh, peep, h0, c0))
        if ops is not None:
            hs, cs, gates = ops.peephole_forward(xproj, w_hh, peep, h0, c0, mask)
        else:
            hs, cs, gates = forward_loop(xproj, w_hh, peep, h0, c0, mask)
        ctx.save_for_backward(w_hh, peep, h0, c0, mask, hs, cs, gates)
        ctx.mark_non_differentiable(gates)
        # Unused outputs (gates always, often cs) get no gradient: no (T, B, 4H) tensor of zeros is filled.
        ctx.set_materialize_grads(False)
        return hs, cs, gates

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_hs, grad_cs, _grad_gates):
        w_hh, peep, h0, c0, mask, hs, cs, gates = ctx.saved_tensors
        ops = scan_ops(gates)
        # A missing gradient becomes a broadcast zero and an expanded one (e.g. from .sum()) stays expanded: both
        # loops read them a step at a time, so neither is materialised as a full (T, B, H) tensor.
        grad_hs = hs.new_zeros(()).expand_as(hs) if grad_hs is None else grad_hs
        grad_cs = cs.new_zeros(()).expand_as(cs) if grad_cs is None else grad_cs
        args = (grad_hs, grad_cs, w_hh, peep, h0, c0, mask, hs, cs, gates)
        grads = ops.peephole_backward(*args) if ops is not None else backward_loop(*args)
        return (*grads, None)


def forward_loop(xproj, w_hh, peep, h0, c0, mask):
    """Reference forward, one step at a time:

        i_t = σ(a_i + p_i ⊙ c_{t-1})       a = xproj_t + W_hh h_{t-1}
        f_t = σ(a_f + p_f ⊙ c_{t-1})
        g_t = tanh(a_g)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        o_t = σ(a_o + p_o ⊙ c_t)
        h_t = o_t ⊙ tanh(c_t)
    """
    seq_len, batch, four_h = xproj.shape
    hidden = four_h // 4
    gates = torch.empty_like(xproj)
    hs = xproj.new_empty(seq_len, batch, hidden)
    cs = torch.empty_like(hs)
    p_if, p_o = peep[: 2 * hidden].view(2, hidden), peep[2 * hidden :]
    w_t = w_hh.t()
    h, c = h0, c0
    for t in range(seq_len):
        a = torch.addmm(xproj[t], h, w_t, out=gates[t])
        a_if = a[:, : 2 * hidden].view(batch, 2, hidden)
        a_if.addcmul_(p_if, c.unsqueeze(1)).sigmoid_()
        i, f = a[:, :hidden], a[:, hidden : 2 * hidden]
        g = a[:, 2 * hidden : 3 * hidden].tanh_()
        c_new = torch.addcmul(f * c, i, g)
        o = a[:, 3 * hidden :].addcmul_(p_o, c_new).sigmoid_()
        h_new = o * torch.tanh(c_new)
        if mask is not None:
            c_new = torch.where(mask[t], c_new, c)
            h_new = torch.where(mask[t], h_new, h)
        cs[t], hs[t] = c_new, h_new
        h, c = hs[t], cs[t]
    return hs, cs, gates


def backward_loop(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, hs, cs, gates):
    """Reference backward. With dh, dc the gradients reaching step t's state (masked to the valid steps):

        da_o = dh ⊙ tanh(c_t) ⊙ o(1-o)
        dc  += dh ⊙ o ⊙ (1 - tanh²(c_t)) + p_o ⊙ da_o
        da_i = dc ⊙ g ⊙ i(1-i);  da_f = dc ⊙ c_{t-1} ⊙ f(1-f);  da_g = dc ⊙ i ⊙ (1-g²)
        dc_{t-1} = dc ⊙ f + p_i ⊙ da_i + p_f ⊙ da_f;   dh_{t-1} = W_hhᵀ da
    """
    seq_len, batch, four_h = gates.shape
    hidden = four_h // 4
    i, f, g, o = gates.chunk(4, dim=-1)
    c_prev = torch.cat([c0.unsqueeze(0), cs[:-1]])
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])
    tanh_c = torch.tanh(cs)
    # Derivative factors of every step at once: the loop below then needs only a few ops per step.
    k_o = tanh_c * o * (1 - o)
    k_c = o * (1 - tanh_c * tanh_c)
    k_ifg = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], dim=2)
    p_i, p_f, p_o = peep.view(3, hidden)

    d_pre = torch.empty_like(gates)
    dh = torch.zeros_like(h0)
    dc = torch.zeros_like(c0)
    for t in range(seq_len - 1, -1, -1):
        dh = dh + grad_hs[t]
        dc = dc + grad_cs[t]
        if mask is not None:
            # Past the length the state was held: its gradient passes straight to step t-1.
            dh_held, dc_held = torch.where(mask[t], 0, dh), torch.where(mask[t], 0, dc)
            dh, dc = torch.where(mask[t], dh, 0), torch.where(mask[t], dc, 0)
        da = d_pre[t]
        da_o = torch.mul(dh, k_o[t], out=da[:, 3 * hidden :])
        dc = dc + dh * k_c[t] + da_o * p_o
        da_ifg = torch.mul(dc.unsqueeze(1), k_ifg[t], out=da[:, : 3 * hidden].view(batch, 3, hidden))
        dc = dc * f[t] + da_ifg[:, 0] * p_i + da_ifg[:, 1] * p_f
        dh = da @ w_hh
        if mask is not None:
            dh, dc = dh + dh_held, dc + dc_held

    flat = d_pre.view(-1, four_h)
    grad_w_hh = flat.t() @ h_prev.reshape(-1, hidden)
    d_i, d_f, _, d_o = d_pre.chunk(4, dim=-1)
    grad_peep = torch.cat([(d_i * c_prev).sum((0, 1)), (d_f * c_prev).sum((0, 1)), (d_o * cs).sum((0, 1))])
    return d_pre, grad_w_hh, grad_peep, dh, dc
