"""The vanilla RNN's time loop as one autograd Function with a hand-written backward (as gru_scan.py for the GRU).

torch's fused RNN kernel on the CPU runs a packed batch (``lengths``) as one call per distinct batch size, and
pays autograd's bookkeeping for every step; this scan does the input projection for all steps as one matmul
outside (autograd handles W_ih and both biases), each step as one matmul plus one pointwise pass, and the
recurrent weight gradient as one large matmul after the loop.

The loops run in C++ (``rnnzoo._C``) when the extension is available and the tensors are on the CPU; otherwise in
the Python below, which is the reference the C++ code is tested against.

Canonical form: ``xproj`` (T, B, H) = W_ih x_t + b_ih + b_hh for every step (nothing multiplies b_hh, so it
folds into the input share); ``w_hh`` (H, H); ``mask`` (T, B, 1) bool or None. Past a sequence's length its
state is held, so the last step's state is the state at its own length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnzoo.nn.autocast_note import float32_under_autocast
from rnnzoo.nn.base import DirectionRun
from rnnzoo.nn.native import native_ops


def rnn_scan(xproj: Tensor, w_hh: Tensor, h0: Tensor, mask: Tensor | None, relu: bool) -> Tensor:
    """Run h_t = act(xproj_t + W_hh h_{t-1}) (act = relu if ``relu`` else tanh). Returns h for every step."""
    return RNNScan.apply(xproj, w_hh, h0, mask, relu)


@float32_under_autocast("RNN")  # its kernels are float32/float64 only
def rnn_scan_direction(
    x: Tensor, h0: Tensor, weights: list[Tensor], mask: Tensor | None, relu: bool, return_gates: bool
) -> DirectionRun:
    """Run one RNN layer and direction over a canonical (T, B, I) input with :func:`rnn_scan`.

    ``weights`` is torch.nn's ``[w_ih, w_hh(, b_ih, b_hh)]``.
    """
    w_ih, w_hh, *biases = weights
    bias = biases[0] + biases[1] if biases else None
    xproj = F.linear(x, w_ih, bias)  # every step's input share: one matmul
    hs = rnn_scan(xproj, w_hh, h0, None if mask is None else mask.bool(), relu)
    # Past each length the state is held, so the last step holds each sequence's final state.
    return DirectionRun(hs, hs[-1], None, {"h": hs.detach()} if return_gates else {})


class RNNScan(torch.autograd.Function):
    """(xproj, w_hh, h0, mask, relu) -> hs."""

    @staticmethod
    def forward(ctx, xproj, w_hh, h0, mask, relu):
        ops = native_ops(xproj)
        xproj, w_hh, h0 = (t.contiguous() for t in (xproj, w_hh, h0))
        hs = ops.rnn_forward(xproj, w_hh, h0, mask, relu) if ops is not None else forward_loop(xproj, w_hh, h0, mask, relu)
        ctx.save_for_backward(w_hh, h0, mask, hs)
        ctx.relu = relu
        ctx.set_materialize_grads(False)
        return hs

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_hs):
        w_hh, h0, mask, hs = ctx.saved_tensors
        if grad_hs is None:
            return None, None, None, None, None
        ops = native_ops(hs)
        args = (grad_hs, w_hh, h0, mask, hs, ctx.relu)
        grads = ops.rnn_backward(*args) if ops is not None else backward_loop(*args)
        return (*grads, None, None)


def forward_loop(xproj: Tensor, w_hh: Tensor, h0: Tensor, mask: Tensor | None, relu: bool) -> Tensor:
    """Reference forward, one step at a time: h_t = act(xproj_t + W_hh h_{t-1}), held past each length."""
    act = torch.relu if relu else torch.tanh
    hs = torch.empty_like(xproj)
    h = h0
    for t in range(xproj.shape[0]):
        h_new = act(torch.addmm(xproj[t], h, w_hh.t()))
        h = torch.where(mask[t], h_new, h) if mask is not None else h_new
        hs[t] = h
    return hs


def backward_loop(
    grad_hs: Tensor, w_hh: Tensor, h0: Tensor, mask: Tensor | None, hs: Tensor, relu: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Reference backward. With d the gradient reaching h_t (from step t+1 and from the output at t):

        d_a_t = d ⊙ act'(h_t)  (tanh: 1 - h_t²;  relu: [h_t > 0]);   dh_{t-1} = W_hhᵀ d_a_t
        a held step (past the length) has d_a_t = 0 and passes d to h_{t-1} unchanged.

    Returns the gradients of xproj, w_hh and h0.
    """
    slope = (hs > 0).to(hs.dtype) if relu else 1 - hs * hs
    d_a = torch.empty_like(hs)
    dh = torch.zeros_like(h0)
    for t in range(hs.shape[0] - 1, -1, -1):
        d = dh + grad_hs[t]
        d_a_t = d * slope[t] if mask is None else torch.where(mask[t], d * slope[t], 0)
        d_a[t] = d_a_t
        dh = d_a_t @ w_hh if mask is None else torch.where(mask[t], d_a_t @ w_hh, d)
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])
    grad_w_hh = d_a.reshape(-1, d_a.shape[-1]).t() @ h_prev.reshape(-1, h_prev.shape[-1])
    return d_a, grad_w_hh, dh
