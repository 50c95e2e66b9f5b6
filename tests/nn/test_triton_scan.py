"""The Triton time loops (rnnzoo/nn/triton_scan.py) against the Python reference loops (peephole_scan.py,
gru_scan.py): outputs, states and every gradient, with lengths, through the layers bidirectionally.

On a CUDA machine the kernel tests run on the GPU. Without one they run on CPU tensors under Triton's interpreter,
which must be switched on (``TRITON_INTERPRET=1``) before triton is first imported: so in this process they skip,
and ``test_under_triton_interpreter`` runs this file again in a subprocess with the variable set. Nothing leaks
into other tests (torch.compile's inductor also imports triton). Sizes are tiny: the interpreter runs each kernel
launch through numpy, ~1 ms each.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
import torch

from rnnzoo import nn as rnn
from rnnzoo.nn import gru_scan, native, peephole_scan

TRITON_INSTALLED = importlib.util.find_spec("triton") is not None
INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
CUDA = torch.cuda.is_available()
DEVICE = "cuda" if CUDA else "cpu"

needs_triton = pytest.mark.skipif(
    not TRITON_INSTALLED, reason="triton is not installed (pip install triton; Linux only)"
)
runs_kernels = pytest.mark.skipif(
    not TRITON_INSTALLED or not (CUDA or INTERPRETED),
    reason="Triton kernels need CUDA or TRITON_INTERPRET=1 from process start: test_under_triton_interpreter runs "
    "them in a subprocess" if TRITON_INSTALLED else "triton is not installed (pip install triton; Linux only)",
)

# float64: both sides evaluate the same formulas in double (numpy's exp here or libdevice's on a GPU vs torch's
# tanh/sigmoid; the matmuls are the same torch.addmm): observed differences ~5e-16, so 1e-12 catches any error.
F64_TOL = dict(atol=1e-12, rtol=0.0)
# float32: σ and tanh are written with exp (tanh as (1 - e)/(1 + e), e = exp(-2|x|): within a few ulp of torch's
# Sleef versions; GPU tl.exp is ex2.approx, ~2 ulp), and the backward groups products differently from the
# reference; ~1e-7 relative differences carried through T steps gave up to 5e-7 absolute here. 2e-5, as for the
# C++ kernels (tests/nn/test_peephole_native.py), is far below what a wrong gate, index or mask gives (>1e-2).
F32_TOL = dict(atol=2e-5, rtol=2e-5)
TOL = {torch.float64: F64_TOL, torch.float32: F32_TOL}
SHAPES = [(1, 1, 5), (5, 3, 4), (4, 2, 7)]  # (T, B, H): one step and one sequence; H not a power of two


@pytest.fixture
def triton_forced(monkeypatch):
    """Route the scans to Triton (on CPU tensors too: we are under the interpreter)."""
    monkeypatch.setenv("RNNZOO_TRITON", "1")
    monkeypatch.delenv("RNNZOO_DISABLE_TRITON", raising=False)


def make_mask(T, B, g):
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T  # one full-length sequence ...
    lengths[-1] = min(lengths[-1].item(), max(1, T // 2))  # ... and (for B > 1) one that ends early
    return (torch.arange(T)[:, None] < lengths[None, :]).unsqueeze(-1).to(DEVICE)


def rand(g, dtype):
    return lambda *shape, s=1.0: (torch.randn(*shape, generator=g, dtype=dtype) * s).to(DEVICE)


def assert_all_close(actual, expected, dtype, names):
    for name, a, e in zip(names, actual, expected, strict=True):
        assert a.shape == e.shape and a.dtype == e.dtype, name
        torch.testing.assert_close(a, e, **TOL[dtype], msg=lambda m, n=name: f"{n}: {m}")


# ---------------------------------------------------------------------------------------------------------------
# The kernels against the reference loops (same inputs; backwards get the reference forward's outputs)


@runs_kernels
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_peephole_kernels_match_reference(shape, masked, dtype):
    from rnnzoo.nn import triton_scan

    T, B, H = shape
    g = torch.Generator().manual_seed(T * 100 + B * 10 + H)
    r = rand(g, dtype)
    xproj, w_hh, peep, h0, c0 = r(T, B, 4 * H), r(4 * H, H, s=1.5 / H**0.5), r(3 * H, s=0.5), r(B, H), r(B, H)
    mask = make_mask(T, B, g) if masked else None
    grad_hs, grad_cs = r(T, B, H), r(T, B, H)
    ref = peephole_scan.forward_loop(xproj, w_hh, peep, h0, c0, mask)
    out = triton_scan.peephole_forward(xproj, w_hh, peep, h0, c0, mask)
    assert_all_close(out, ref, dtype, ["hs", "cs", "gates"])
    ref_grads = peephole_scan.backward_loop(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, *ref)
    grads = triton_scan.peephole_backward(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, *ref)
    assert_all_close(grads, ref_grads, dtype, ["d_xproj", "grad_w_hh", "grad_peep", "grad_h0", "grad_c0"])
    if masked:  # past its length a sequence holds its state, and its gates get no gradient
        b, length = B - 1, int(mask[:, B - 1].sum())
        assert torch.equal(out[0][-1, b], out[0][length - 1, b]) and torch.equal(out[1][-1, b], out[1][length - 1, b])
        assert (grads[0][length:, b] == 0).all()


@runs_kernels
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_gru_kernels_match_reference(shape, masked, dtype):
    from rnnzoo.nn import triton_scan

    T, B, H = shape
    g = torch.Generator().manual_seed(T * 100 + B * 10 + H + 1)
    r = rand(g, dtype)
    xproj, w_hh, b_hh, h0 = r(T, B, 3 * H), r(3 * H, H, s=1.5 / H**0.5), r(3 * H, s=0.5), r(B, H)
    mask = make_mask(T, B, g) if masked else None
    grad_hs = r(T, B, H)
    ref = gru_scan.forward_loop(xproj, w_hh, b_hh, h0, mask)
    out = triton_scan.gru_forward(xproj, w_hh, b_hh, h0, mask)
    assert_all_close(out, ref, dtype, ["hs", "gates", "ghn"])
    ref_grads = gru_scan.backward_loop(grad_hs, w_hh, b_hh, h0, mask, *ref)
    grads = triton_scan.gru_backward(grad_hs, w_hh, b_hh, h0, mask, *ref)
    assert_all_close(grads, ref_grads, dtype, ["d_xproj", "grad_w_hh", "grad_b_hh", "grad_h0"])


@runs_kernels
def test_kernels_take_broadcast_and_strided_grads():
    """Gradients arrive expanded (a missing one as a broadcast zero, one from .sum()) or transposed."""
    from rnnzoo.nn import triton_scan

    T, B, H, dtype = 4, 3, 5, torch.float64
    g = torch.Generator().manual_seed(3)
    r = rand(g, dtype)
    xproj, w_hh, peep, h0, c0 = r(T, B, 4 * H), r(4 * H, H, s=0.5), r(3 * H), r(B, H), r(B, H)
    mask = make_mask(T, B, g)
    fwd = peephole_scan.forward_loop(xproj, w_hh, peep, h0, c0, mask)
    half = torch.full((), 0.5, dtype=dtype, device=DEVICE).expand(T, B, H)
    transposed = r(B, T, H).transpose(0, 1)
    zero = torch.zeros((), dtype=dtype, device=DEVICE).expand(T, B, H)
    for gh, gc in [(half, transposed), (transposed, zero)]:
        ref = peephole_scan.backward_loop(gh.contiguous(), gc.contiguous(), w_hh, peep, h0, c0, mask, *fwd)
        got = triton_scan.peephole_backward(gh, gc, w_hh, peep, h0, c0, mask, *fwd)
        assert_all_close(got, ref, dtype, ["d_xproj", "grad_w_hh", "grad_peep", "grad_h0", "grad_c0"])
    gfwd = gru_scan.forward_loop(xproj[..., : 3 * H], w_hh[: 3 * H], peep, h0, mask)
    ref = gru_scan.backward_loop(transposed.contiguous(), w_hh[: 3 * H], peep, h0, mask, *gfwd)
    got = triton_scan.gru_backward(transposed, w_hh[: 3 * H], peep, h0, mask, *gfwd)
    assert_all_close(got, ref, dtype, ["d_xproj", "grad_w_hh", "grad_b_hh", "grad_h0"])


@runs_kernels
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # the interpreter's numpy exp(inf)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_kernels_saturate_without_nan(dtype):
    """Huge and infinite pre-activations saturate σ and tanh to their limits: no NaN or inf, the reference's values."""
    from rnnzoo.nn import triton_scan

    T, B, H = 3, 2, 5
    g = torch.Generator().manual_seed(11)
    r = rand(g, dtype)
    xproj, w_hh, peep, h0, c0 = r(T, B, 4 * H, s=1e4), r(4 * H, H), r(3 * H), r(B, H), r(B, H)
    xproj[0, 0, :5] = torch.tensor([float("inf"), -float("inf"), 1e30, -1e30, 0.0], dtype=dtype)
    out = triton_scan.peephole_forward(xproj, w_hh, peep, h0, c0, None)
    assert all(torch.isfinite(t).all() for t in out)
    assert_all_close(out, peephole_scan.forward_loop(xproj, w_hh, peep, h0, c0, None), dtype, ["hs", "cs", "gates"])
    gout = triton_scan.gru_forward(xproj[..., : 3 * H], w_hh[: 3 * H], peep, h0, None)
    assert all(torch.isfinite(t).all() for t in gout)


@runs_kernels
@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_through_peephole_scan(masked, triton_forced):
    """The autograd Function on the Triton path, against finite differences (float64). fast_mode compares random
    projections of the Jacobian (a few forward calls instead of one per input element: 28 s -> ~1 s under the
    interpreter); the full Jacobians are compared with the reference loop's in the tests above."""
    T, B, H = 3, 2, 3
    g = torch.Generator().manual_seed(5)
    r = rand(g, torch.float64)
    inputs = [t.requires_grad_() for t in (r(T, B, 4 * H), r(4 * H, H), r(3 * H), r(B, H), r(B, H))]
    mask = make_mask(T, B, g) if masked else None
    assert native.scan_ops(inputs[0]).__name__ == "rnnzoo.nn.triton_scan"

    def fn(*args):
        hs, cs, _gates = peephole_scan.PeepholeScan.apply(*args, mask)
        return hs, cs

    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-5, fast_mode=True)


# ---------------------------------------------------------------------------------------------------------------
# Through the layers: lengths, two layers, bidirectional; against the same layer on the Python reference loops


def run_layer(layer, x, lengths, return_gates):
    layer.zero_grad()
    x = x.detach().requires_grad_()
    out = layer(x, lengths=lengths, return_gates=return_gates)
    output, state = out[0], out[1]
    states = state if isinstance(state, tuple) else (state,)
    loss = (output * torch.linspace(-1, 1, output.shape[-1], dtype=x.dtype, device=x.device)).sum()
    loss = loss + sum((s * (k + 2)).sum() for k, s in enumerate(states))  # every state gets a gradient
    loss.backward()
    results = {"output": output.detach(), "input.grad": x.grad}
    results |= {f"state{k}": s.detach() for k, s in enumerate(states)}
    results |= {f"{name}.grad": p.grad for name, p in layer.named_parameters()}
    if return_gates:
        results |= {f"gates.{name}": v for name, v in out[2].items()}
    return results


def count_calls(monkeypatch, name):
    from rnnzoo.nn import triton_scan

    calls = []
    original = getattr(triton_scan, name)
    monkeypatch.setattr(triton_scan, name, lambda *a: calls.append(1) or original(*a))
    return calls


@runs_kernels
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    "cell, return_gates, kernel",
    [("PeepholeLSTM", False, "peephole_forward"), ("PeepholeLSTM", True, "peephole_forward"),
     ("LSTM", True, "peephole_forward"), ("GRU", True, "gru_forward")],
)
def test_layer_on_triton_matches_reference(cell, return_gates, kernel, dtype, monkeypatch):
    """Outputs, final states, gates and the gradients of the input and of every weight, with lengths, 2 layers,
    bidirectional, batch_first. The reference: RNNZOO_DISABLE_NATIVE=1 and no Triton, i.e. the Python loops for
    the peephole LSTM and torch's own kernels plus recomputed gates for LSTM and GRU."""
    torch.manual_seed(0)
    layer = getattr(rnn, cell)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    layer = layer.to(DEVICE, dtype)
    if cell == "PeepholeLSTM":
        with torch.no_grad():  # non-zero peepholes, or their terms would not be tested
            for name, p in layer.named_parameters():
                if name.startswith("weight_peephole"):
                    p.uniform_(-0.5, 0.5)
    x = torch.randn(3, 5, 3, dtype=dtype, device=DEVICE)  # (B, T, I)
    lengths = torch.tensor([5, 2, 4])

    monkeypatch.setenv("RNNZOO_DISABLE_NATIVE", "1")
    monkeypatch.setenv("RNNZOO_DISABLE_TRITON", "1")
    expected = run_layer(layer, x, lengths, return_gates)
    monkeypatch.delenv("RNNZOO_DISABLE_TRITON")
    monkeypatch.setenv("RNNZOO_TRITON", "1")
    calls = count_calls(monkeypatch, kernel)
    got = run_layer(layer, x, lengths, return_gates)
    assert len(calls) == 4  # 2 layers x 2 directions, all on Triton
    assert got.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], **TOL[dtype], msg=lambda m, n=name: f"{n}: {m}")


# ---------------------------------------------------------------------------------------------------------------
# Routing (no kernels run: these need neither CUDA nor the interpreter)


def test_routing_keeps_cpu_off_triton(monkeypatch):
    monkeypatch.delenv("RNNZOO_TRITON", raising=False)
    monkeypatch.delenv("RNNZOO_DISABLE_NATIVE", raising=False)
    x = torch.zeros(2, 3)
    assert native.triton_ops(x) is None
    assert native.scan_ops(x) is native.native_ops(x)  # the C++ loops (or None without them)


def test_routing_without_triton_or_when_disabled(monkeypatch):
    monkeypatch.setenv("RNNZOO_TRITON", "1")
    monkeypatch.setattr(native, "_TRITON_INSTALLED", False)
    assert native.triton_ops(torch.zeros(2)) is None
    monkeypatch.setattr(native, "_TRITON_INSTALLED", True)
    monkeypatch.setenv("RNNZOO_DISABLE_TRITON", "1")
    assert native.triton_ops(torch.zeros(2)) is None
    monkeypatch.delenv("RNNZOO_DISABLE_TRITON")
    assert native.triton_ops(torch.zeros(2, dtype=torch.float16)) is None  # float32/float64 kernels only


@needs_triton
@pytest.mark.skipif(CUDA or INTERPRETED, reason="the kernel tests run in this process (CUDA, or interpreter already on)")
def test_under_triton_interpreter():
    """Run this file's kernel tests on CPU tensors under TRITON_INTERPRET=1, in a fresh process."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    for name in ("RNNZOO_TRITON", "RNNZOO_DISABLE_TRITON", "RNNZOO_DISABLE_NATIVE"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
        env=env, capture_output=True, text=True, timeout=300,
    )
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 39, tail  # the kernel tests ran, not skipped
