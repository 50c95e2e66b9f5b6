"""Bad input to any layer: an error that names the argument, what it got and what it expected."""

from __future__ import annotations

import pytest
import torch

import rnnzoo.nn as rnn

CELLS = [rnn.RNN, rnn.LSTM, rnn.GRU, rnn.PeepholeLSTM]


def state_for(cls, *shape, dtype=torch.float32):
    h = torch.zeros(*shape, dtype=dtype)
    return (h, h.clone()) if cls.has_cell_state else h


@pytest.fixture(params=CELLS, ids=lambda c: c.__name__)
def cls(request):
    return request.param


def test_wrong_rank(cls):
    with pytest.raises(ValueError, match=r"input must be 3-D \(time, batch, features\).*got 4-D shape \(2, 3, 4, 5\)"):
        cls(5, 4)(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"3-D \(batch, time, features\).*got 1-D"):
        cls(5, 4, batch_first=True)(torch.zeros(5))


def test_wrong_feature_size(cls):
    with pytest.raises(ValueError, match=r"input has 7 features .*shape \(3, 2, 7\).*input_size=5"):
        cls(5, 4)(torch.zeros(3, 2, 7))


def test_non_floating_input(cls):
    with pytest.raises(TypeError, match=r"floating-point tensor, got dtype torch.int64.*embedding"):
        cls(5, 4)(torch.zeros(3, 2, 5, dtype=torch.long))
    with pytest.raises(TypeError, match="input must be a torch.Tensor, got list"):
        cls(5, 4)([[0.0] * 5])


@pytest.mark.parametrize(
    "lengths,error,message",
    [
        ([3, 0], ValueError, r"every length must lie in 1\.\.3.*got min 0 and max 3"),
        ([3, -1], ValueError, r"got min -1"),
        ([4, 2], ValueError, r"must lie in 1\.\.3.*max 4"),
        ([3, 2, 1], ValueError, r"lengths has 3 entries but the batch holds 2 sequences"),
        (torch.tensor([[3, 2]]), ValueError, r"lengths must be 1-D.*\(1, 2\)"),
        (torch.tensor([3.0, 2.0]), TypeError, r"lengths must hold integers, got a tensor of dtype torch.float32"),
        ([3, 2.5], TypeError, r"lengths must be integers"),
        ("ab", TypeError, r"lengths must be a 1-D integer tensor or a list of ints"),
    ],
)
def test_bad_lengths(cls, lengths, error, message):
    with pytest.raises(error, match=message):
        cls(5, 4)(torch.zeros(3, 2, 5), lengths=lengths)


def test_lengths_with_unbatched_input(cls):
    with pytest.raises(ValueError, match="lengths= needs a batched input"):
        cls(5, 4)(torch.zeros(3, 5), lengths=[3])


def test_lengths_on_another_device_or_dtype_are_accepted(cls):
    layer = cls(5, 4).eval()
    x = torch.randn(3, 2, 5)
    a = layer(x, lengths=torch.tensor([3, 2], dtype=torch.int32))[0]
    b = layer(x, lengths=[3, 2])[0]
    torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_hx_wrong_shape(cls):
    layer = cls(5, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"must have shape \(num_layers \* num_directions, batch, hidden_size\) = \(2, 2, 4\), got \(1, 2, 4\)"):
        layer(torch.zeros(3, 2, 5), state_for(cls, 1, 2, 4))


def test_hx_wrong_dtype(cls):
    with pytest.raises(TypeError, match=r"has dtype torch.float64 but the input has torch.float32"):
        cls(5, 4)(torch.zeros(3, 2, 5), state_for(cls, 1, 2, 4, dtype=torch.float64))


def test_hx_wrong_device(cls):
    h = torch.zeros(1, 2, 4, device="meta")
    hx = (h, h) if cls.has_cell_state else h
    with pytest.raises(ValueError, match=r"is on meta but the input is on cpu; move it with \.to\(\)"):
        cls(5, 4)(torch.zeros(3, 2, 5), hx)


def test_hx_wrong_structure():
    with pytest.raises(TypeError, match=r"hx for LSTM must be a tuple \(h_0, c_0\), got Tensor"):
        rnn.LSTM(5, 4)(torch.zeros(3, 2, 5), torch.zeros(1, 2, 4))
    with pytest.raises(TypeError, match=r"hx for GRU must be one tensor h_0, got a tuple"):
        rnn.GRU(5, 4)(torch.zeros(3, 2, 5), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))


def test_proj_size_refused():
    with pytest.raises(ValueError, match="does not support proj_size"):
        rnn.LSTM(5, 4, proj_size=2)
