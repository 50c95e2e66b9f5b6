"""The GRU's time loop as one autograd Function with a hand-written backward (as peephole_scan.py for the LSTM).

torch's fused GRU kernel keeps its gates to itself, so tracing them used to mean recomputing them afterwards
with two large matmuls. This scan stores the activated gates anyway (its backward needs them): with
``return_gates=True`` they come for free. The input projection for all steps is one matmul outside (autograd
handles W_ih and b_ih), the recurrent weight gradient one large matmul after the loop.

The loops run in C++ (``rnnzoo._C``, one fused pointwise pass per step) when the extension is built and the
tensors are on the CPU, in Triton (rnnzoo/nn/triton_scan.py, one fused pointwise kernel plus one cuBLAS matmul per
step) on CUDA when triton is installed; otherwise in the Python below, which is the reference both are tested
against.

Canonical form: ``xproj`` (T, B, 3H) = W_ih x_t + b_ih for every step, gate order r, z, n as in torch.nn;
``w_hh`` (3H, H); ``b_hh`` (3H,) (zeros without biases: b_hn sits inside r ⊙ (W_hn h + b_hn), so it cannot be
folded into xproj); ``mask`` (T, B, 1) bool or None. Past a sequence's length its state is held, so the last
step's state is the state at its own length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnzoo.nn.autocast_note import float32_under_autocast
from rnnzoo.nn.base import DirectionRun
from rnnzoo.nn.native import scan_ops


def gru_scan(xproj: Tensor, w_hh: Tensor, b_hh: Tensor, h0: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Run the GRU recurrence. Returns h for every step (T, B, H) and the activated gates (T, B, 3H, detached:
    r, z, n)."""
    hs, gates, _ghn = GRUScan.apply(xproj, w_hh, b_hh, h0, mask)
    return hs, gates


@float32_under_autocast("GRU")  # its kernels are float32/float64 only
def gru_scan_direction(
    x: Tensor, h0: Tensor, weights: list[Tensor], mask: Tensor | None, return_gates: bool
) -> DirectionRun:
    """Run one GRU layer and direction over a canonical (T, B, I) input with :func:`gru_scan`.

    ``weights`` is torch.nn's ``[w_ih, w_hh(, b_ih, b_hh)]``.
    """
    w_ih, w_hh, *biases = weights
    b_ih, b_hh = biases or (None, w_hh.new_zeros(w_hh.shape[0]))
    xproj = F.linear(x, w_ih, b_ih)  # every step's input share: one matmul
    hs, gates = gru_scan(xproj, w_hh, b_hh, h0, None if mask is None else mask.bool())
    trace = {}
    if return_gates:
        r, z, n = gates.chunk(3, dim=-1)
        trace = {"reset": r, "update": z, "candidate": n, "h": hs.detach()}
    # Past each length the state is held, so the last step holds each sequence's final state.
    return DirectionRun(hs, hs[-1], None, trace)


class GRUScan(torch.autograd.Function):
    """(xproj, w_hh, b_hh, h0, mask) -> (hs, gates, ghn); gates and ghn (gh_n = W_hn h_{t-1} + b_hn per step,
    kept for the backward) are non-differentiable."""

    @staticmethod
    def forward(ctx, xproj, w_hh, b_hh, h0, mask):
        ops = scan_ops(xproj)
        xproj, w_hh, b_hh, h0 = (t.contiguous() for t in (xproj, w_hh, b_hh, h0))
        if ops is not None:
            hs, gates, ghn = ops.gru_forward(xproj, w_hh, b_hh, h0, mask)
        else:
            hs, gates, ghn = forward_loop(xproj, w_hh, b_hh, h0, mask)
        ctx.save_for_backward(w_hh, b_hh, h0, mask, hs, gates, ghn)
        ctx.mark_non_differentiable(gates, ghn)
        ctx.set_materialize_grads(False)
        return hs, gates, ghn

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_hs, _grad_gates, _grad_ghn):
        w_hh, b_hh, h0, mask, hs, gates, ghn = ctx.saved_tensors
        ops = scan_ops(gates)
        # A missing gradient becomes a broadcast zero (read a step at a time, never materialised).
        grad_hs = hs.new_zeros(()).expand_as(hs) if grad_hs is None else grad_hs
        args = (grad_hs, w_hh, b_hh, h0, mask, hs, gates, ghn)
        grads = ops.gru_backward(*args) if ops is not None else backward_loop(*args)
        return (*grads, None)


def forward_loop(xproj, w_hh, b_hh, h0, mask):
    """Reference forward, one step at a time (gh = W_hh h_{t-1} + b_hh):

        r_t = σ(xproj_r + gh_r);  z_t = σ(xproj_z + gh_z)
        n_t = tanh(xproj_n + r_t ⊙ gh_n)
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}  (computed as n_t + z_t ⊙ (h_{t-1} - n_t))

    Returns hs (T, B, H), gates (T, B, 3H: r, z, n) and gh_n for every step (T, B, H).
    """
    seq_len, batch, three_h = xproj.shape
    hidden = three_h // 3
    gates = torch.empty_like(xproj)
    hs = xproj.new_empty(seq_len, batch, hidden)
    ghn = torch.empty_like(hs)
    w_t = w_hh.t()
    h = h0
    for t in range(seq_len):
        gh = torch.addmm(b_hh, h, w_t)
        a = gates[t]
        rz = torch.add(xproj[t, :, : 2 * hidden], gh[:, : 2 * hidden], out=a[:, : 2 * hidden]).sigmoid_()
        r, z = rz[:, :hidden], rz[:, hidden:]
        ghn[t] = gh[:, 2 * hidden :]
        n = torch.addcmul(xproj[t, :, 2 * hidden :], r, ghn[t], out=a[:, 2 * hidden :]).tanh_()
        h_new = n + z * (h - n)
        if mask is not None:
            h_new = torch.where(mask[t], h_new, h)
        hs[t] = h_new
        h = hs[t]
    return hs, gates, ghn


def backward_loop(grad_hs, w_hh, b_hh, h0, mask, hs, gates, ghn):
    """Reference backward. With d the gradient reaching h_t (masked to the valid steps):

        da_n = d ⊙ (1-z) ⊙ (1-n²);  da_z = d ⊙ (h_{t-1} - n) ⊙ z(1-z);  da_r = da_n ⊙ gh_n ⊙ r(1-r)
        d_xproj = (da_r, da_z, da_n);  d_gh = (da_r, da_z, da_n ⊙ r)
        dh_{t-1} = d ⊙ z + W_hhᵀ d_gh

    Returns the gradients of xproj, w_hh, b_hh and h0.
    """
    seq_len, batch, three_h = gates.shape
    hidden = three_h // 3
    r, z, n = gates.chunk(3, dim=-1)
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])
    # Derivative factors of every step at once: the loop below then needs only a few ops per step.
    k_n = (1 - z) * (1 - n * n)
    k_z = (h_prev - n) * z * (1 - z)
    k_r = ghn * r * (1 - r)

    d_x = torch.empty_like(gates)
    d_gh = torch.empty_like(gates)
    dh = torch.zeros_like(h0)
    for t in range(seq_len - 1, -1, -1):
        dh = dh + grad_hs[t]
        if mask is not None:
            # Past the length the state was held: its gradient passes straight to step t-1.
            dh_held = torch.where(mask[t], 0, dh)
            dh = torch.where(mask[t], dh, 0)
        da_n = torch.mul(dh, k_n[t], out=d_x[t, :, 2 * hidden :])
        torch.mul(dh, k_z[t], out=d_x[t, :, hidden : 2 * hidden])
        torch.mul(da_n, k_r[t], out=d_x[t, :, :hidden])
        d_gh[t, :, : 2 * hidden] = d_x[t, :, : 2 * hidden]
        torch.mul(da_n, r[t], out=d_gh[t, :, 2 * hidden :])
        dh = torch.addmm(dh * z[t], d_gh[t], w_hh)
        if mask is not None:
            dh = dh + dh_held

    flat = d_gh.view(-1, three_h)
    grad_w_hh = flat.t() @ h_prev.reshape(-1, hidden)
    grad_b_hh = flat.sum(0).view(b_hh.shape)
    return d_x, grad_w_hh, grad_b_hh, dh
