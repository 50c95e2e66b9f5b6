"""Mixed precision: every layer and path runs under bf16 autocast on the CPU and stays close to float32."""

import logging

import pytest
import torch

import rnnzoo.nn as rnn


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.LSTM, rnn.GRU, rnn.PeepholeLSTM], ids=lambda c: c.__name__)
@pytest.mark.parametrize("return_gates", [False, True])
def test_bf16_autocast_trains_and_matches_float32(cls, return_gates, loop_impl):
    layer = cls(3, 8, num_layers=2, bidirectional=True)
    x = torch.randn(6, 4, 3)
    reference = layer(x, lengths=[6, 2, 5, 3])[0]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x, lengths=[6, 2, 5, 3], return_gates=return_gates)[0]
    out.float().square().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())
    # bf16 keeps 8 bits of mantissa (relative error 2^-8 ≈ 0.004 per rounding); over two layers of O(1)
    # activations a few such roundings add up, so 0.05 absolute is a bound that float32 errors never approach.
    torch.testing.assert_close(out.float(), reference, atol=0.05, rtol=0)


def test_peephole_says_once_that_it_runs_in_float32(caplog):
    layer = rnn.PeepholeLSTM(3, 4)
    with caplog.at_level(logging.WARNING, logger="rnnzoo"), torch.autocast("cpu", dtype=torch.bfloat16):
        from rnnzoo.nn.autocast_note import note_float32_under_autocast

        note_float32_under_autocast.cache_clear()
        layer(torch.randn(5, 2, 3))
        layer(torch.randn(5, 2, 3))
    notes = [r for r in caplog.records if "runs in float32" in r.getMessage()]
    assert len(notes) == 1
