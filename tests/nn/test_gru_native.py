"""The GRU's C++ time loops (rnnzoo._C: torch.ops.rnnzoo.gru_forward / gru_backward) against the Python reference
loops in rnnzoo/nn/gru_scan.py, gradcheck through GRUScan on both paths, and the GRU module on the scan."""

from __future__ import annotations

import os

import pytest
import torch

from tests.support.native_isa import isa_variants, run_under_isa
from rnnzoo import nn as rnn
from rnnzoo.nn import native
from rnnzoo.nn.gru_scan import GRUScan, backward_loop, forward_loop

needs_native = pytest.mark.skipif(not native.AVAILABLE, reason="rnnzoo._C is not built")

# float64: both sides compute the same formulas in double (libm vs Sleef tanh/exp, MKL vs ATen GEMM summation
# order, the bias added before or after the matmul); observed differences are ~1e-15, so 1e-12 catches any error.
F64_TOL = dict(atol=1e-12, rtol=0.0)
# float32: the C++ float kernels use their own exp/tanh (Cephes polynomials, ~1-2 ulp) where torch uses Sleef,
# and the per-step GEMM (MKL packed) sums in another order than torch.addmm; these ~1e-7 relative differences
# are carried through the recurrence for T steps and through the backward (the weight gradient sums T*B
# products), giving up to ~1e-6 absolute on O(1..10) values. 2e-5 leaves margin yet is far below what a wrong
# formula, gate or index gives (O(1e-2) or more). Same tolerance as tests/nn/test_peephole_native.py.
F32_TOL = dict(atol=2e-5, rtol=2e-5)

SHAPES = [  # (T, B, H): B = 1, odd H (not a multiple of any vector width), and a full-size-ish case
    (1, 1, 5),
    (7, 1, 5),
    (9, 3, 13),
    (6, 5, 16),
    (12, 17, 37),
    (15, 64, 128),
]
OUT_NAMES = ["hs", "gates", "ghn"]
GRAD_NAMES = ["d_xproj", "grad_w_hh", "grad_b_hh", "grad_h0"]


@pytest.fixture(autouse=True)
def _native_on(monkeypatch):
    monkeypatch.delenv("RNNZOO_DISABLE_NATIVE", raising=False)


def make_case(T, B, H, dtype, masked, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, s=1.0):
        return torch.randn(*shape, generator=g, dtype=dtype) * s

    xproj = r(T, B, 3 * H, s=scale)
    w_hh = r(3 * H, H, s=1.5 / H**0.5)
    b_hh = r(3 * H, s=0.5)
    h0 = r(B, H)
    mask = None
    if masked:
        lengths = torch.randint(1, T + 1, (B,), generator=g)
        lengths[0] = T  # one full-length sequence ...
        lengths[-1] = min(lengths[-1].item(), max(1, T // 2))  # ... and (for B > 1) one that ends early
        mask = (torch.arange(T)[:, None] < lengths[None, :]).unsqueeze(-1)
    return xproj, w_hh, b_hh, h0, mask


def assert_close(actual, expected, dtype, what):
    tol = F64_TOL if dtype == torch.float64 else F32_TOL
    assert len(actual) == len(expected) == len(what)
    for name, a, e in zip(what, actual, expected):
        assert a.shape == e.shape, name
        assert a.dtype == e.dtype, name
        torch.testing.assert_close(a, e, **tol, msg=lambda m, n=name: f"{n}: {m}")


def test_reference_loops_match_torch_gru_cell():
    """The Python reference forward is torch.nn.GRUCell's recurrence (so the C++ one, tested against it, is too)."""
    T, B, I, H = 6, 3, 4, 5
    cell = torch.nn.GRUCell(I, H, dtype=torch.float64)
    x = torch.randn(T, B, I, dtype=torch.float64)
    h0 = torch.randn(B, H, dtype=torch.float64)
    xproj = torch.nn.functional.linear(x, cell.weight_ih, cell.bias_ih)
    with torch.no_grad():
        hs, gates, _ = forward_loop(xproj, cell.weight_hh, cell.bias_hh, h0, None)
        h, expected = h0, []
        for t in range(T):
            h = cell(x[t], h)
            expected.append(h)
    torch.testing.assert_close(hs, torch.stack(expected), atol=1e-12, rtol=0)
    rz, n = gates[..., : 2 * H], gates[..., 2 * H :]
    assert ((rz > 0) & (rz < 1)).all() and (n.abs() < 1).all()


@needs_native
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_native_matches_reference(shape, masked, dtype):
    T, B, H = shape
    xproj, w_hh, b_hh, h0, mask = make_case(T, B, H, dtype, masked, seed=T * 1000 + B * 10 + H)
    ops = torch.ops.rnnzoo
    with torch.no_grad():
        ref = forward_loop(xproj, w_hh, b_hh, h0, mask)
        out = ops.gru_forward(xproj, w_hh, b_hh, h0, mask)
        assert_close(out, ref, dtype, OUT_NAMES)
        grad_hs = torch.randn(T, B, H, generator=torch.Generator().manual_seed(1), dtype=dtype)
        # Both backwards get the reference forward's outputs, so only the backward is compared.
        ref_grads = backward_loop(grad_hs, w_hh, b_hh, h0, mask, *ref)
        grads = ops.gru_backward(grad_hs, w_hh, b_hh, h0, mask, *ref)
        assert_close(grads, ref_grads, dtype, GRAD_NAMES)
    if masked:
        # Past its length a sequence holds its state: the last step is the state at its own length.
        lengths = mask.squeeze(-1).sum(0)
        b = B - 1
        torch.testing.assert_close(out[0][-1, b], out[0][lengths[b] - 1, b], atol=0, rtol=0)
        assert (grads[0][lengths[b]:, b] == 0).all()  # no gate gradient past the length


@needs_native
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_native_strided_and_broadcast_grads(dtype):
    """grad_hs may arrive expanded (from .sum(), or a missing gradient as a broadcast zero) or transposed."""
    T, B, H = 5, 4, 13
    xproj, w_hh, b_hh, h0, mask = make_case(T, B, H, dtype, masked=True, seed=7)
    with torch.no_grad():
        fwd = forward_loop(xproj, w_hh, b_hh, h0, mask)
        transposed = torch.randn(B, T, H, dtype=dtype, generator=torch.Generator().manual_seed(3)).transpose(0, 1)
        for gh in [torch.full((), 0.5, dtype=dtype).expand(T, B, H), transposed,
                   torch.zeros((), dtype=dtype).expand(T, B, H)]:
            ref = backward_loop(gh.contiguous(), w_hh, b_hh, h0, mask, *fwd)
            got = torch.ops.rnnzoo.gru_backward(gh, w_hh, b_hh, h0, mask, *fwd)
            assert_close(got, ref, dtype, GRAD_NAMES)


@needs_native
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_native_saturation_is_stable(dtype):
    """Huge pre-activations saturate σ and tanh: no NaN or inf, and the reference's values."""
    T, B, H = 6, 3, 21
    xproj, w_hh, b_hh, h0, mask = make_case(T, B, H, dtype, masked=False, seed=11, scale=1e4)
    xproj[0, 0, :5] = torch.tensor([float("inf"), -float("inf"), 1e30, -1e30, 0.0], dtype=dtype)
    with torch.no_grad():
        out = torch.ops.rnnzoo.gru_forward(xproj, w_hh, b_hh, h0, mask)
        ref = forward_loop(xproj, w_hh, b_hh, h0, mask)
    for t in out:
        assert torch.isfinite(t).all()
    assert_close(out, ref, dtype, OUT_NAMES)


@pytest.mark.parametrize("impl", ["native", "python"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("H", [5, 13])
def test_gradcheck(impl, masked, H, monkeypatch):
    if impl == "native" and not native.AVAILABLE:
        pytest.skip("rnnzoo._C is not built")
    if impl == "python":
        monkeypatch.setenv("RNNZOO_DISABLE_NATIVE", "1")
    T, B = 4, 3
    xproj, w_hh, b_hh, h0, mask = make_case(T, B, H, torch.float64, masked, seed=5 + H)
    assert (native.native_ops(xproj) is not None) == (impl == "native")
    inputs = [t.clone().requires_grad_() for t in (xproj, w_hh, b_hh, h0)]

    def fn(*args):
        hs, _gates, _ghn = GRUScan.apply(*args, mask)
        return hs

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


@needs_native
def test_autograd_function_takes_native_path():
    """GRUScan (as the module calls it) returns the C++ op's results bit for bit, forward and backward."""
    T, B, H = 8, 4, 13
    xproj, w_hh, b_hh, h0, mask = make_case(T, B, H, torch.float32, masked=True, seed=9)
    leaves = [t.clone().requires_grad_() for t in (xproj, w_hh, b_hh, h0)]
    hs, gates, ghn = GRUScan.apply(*leaves, mask)
    assert not gates.requires_grad and not ghn.requires_grad
    (hs * 0.5).sum().backward()
    with torch.no_grad():
        out = torch.ops.rnnzoo.gru_forward(xproj, w_hh, b_hh, h0, mask)
        grads = torch.ops.rnnzoo.gru_backward(torch.full((T, B, H), 0.5), w_hh, b_hh, h0, mask, *out)
    for a, e in zip((hs, gates, ghn), out):
        assert torch.equal(a.detach(), e)
    for leaf, e in zip(leaves, grads):
        assert torch.equal(leaf.grad, e)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lengths", [None, [7, 3, 1, 5]])
def test_module_gates_match_torch_on_both_paths(bias, lengths, monkeypatch):
    """rnnzoo.nn.GRU with return_gates (C++ scan, then Python loops) against torch.nn.GRU, with gradients."""
    torch.manual_seed(0)
    ref = torch.nn.GRU(6, 13, num_layers=2, bidirectional=True, bias=bias, dtype=torch.float64)
    layer = rnn.GRU(6, 13, num_layers=2, bidirectional=True, bias=bias, dtype=torch.float64)
    layer.load_state_dict(ref.state_dict())
    x = torch.randn(7, 4, 6, dtype=torch.float64)
    if lengths is None:
        expected, h_ref = ref(x)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
        out_packed, h_ref = ref(packed)
        expected, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, total_length=7)
    (expected.sum() + h_ref.pow(2).sum()).backward()
    for impl in ["native", "python"]:
        if impl == "python":
            monkeypatch.setenv("RNNZOO_DISABLE_NATIVE", "1")
        layer.zero_grad()
        out, h_n, gates = layer(x, lengths=lengths, return_gates=True)
        (out.sum() + h_n.pow(2).sum()).backward()
        torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
        torch.testing.assert_close(h_n, h_ref, atol=1e-12, rtol=0)
        for (name, p), p_ref in zip(layer.named_parameters(), ref.parameters()):
            torch.testing.assert_close(p.grad, p_ref.grad, atol=1e-10, rtol=0, msg=lambda m, n=name: f"{n}: {m}")
        assert set(gates) == {"reset", "update", "candidate", "h"}


@needs_native
def test_native_rejects_bad_inputs():
    xproj, w_hh, b_hh, h0, _ = make_case(3, 2, 5, torch.float32, masked=False)
    with pytest.raises(RuntimeError):
        torch.ops.rnnzoo.gru_forward(xproj, w_hh.double(), b_hh, h0, None)
    with pytest.raises(RuntimeError):
        torch.ops.rnnzoo.gru_forward(xproj, w_hh[:, :4], b_hh, h0, None)
    with pytest.raises(RuntimeError):
        torch.ops.rnnzoo.gru_forward(xproj, w_hh, b_hh[:-1], h0, None)


_ISA_SCRIPT = """
import torch
from rnnzoo.nn.gru_scan import forward_loop, backward_loop
import rnnzoo._C
torch.manual_seed(0)
T, B, H = 7, 5, 37
xproj, w, b, h0 = torch.randn(T, B, 3 * H), torch.randn(3 * H, H) / H**0.5, torch.randn(3 * H), torch.randn(B, H)
mask = (torch.arange(T)[:, None] < torch.tensor([7, 3, 1, 6, 7])[None, :]).unsqueeze(-1)
gh = torch.randn(T, B, H)
ref = forward_loop(xproj, w, b, h0, mask)
out = torch.ops.rnnzoo.gru_forward(xproj, w, b, h0, mask)
for a, e in zip(out, ref):
    torch.testing.assert_close(a, e, atol=2e-5, rtol=2e-5)
for a, e in zip(torch.ops.rnnzoo.gru_backward(gh, w, b, h0, mask, *ref), backward_loop(gh, w, b, h0, mask, *ref)):
    torch.testing.assert_close(a, e, atol=2e-5, rtol=2e-5)
print("ok")
"""


@needs_native
@isa_variants
def test_native_isa_variants(extra_env):
    """The float kernels exist per instruction set (runtime dispatch); check the ones this process did not pick."""
    run_under_isa(_ISA_SCRIPT, extra_env)


@pytest.mark.skipif(
    os.environ.get("RNNZOO_ALLOW_NO_NATIVE") == "1", reason="RNNZOO_ALLOW_NO_NATIVE=1: the Python loops may run"
)
def test_native_gru_ops_registered():
    assert native.AVAILABLE, "rnnzoo._C did not import: the GRU falls back to its Python loops"
    assert hasattr(torch.ops.rnnzoo, "gru_forward") and hasattr(torch.ops.rnnzoo, "gru_backward")


@needs_native
def test_native_float32_as_accurate_as_reference_on_long_sequences():
    """Over T=100 steps float32 rounding differences grow past a fixed tolerance on the gradients (they sum T*B
    products), so compare both float32 paths against the float64 reference instead: the C++ loops must be about
    as accurate as the Python float32 loops (observed: within a few percent of each other)."""
    T, B, H = 100, 16, 64
    args64 = make_case(T, B, H, torch.float64, masked=True, seed=21)
    mask = args64[-1]
    grad64 = torch.randn(T, B, H, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        ref = forward_loop(*args64)
        ref_grads = backward_loop(grad64, *args64[1:], *ref)
        args32 = [t.float() for t in args64[:-1]]
        grad32 = grad64.float()
        saved32 = [t.float() for t in ref]
        py = [*forward_loop(*args32, mask), *backward_loop(grad32, *args32[1:], mask, *saved32)]
        cpp = [*torch.ops.rnnzoo.gru_forward(*args32, mask),
               *torch.ops.rnnzoo.gru_backward(grad32, *args32[1:], mask, *saved32)]
    for name, exact, p, c in zip(OUT_NAMES + GRAD_NAMES, [*ref, *ref_grads], py, cpp):
        err_py = (p.double() - exact).abs().max().item()
        err_cpp = (c.double() - exact).abs().max().item()
        scale = exact.abs().max().item()
        assert err_cpp <= 2 * err_py + 1e-6 * scale, f"{name}: C++ {err_cpp:.2e} vs Python {err_py:.2e}"
