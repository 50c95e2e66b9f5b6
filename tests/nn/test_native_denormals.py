"""The C++ scans flush subnormal floats to zero while they run, and give the caller back its own mode.

Why: x86 takes a ~100-cycle microcode assist for every subnormal operand or result; saturated gates made a
peephole language model on PTB 3-7x slower within 1,200 steps (benchmarks/denormals.py measures it). The cases
below are built so that IEEE arithmetic carries a subnormal state through a step (forget gate or update gate
exactly 1, everything else 0): the Python reference keeps it, the flushed C++ scan must give exactly 0.
"""

from __future__ import annotations

import pytest
import torch

from rnnzoo.nn import gru_scan, native, peephole_scan

pytestmark = pytest.mark.skipif(not native.AVAILABLE, reason="rnnzoo._C is not built")

SUBNORMAL = 1e-39  # float32 subnormals lie below 1.18e-38
SATURATE = 1000.0  # σ(+1000) = 1 and σ(-1000) = 0 in float32


@pytest.fixture(autouse=True)
def _ieee_mode_in_this_thread(monkeypatch):
    monkeypatch.delenv("RNNZOO_DISABLE_NATIVE", raising=False)
    torch.set_flush_denormal(False)
    assert _subnormals_survive(), "this thread must start in IEEE mode for these tests to mean anything"


def _subnormals_survive() -> bool:
    """True when float32 arithmetic on this thread keeps subnormal results (the default IEEE mode)."""
    x = torch.tensor([SUBNORMAL], dtype=torch.float32)
    return bool((x * torch.tensor([1.0]))[0] != 0)


def _peephole_case(T=3, B=2, H=4):
    xproj = torch.zeros(T, B, 4 * H)
    xproj[..., :H] = -SATURATE  # input gate 0: nothing is written
    xproj[..., H : 2 * H] = SATURATE  # forget gate 1: c_t = c_{t-1}
    w_hh, peep = torch.zeros(4 * H, H), torch.zeros(3 * H)
    h0, c0 = torch.zeros(B, H), torch.full((B, H), SUBNORMAL)
    return xproj, w_hh, peep, h0, c0, None


def _gru_case(T=3, B=2, H=4):
    xproj = torch.zeros(T, B, 3 * H)
    xproj[..., H : 2 * H] = SATURATE  # update gate 1: h_t = h_{t-1}
    w_hh, b_hh = torch.zeros(3 * H, H), torch.zeros(3 * H)
    h0 = torch.full((B, H), SUBNORMAL)
    return xproj, w_hh, b_hh, h0, None


def test_peephole_scan_flushes_subnormal_cell_state():
    case = _peephole_case()
    _, cs_ref, _ = peephole_scan.forward_loop(*case)
    assert (cs_ref == SUBNORMAL).all(), "IEEE reference should carry the subnormal state unchanged"
    hs, cs, _ = torch.ops.rnnzoo.peephole_forward(*case)
    assert (cs == 0).all() and (hs == 0).all()
    assert _subnormals_survive(), "the scan must restore the caller's floating-point mode"


def test_gru_scan_flushes_subnormal_hidden_state():
    case = _gru_case()
    hs_ref, _, _ = gru_scan.forward_loop(*case)
    assert (hs_ref == SUBNORMAL).all(), "IEEE reference should carry the subnormal state unchanged"
    hs, _, _ = torch.ops.rnnzoo.gru_forward(*case)
    assert (hs == 0).all()
    assert _subnormals_survive(), "the scan must restore the caller's floating-point mode"


def test_backward_passes_restore_the_callers_mode():
    xproj, w_hh, peep, h0, c0, _ = _peephole_case()
    params = [t.clone().requires_grad_() for t in (xproj, w_hh, peep, h0, c0)]
    hs, cs = peephole_scan.peephole_scan(*params, None)[:2]
    (hs.sum() + cs.sum()).backward()
    assert _subnormals_survive()
    xproj, w_hh, b_hh, h0, _ = _gru_case()
    params = [t.clone().requires_grad_() for t in (xproj, w_hh, b_hh, h0)]
    gru_scan.gru_scan(*params, None)[0].sum().backward()
    assert _subnormals_survive()


def test_flushing_is_left_on_when_the_caller_turned_it_on():
    torch.set_flush_denormal(True)
    try:
        torch.ops.rnnzoo.peephole_forward(*_peephole_case())
        assert not _subnormals_survive(), "the caller's flush mode must survive the scan too"
    finally:
        torch.set_flush_denormal(False)
