"""The C++ time loops (rnnzoo._C: torch.ops.rnnzoo.peephole_forward / peephole_backward) against the Python
reference loops in rnnzoo/nn/peephole_scan.py, plus gradcheck through PeepholeScan with the native path on."""

from __future__ import annotations

import os

import pytest
import torch

from tests.support.native_isa import isa_variants, run_under_isa
from rnnzoo.nn import native
from rnnzoo.nn.peephole_scan import PeepholeScan, backward_loop, forward_loop

needs_native = pytest.mark.skipif(not native.AVAILABLE, reason="rnnzoo._C is not built")

# float64: both sides compute the same formulas in double (libm / Sleef exp, MKL vs ATen GEMM summation order),
# observed differences are ~1e-15, so 1e-12 catches any real error.
F64_TOL = dict(atol=1e-12, rtol=0.0)
# float32: the C++ float kernels use their own exp/tanh (Cephes polynomials, ~1-2 ulp) where torch uses Sleef,
# and the per-step GEMM (MKL packed) sums in another order than torch.addmm; these ~1e-7 relative differences
# are carried through the recurrence for T steps and through the backward, giving up to ~1e-6 absolute on
# O(1..10) values (observed). 2e-5 leaves margin but is far below what a wrong formula, gate or index gives.
F32_TOL = dict(atol=2e-5, rtol=2e-5)

SHAPES = [  # (T, B, H): B = 1, H not a multiple of any vector width, and a full-size-ish case
    (1, 1, 5),
    (7, 1, 5),
    (9, 3, 13),
    (6, 5, 16),
    (12, 17, 37),
    (15, 64, 128),
]


@pytest.fixture(autouse=True)
def _native_on(monkeypatch):
    monkeypatch.delenv("RNNZOO_DISABLE_NATIVE", raising=False)


def make_case(T, B, H, dtype, masked, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, s=1.0):
        return torch.randn(*shape, generator=g, dtype=dtype) * s

    xproj = r(T, B, 4 * H, s=scale)
    w_hh = r(4 * H, H, s=1.5 / H**0.5)
    peep = r(3 * H, s=0.5)
    h0, c0 = r(B, H), r(B, H)
    mask = None
    if masked:
        lengths = torch.randint(1, T + 1, (B,), generator=g)
        lengths[0] = T  # one full-length sequence ...
        lengths[-1] = min(lengths[-1].item(), max(1, T // 2))  # ... and (for B > 1) one that ends early
        mask = (torch.arange(T)[:, None] < lengths[None, :]).unsqueeze(-1)
    return xproj, w_hh, peep, h0, c0, mask


def assert_close(actual, expected, dtype, what):
    tol = F64_TOL if dtype == torch.float64 else F32_TOL
    for name, a, e in zip(what, actual, expected):
        assert a.shape == e.shape, name
        assert a.dtype == e.dtype, name
        torch.testing.assert_close(a, e, **tol, msg=lambda m, n=name: f"{n}: {m}")


@needs_native
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_native_matches_reference(shape, masked, dtype):
    T, B, H = shape
    xproj, w_hh, peep, h0, c0, mask = make_case(T, B, H, dtype, masked, seed=T * 1000 + B * 10 + H)
    ops = torch.ops.rnnzoo
    with torch.no_grad():
        ref = forward_loop(xproj, w_hh, peep, h0, c0, mask)
        out = ops.peephole_forward(xproj, w_hh, peep, h0, c0, mask)
        assert_close(out, ref, dtype, ["hs", "cs", "gates"])
        g = torch.Generator().manual_seed(1)
        grad_hs = torch.randn(T, B, H, generator=g, dtype=dtype)
        grad_cs = torch.randn(T, B, H, generator=g, dtype=dtype)
        # Both backwards get the reference forward's outputs, so only the backward is compared.
        ref_grads = backward_loop(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, *ref)
        grads = ops.peephole_backward(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, *ref)
        assert_close(grads, ref_grads, dtype, ["d_xproj", "grad_w_hh", "grad_peep", "grad_h0", "grad_c0"])
    if masked:
        # Past its length a sequence holds its state: the last step is the state at its own length.
        lengths = mask.squeeze(-1).sum(0)
        b = B - 1
        torch.testing.assert_close(out[0][-1, b], out[0][lengths[b] - 1, b], atol=0, rtol=0)
        torch.testing.assert_close(out[1][-1, b], out[1][lengths[b] - 1, b], atol=0, rtol=0)
        assert (grads[0][lengths[b]:, b] == 0).all()  # no gate gradient past the length


@needs_native
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_native_strided_and_broadcast_grads(dtype):
    """Gradients may arrive expanded (from .sum(), or a missing gradient as a broadcast zero) or transposed."""
    T, B, H = 5, 4, 13
    xproj, w_hh, peep, h0, c0, mask = make_case(T, B, H, dtype, masked=True, seed=7)
    ops = torch.ops.rnnzoo
    with torch.no_grad():
        fwd = forward_loop(xproj, w_hh, peep, h0, c0, mask)
        grad_hs = torch.full((), 0.5, dtype=dtype).expand(T, B, H)
        grad_cs = torch.randn(B, T, H, dtype=dtype, generator=torch.Generator().manual_seed(3)).transpose(0, 1)
        for gh, gc in [(grad_hs, grad_cs), (grad_hs, torch.zeros((), dtype=dtype).expand(T, B, H))]:
            ref = backward_loop(gh.contiguous(), gc.contiguous(), w_hh, peep, h0, c0, mask, *fwd)
            got = ops.peephole_backward(gh, gc, w_hh, peep, h0, c0, mask, *fwd)
            assert_close(got, ref, dtype, ["d_xproj", "grad_w_hh", "grad_peep", "grad_h0", "grad_c0"])


@needs_native
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_native_saturation_is_stable(dtype):
    """Huge pre-activations saturate σ and tanh: no NaN or inf, and the reference's values."""
    T, B, H = 6, 3, 21
    xproj, w_hh, peep, h0, c0, mask = make_case(T, B, H, dtype, masked=False, seed=11, scale=1e4)
    xproj[0, 0, :5] = torch.tensor([float("inf"), -float("inf"), 1e30, -1e30, 0.0], dtype=dtype)
    with torch.no_grad():
        out = torch.ops.rnnzoo.peephole_forward(xproj, w_hh, peep, h0, c0, mask)
        ref = forward_loop(xproj, w_hh, peep, h0, c0, mask)
    for t in out:
        assert torch.isfinite(t).all()
    assert_close(out, ref, dtype, ["hs", "cs", "gates"])


@needs_native
@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_native(masked):
    T, B, H = 4, 3, 5
    xproj, w_hh, peep, h0, c0, mask = make_case(T, B, H, torch.float64, masked, seed=5)
    assert native.native_ops(xproj) is not None
    inputs = [t.clone().requires_grad_() for t in (xproj, w_hh, peep, h0, c0)]

    def fn(*args):
        hs, cs, _gates = PeepholeScan.apply(*args, mask)
        return hs, cs

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


@needs_native
def test_autograd_function_takes_native_path():
    """PeepholeScan (as the modules call it) returns the C++ op's results bit for bit, forward and backward."""
    T, B, H = 8, 4, 13
    xproj, w_hh, peep, h0, c0, mask = make_case(T, B, H, torch.float32, masked=True, seed=9)
    leaves = [t.clone().requires_grad_() for t in (xproj, w_hh, peep, h0, c0)]
    hs, cs, gates = PeepholeScan.apply(*leaves, mask)
    assert not gates.requires_grad
    (hs.sum() + (cs * 0.5).sum()).backward()
    with torch.no_grad():
        out = torch.ops.rnnzoo.peephole_forward(xproj, w_hh, peep, h0, c0, mask)
        grads = torch.ops.rnnzoo.peephole_backward(
            torch.ones(T, B, H), torch.full((T, B, H), 0.5), w_hh, peep, h0, c0, mask, *out
        )
    for a, e in zip((hs, cs, gates), out):
        assert torch.equal(a.detach(), e)
    for leaf, e in zip(leaves, grads):
        assert torch.equal(leaf.grad, e)


@needs_native
def test_native_rejects_bad_inputs():
    xproj, w_hh, peep, h0, c0, _ = make_case(3, 2, 5, torch.float32, masked=False)
    with pytest.raises(RuntimeError):
        torch.ops.rnnzoo.peephole_forward(xproj, w_hh.double(), peep, h0, c0, None)
    with pytest.raises(RuntimeError):
        torch.ops.rnnzoo.peephole_forward(xproj, w_hh[:, :4], peep, h0, c0, None)


_ISA_SCRIPT = """
import torch
from rnnzoo.nn.peephole_scan import forward_loop, backward_loop
import rnnzoo._C
torch.manual_seed(0)
T, B, H = 7, 5, 37
xproj, w, peep, h0, c0 = torch.randn(T, B, 4 * H), torch.randn(4 * H, H) / H**0.5, torch.randn(3 * H), \\
    torch.randn(B, H), torch.randn(B, H)
mask = (torch.arange(T)[:, None] < torch.tensor([7, 3, 1, 6, 7])[None, :]).unsqueeze(-1)
gh, gc = torch.randn(T, B, H), torch.randn(T, B, H)
ref = forward_loop(xproj, w, peep, h0, c0, mask)
out = torch.ops.rnnzoo.peephole_forward(xproj, w, peep, h0, c0, mask)
for a, e in zip(out, ref):
    torch.testing.assert_close(a, e, atol=2e-5, rtol=2e-5)
for a, e in zip(torch.ops.rnnzoo.peephole_backward(gh, gc, w, peep, h0, c0, mask, *ref),
                backward_loop(gh, gc, w, peep, h0, c0, mask, *ref)):
    torch.testing.assert_close(a, e, atol=2e-5, rtol=2e-5)
print("ok")
"""


@needs_native
@isa_variants
def test_native_isa_variants(extra_env):
    """The float kernels exist per instruction set (runtime dispatch); check the ones this process did not pick.
    ATEN_CPU_CAPABILITY caps the choice, as it does for PyTorch's own kernels; RNNZOO_NO_PACKED_GEMM=1 makes the
    float per-step matmuls take the ATen path instead of MKL's packed GEMM."""
    run_under_isa(_ISA_SCRIPT, extra_env)


@pytest.mark.skipif(
    os.environ.get("RNNZOO_ALLOW_NO_NATIVE") == "1", reason="RNNZOO_ALLOW_NO_NATIVE=1: the Python loops may run"
)
def test_native_extension_is_built():
    """The C++ loops must be in use on the CPU (pip install -e . --no-build-isolation builds them)."""
    assert native.AVAILABLE, "rnnzoo._C did not import: the peephole LSTM falls back to its Python loops"
    assert native.native_ops(torch.zeros(1)) is torch.ops.rnnzoo
    assert native.native_ops(torch.zeros(1, dtype=torch.float64)) is torch.ops.rnnzoo
    assert hasattr(torch.ops.rnnzoo, "peephole_forward") and hasattr(torch.ops.rnnzoo, "peephole_backward")
