"""The peephole LSTM's and the GRU's time loops for CUDA: one fused Triton pointwise kernel per step, the
recurrent matmul in cuBLAS (torch.addmm).

The Python reference loops (peephole_scan.py, gru_scan.py) launch ~10 small kernels per step forward and ~15
backward; here each step is two launches, one cuBLAS GEMM and one Triton kernel that does all of the step's
pointwise work (gates, peepholes, cell and hidden state, the length mask) in one pass over (B, H):

    forward step t:   a = xproj_t + h_{t-1} W_hhᵀ               (cuBLAS, written into gates[t])
                      gates[t], c_t, h_t = pointwise(a, c_{t-1}, h_{t-1}, peep, mask_t)     (Triton)
    backward step t:  d_pre[t], dc, dh_held = pointwise(dh + grad_h[t], dc + grad_c[t], ...)  (Triton)
                      dh = dh_held + d_pre[t] W_hh                (cuBLAS, in place)

The weight gradients are large matmuls after the loop, as in the reference. Why per-step kernels and not one
persistent kernel looping over time: see docs/performance.md ("GPU: the Triton scans").

Functions here take and return exactly what the C++ ops (``torch.ops.rnnzoo.peephole_forward`` ...) do, so the
autograd Functions dispatch to either (:func:`rnnzoo.nn.native.scan_ops`). They run on CUDA tensors, and on CPU
tensors under Triton's interpreter (``TRITON_INTERPRET=1`` set before triton is imported), which is how the
tests check them against the reference loops on a machine without a GPU.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

MAX_BLOCK = 1024  # elements of (B, H) per program; 4 warps hold 8 per thread


@triton.jit
def _sigmoid(x):
    # exp(-x) overflows to inf for x << 0 and gives exactly 0; never inf/inf.
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _tanh(x):
    # tanh(|x|) = (1 - e) / (1 + e), e = exp(-2|x|) in (0, 1]: no overflow, saturates to ±1 exactly.
    e = tl.exp(-2.0 * tl.abs(x))
    t = (1.0 - e) / (1.0 + e)
    return tl.where(x < 0, -t, t)


@triton.jit
def _peephole_forward_step(
    a_ptr,  # (B, 4H) in: xproj_t + W_hh h_{t-1}; out: the activated gates i, f, g, o
    c_prev_ptr, h_prev_ptr,  # (B, H)
    peep_ptr,  # (3H,) p_i, p_f, p_o
    mask_ptr,  # (B,) bool, step t's column of the mask (unused without HAS_MASK)
    c_ptr, h_ptr,  # (B, H) out: c_t, h_t
    N, H,  # N = B * H
    HAS_MASK: tl.constexpr, BLOCK: tl.constexpr,
):
    n = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # (BLOCK,) flat index into (B, H)
    live = n < N
    b, j = n // H, n % H
    row = b * 4 * H + j  # gate k of element (b, j) sits at row + k * H
    a_i = tl.load(a_ptr + row, mask=live, other=0.0)
    a_f = tl.load(a_ptr + row + H, mask=live, other=0.0)
    a_g = tl.load(a_ptr + row + 2 * H, mask=live, other=0.0)
    a_o = tl.load(a_ptr + row + 3 * H, mask=live, other=0.0)
    c_prev = tl.load(c_prev_ptr + n, mask=live, other=0.0)
    p_i = tl.load(peep_ptr + j, mask=live, other=0.0)
    p_f = tl.load(peep_ptr + H + j, mask=live, other=0.0)
    p_o = tl.load(peep_ptr + 2 * H + j, mask=live, other=0.0)

    i = _sigmoid(a_i + p_i * c_prev)
    f = _sigmoid(a_f + p_f * c_prev)
    g = _tanh(a_g)
    c = f * c_prev + i * g
    o = _sigmoid(a_o + p_o * c)
    h = o * _tanh(c)
    if HAS_MASK:  # past its length a sequence holds its state
        valid = tl.load(mask_ptr + b, mask=live, other=0) != 0
        c = tl.where(valid, c, c_prev)
        h = tl.where(valid, h, tl.load(h_prev_ptr + n, mask=live, other=0.0))

    tl.store(a_ptr + row, i, mask=live)
    tl.store(a_ptr + row + H, f, mask=live)
    tl.store(a_ptr + row + 2 * H, g, mask=live)
    tl.store(a_ptr + row + 3 * H, o, mask=live)
    tl.store(c_ptr + n, c, mask=live)
    tl.store(h_ptr + n, h, mask=live)


@triton.jit
def _peephole_backward_step(
    dh_ptr,  # (B, H) in: gradient reaching h_t from step t+1; out: the part held past the length (else 0)
    gh_ptr, gh_sb, gh_sh,  # grad_hs[t] (B, H), any strides (0 for a broadcast zero)
    dc_ptr,  # (B, H) in: gradient reaching c_t from step t+1; out: gradient reaching c_{t-1}
    gc_ptr, gc_sb, gc_sh,  # grad_cs[t] (B, H), any strides
    gates_ptr,  # (B, 4H) activated gates of step t
    c_prev_ptr, c_ptr,  # (B, H) c_{t-1}, c_t
    peep_ptr, mask_ptr,
    d_pre_ptr,  # (B, 4H) out: gradient of the pre-activations
    N, H,
    HAS_MASK: tl.constexpr, BLOCK: tl.constexpr,
):
    n = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = n < N
    b, j = n // H, n % H
    row = b * 4 * H + j
    dh = tl.load(dh_ptr + n, mask=live, other=0.0) + tl.load(gh_ptr + b * gh_sb + j * gh_sh, mask=live, other=0.0)
    dc = tl.load(dc_ptr + n, mask=live, other=0.0) + tl.load(gc_ptr + b * gc_sb + j * gc_sh, mask=live, other=0.0)
    i = tl.load(gates_ptr + row, mask=live, other=0.0)
    f = tl.load(gates_ptr + row + H, mask=live, other=0.0)
    g = tl.load(gates_ptr + row + 2 * H, mask=live, other=0.0)
    o = tl.load(gates_ptr + row + 3 * H, mask=live, other=0.0)
    c_prev = tl.load(c_prev_ptr + n, mask=live, other=0.0)
    c = tl.load(c_ptr + n, mask=live, other=0.0)
    p_i = tl.load(peep_ptr + j, mask=live, other=0.0)
    p_f = tl.load(peep_ptr + H + j, mask=live, other=0.0)
    p_o = tl.load(peep_ptr + 2 * H + j, mask=live, other=0.0)

    zero = tl.zeros_like(dh)
    held_h, held_c = zero, zero
    if HAS_MASK:  # past the length the state was held: its gradient passes straight to step t-1
        valid = tl.load(mask_ptr + b, mask=live, other=0) != 0
        held_h, held_c = tl.where(valid, zero, dh), tl.where(valid, zero, dc)
        dh, dc = tl.where(valid, dh, zero), tl.where(valid, dc, zero)

    tanh_c = _tanh(c)
    da_o = dh * tanh_c * o * (1.0 - o)
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c) + p_o * da_o
    da_i = dc * g * i * (1.0 - i)
    da_f = dc * c_prev * f * (1.0 - f)
    da_g = dc * i * (1.0 - g * g)
    dc_prev = dc * f + p_i * da_i + p_f * da_f

    tl.store(d_pre_ptr + row, da_i, mask=live)
    tl.store(d_pre_ptr + row + H, da_f, mask=live)
    tl.store(d_pre_ptr + row + 2 * H, da_g, mask=live)
    tl.store(d_pre_ptr + row + 3 * H, da_o, mask=live)
    tl.store(dc_ptr + n, dc_prev + held_c, mask=live)
    tl.store(dh_ptr + n, held_h, mask=live)


@triton.jit
def _gru_forward_step(
    xproj_ptr,  # (B, 3H) W_ih x_t + b_ih
    gh_ptr,  # (B, 3H) W_hh h_{t-1} + b_hh
    h_prev_ptr, mask_ptr,
    gates_ptr,  # (B, 3H) out: r, z, n
    ghn_ptr, h_ptr,  # (B, H) out: gh_n (kept for the backward), h_t
    N, H,
    HAS_MASK: tl.constexpr, BLOCK: tl.constexpr,
):
    n_ = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = n_ < N
    b, j = n_ // H, n_ % H
    row = b * 3 * H + j
    gh_n = tl.load(gh_ptr + row + 2 * H, mask=live, other=0.0)
    r = _sigmoid(tl.load(xproj_ptr + row, mask=live, other=0.0) + tl.load(gh_ptr + row, mask=live, other=0.0))
    z = _sigmoid(tl.load(xproj_ptr + row + H, mask=live, other=0.0) + tl.load(gh_ptr + row + H, mask=live, other=0.0))
    n = _tanh(tl.load(xproj_ptr + row + 2 * H, mask=live, other=0.0) + r * gh_n)
    h_prev = tl.load(h_prev_ptr + n_, mask=live, other=0.0)
    h = n + z * (h_prev - n)
    if HAS_MASK:
        valid = tl.load(mask_ptr + b, mask=live, other=0) != 0
        h = tl.where(valid, h, h_prev)
    tl.store(gates_ptr + row, r, mask=live)
    tl.store(gates_ptr + row + H, z, mask=live)
    tl.store(gates_ptr + row + 2 * H, n, mask=live)
    tl.store(ghn_ptr + n_, gh_n, mask=live)
    tl.store(h_ptr + n_, h, mask=live)


@triton.jit
def _gru_backward_step(
    dh_ptr,  # (B, H) in: gradient reaching h_t from step t+1; out: dh ⊙ z (+ the held part past the length)
    gh_ptr, gh_sb, gh_sh,  # grad_hs[t], any strides
    gates_ptr, h_prev_ptr, ghn_ptr, mask_ptr,
    d_x_ptr, d_gh_ptr,  # (B, 3H) out: gradients of xproj_t and of gh = W_hh h_{t-1} + b_hh
    N, H,
    HAS_MASK: tl.constexpr, BLOCK: tl.constexpr,
):
    n_ = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = n_ < N
    b, j = n_ // H, n_ % H
    row = b * 3 * H + j
    dh = tl.load(dh_ptr + n_, mask=live, other=0.0) + tl.load(gh_ptr + b * gh_sb + j * gh_sh, mask=live, other=0.0)
    r = tl.load(gates_ptr + row, mask=live, other=0.0)
    z = tl.load(gates_ptr + row + H, mask=live, other=0.0)
    n = tl.load(gates_ptr + row + 2 * H, mask=live, other=0.0)
    h_prev = tl.load(h_prev_ptr + n_, mask=live, other=0.0)
    gh_n = tl.load(ghn_ptr + n_, mask=live, other=0.0)

    zero = tl.zeros_like(dh)
    held = zero
    if HAS_MASK:
        valid = tl.load(mask_ptr + b, mask=live, other=0) != 0
        held = tl.where(valid, zero, dh)
        dh = tl.where(valid, dh, zero)

    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    da_r = da_n * gh_n * r * (1.0 - r)
    tl.store(d_x_ptr + row, da_r, mask=live)
    tl.store(d_x_ptr + row + H, da_z, mask=live)
    tl.store(d_x_ptr + row + 2 * H, da_n, mask=live)
    tl.store(d_gh_ptr + row, da_r, mask=live)
    tl.store(d_gh_ptr + row + H, da_z, mask=live)
    tl.store(d_gh_ptr + row + 2 * H, da_n * r, mask=live)
    tl.store(dh_ptr + n_, dh * z + held, mask=live)


# ----------------------------------------------------------------------------------------------------------------
def _launch(kernel, numel: int, *args, mask: Tensor | None) -> None:
    block = min(MAX_BLOCK, triton.next_power_of_2(numel))
    kernel[(triton.cdiv(numel, block),)](*args, HAS_MASK=mask is not None, BLOCK=block)


def _mask_column(mask: Tensor | None, t: int, fallback: Tensor) -> Tensor:
    return fallback if mask is None else mask[t]  # (B, 1) bool, contiguous: element b at offset b


def peephole_forward(xproj: Tensor, w_hh: Tensor, peep: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None):
    """As ``torch.ops.rnnzoo.peephole_forward``: returns hs, cs (T, B, H) and the activated gates (T, B, 4H)."""
    seq_len, batch, four_h = xproj.shape
    hidden = four_h // 4
    mask = None if mask is None else mask.contiguous()
    gates = torch.empty_like(xproj)  # (T, B, 4H)
    hs = xproj.new_empty(seq_len, batch, hidden)  # (T, B, H)
    cs = torch.empty_like(hs)  # (T, B, H)
    w_t = w_hh.t()  # (H, 4H)
    h, c = h0, c0  # (B, H)
    for t in range(seq_len):
        torch.addmm(xproj[t], h, w_t, out=gates[t])  # (B, 4H) pre-activations
        _launch(_peephole_forward_step, batch * hidden, gates[t], c, h, peep, _mask_column(mask, t, h),
                cs[t], hs[t], batch * hidden, hidden, mask=mask)
        h, c = hs[t], cs[t]
    return hs, cs, gates


def peephole_backward(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, hs, cs, gates):
    """As ``torch.ops.rnnzoo.peephole_backward``: gradients of xproj, w_hh, peep, h0, c0."""
    seq_len, batch, four_h = gates.shape
    hidden = four_h // 4
    mask = None if mask is None else mask.contiguous()
    d_pre = torch.empty_like(gates)  # (T, B, 4H)
    dh = torch.zeros_like(h0)  # (B, H)
    dc = torch.zeros_like(c0)  # (B, H)
    for t in range(seq_len - 1, -1, -1):
        c_prev = cs[t - 1] if t else c0
        gh, gc = grad_hs[t], grad_cs[t]
        _launch(_peephole_backward_step, batch * hidden, dh, gh, gh.stride(0), gh.stride(1), dc, gc, gc.stride(0),
                gc.stride(1), gates[t], c_prev, cs[t], peep, _mask_column(mask, t, dh), d_pre[t],
                batch * hidden, hidden, mask=mask)
        dh.addmm_(d_pre[t], w_hh)  # (B, H) = held + d_pre[t] W_hh
    c_prev = torch.cat([c0.unsqueeze(0), cs[:-1]])  # (T, B, H)
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])  # (T, B, H)
    grad_w_hh = d_pre.view(-1, four_h).t() @ h_prev.reshape(-1, hidden)  # (4H, H)
    d_i, d_f, _, d_o = d_pre.chunk(4, dim=-1)
    grad_peep = torch.cat([(d_i * c_prev).sum((0, 1)), (d_f * c_prev).sum((0, 1)), (d_o * cs).sum((0, 1))])
    return d_pre, grad_w_hh, grad_peep, dh, dc


def gru_forward(xproj: Tensor, w_hh: Tensor, b_hh: Tensor, h0: Tensor, mask: Tensor | None):
    """As ``torch.ops.rnnzoo.gru_forward``: returns hs (T, B, H), gates (T, B, 3H: r, z, n), gh_n (T, B, H)."""
    seq_len, batch, three_h = xproj.shape
    hidden = three_h // 3
    mask = None if mask is None else mask.contiguous()
    gates = torch.empty_like(xproj)  # (T, B, 3H)
    hs = xproj.new_empty(seq_len, batch, hidden)  # (T, B, H)
    ghn = torch.empty_like(hs)  # (T, B, H)
    gh = xproj.new_empty(batch, three_h)  # (B, 3H), reused every step
    w_t = w_hh.t()  # (H, 3H)
    h = h0
    for t in range(seq_len):
        torch.addmm(b_hh, h, w_t, out=gh)
        _launch(_gru_forward_step, batch * hidden, xproj[t], gh, h, _mask_column(mask, t, h), gates[t], ghn[t],
                hs[t], batch * hidden, hidden, mask=mask)
        h = hs[t]
    return hs, gates, ghn


def gru_backward(grad_hs, w_hh, b_hh, h0, mask, hs, gates, ghn):
    """As ``torch.ops.rnnzoo.gru_backward``: gradients of xproj, w_hh, b_hh, h0."""
    seq_len, batch, three_h = gates.shape
    hidden = three_h // 3
    mask = None if mask is None else mask.contiguous()
    d_x = torch.empty_like(gates)  # (T, B, 3H)
    d_gh = torch.empty_like(gates)  # (T, B, 3H)
    dh = torch.zeros_like(h0)  # (B, H)
    for t in range(seq_len - 1, -1, -1):
        h_prev = hs[t - 1] if t else h0
        g = grad_hs[t]
        _launch(_gru_backward_step, batch * hidden, dh, g, g.stride(0), g.stride(1), gates[t], h_prev, ghn[t],
                _mask_column(mask, t, dh), d_x[t], d_gh[t], batch * hidden, hidden, mask=mask)
        dh.addmm_(d_gh[t], w_hh)  # (B, H) = dh ⊙ z (+ held) + d_gh[t] W_hh
    flat = d_gh.view(-1, three_h)  # (T*B, 3H)
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])  # (T, B, H)
    grad_w_hh = flat.t() @ h_prev.reshape(-1, hidden)  # (3H, H)
    grad_b_hh = flat.sum(0).view(b_hh.shape)  # (3H,)
    return d_x, grad_w_hh, grad_b_hh, dh
