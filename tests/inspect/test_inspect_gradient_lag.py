"""Gradient versus lag: an exact analytic case, a direct Jacobian recomputation per cell, and zoo models."""

import math

import pytest
import torch

from rnnzoo.inspect import gradient_vs_lag, resolve_model
from rnnzoo.inspect.gradient_lag import target_times
from rnnzoo.models import PianoRollModel

CELLS = ["rnn", "lstm", "peephole_lstm", "gru"]


def linear_relu_rnn(a: float, w_ih: torch.Tensor, bidirectional: bool = False) -> PianoRollModel:
    """A relu RNN whose pre-activations stay positive, so relu is the identity and h_t = W_ih x_t + a h_{t-1}:
    then ∂h_t/∂x_{t-k} = a^k W_ih exactly, with Frobenius norm a^k ||W_ih||_F."""
    size = w_ih.shape[0]
    model = PianoRollModel(cell="rnn", hidden_size=size, num_pitches=w_ih.shape[1],
                           cell_options={"nonlinearity": "relu"}).eval()
    if bidirectional:
        model.rnn = type(model.rnn)(w_ih.shape[1], size, nonlinearity="relu", batch_first=True, bidirectional=True)
        model.rnn.eval()
    with torch.no_grad():
        for name, p in model.rnn.named_parameters():
            if name.startswith("weight_ih"):
                p.copy_(w_ih if "reverse" not in name else 2 * w_ih)  # reverse weights differ on purpose
            elif name.startswith("weight_hh"):
                p.copy_(a * torch.eye(size))
            else:
                p.zero_()
    return model


@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_analytic_jacobian_of_a_linear_recurrence(bidirectional):
    a, max_lag = 0.8, 12
    w_ih = torch.tensor([[0.5, 0.25, 0.1], [0.2, 0.6, 0.3]])  # positive, as are the inputs: relu stays linear
    model = linear_relu_rnn(a, w_ih, bidirectional)
    lengths = torch.tensor([20, 15, 9])
    x = torch.rand(3, 20, 3) + 0.1
    curve = gradient_vs_lag(model, x, lengths, max_lag=max_lag)
    expected = [a ** k * float(torch.linalg.norm(w_ih)) for k in range(max_lag + 1)]
    # float32 products of at most 12 factors: relative error a few ulps (~1e-6); 1e-5 leaves a margin and still
    # fails for the next power of a (a 20% change) or a reverse direction leaking into lag 0 (a 2x change).
    assert curve["norm"] == pytest.approx(expected, rel=1e-5)
    assert curve["relative"] == pytest.approx([a ** k for k in range(max_lag + 1)], rel=1e-5)
    # Lags are counted only within each sequence: the length-9 one reaches back at most 8 steps.
    pairs = [(b, t) for b, n in enumerate([20, 15, 9]) for t in target_times(n, max_lag, 4)]
    assert curve["pairs"] == [list(p) for p in pairs]
    assert curve["count"] == [sum(t >= k for _, t in pairs) for k in range(max_lag + 1)]
    assert all(t < n for (b, t), n in zip(pairs, [lengths[b] for b, _ in pairs]))


def independent_forward(model, cell):
    """h over time for one unpadded sequence (T, I), computed without rnnzoo.nn: torch.nn's own layer with the
    same state dict, or for the peephole LSTM the step-by-step autograd reference of tests/support/reference_cells.py."""
    layer = model.rnn
    if cell == "peephole_lstm":
        from tests.support.reference_cells import peephole_reference

        def run(seq):
            zeros = seq.new_zeros(1, 1, layer.hidden_size)
            return peephole_reference(layer, seq.unsqueeze(1), [seq.shape[0]], zeros, zeros)[0][:, 0]

        return run
    torch_layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        layer.input_size, layer.hidden_size, batch_first=True)
    torch_layer.load_state_dict(layer.state_dict())
    return lambda seq: torch_layer(seq.unsqueeze(0))[0][0]


@pytest.mark.parametrize("cell", CELLS)
def test_matches_a_direct_jacobian_on_a_padded_batch(cell):
    torch.manual_seed(0)
    model = PianoRollModel(cell=cell, hidden_size=5, num_pitches=3).eval()
    if cell == "peephole_lstm":
        with torch.no_grad():  # non-zero peepholes, so the peephole terms are part of what is checked
            model.rnn.weight_peephole_l0.uniform_(-0.5, 0.5)
    x = torch.randn(2, 12, 3)
    lengths = torch.tensor([12, 7])
    curve = gradient_vs_lag(model, x, lengths, max_lag=6, times_per_sequence=3)

    forward = independent_forward(model, cell)
    sums = [0.0] * 7
    counts = [0] * 7
    for b, t in curve["pairs"]:
        n = int(lengths[b])
        # The sequence alone, unpadded: padding must not change anything.
        jac = torch.autograd.functional.jacobian(lambda seq: forward(seq)[t], x[b, :n])
        for k in range(min(t, 6) + 1):  # jac: (H, n, I)
            sums[k] += float(torch.linalg.norm(jac[:, t - k]))
            counts[k] += 1
    expected = [s / c for s, c in zip(sums, counts)]
    # float32 through different kernels (fused vs step by step): agreement ~1e-6 relative; 1e-4 absorbs
    # summation order over 12 steps while a wrong lag (a factor 0.1-0.9 per step here) is far outside it.
    assert curve["norm"] == pytest.approx(expected, rel=1e-4)
    assert curve["count"] == counts


@pytest.mark.parametrize("cell", ["rnn", "lstm", "peephole-lstm", "gru"])
def test_untrained_zoo_models_are_measured_not_assumed(cell):
    """No shape of decay is asserted for untrained weights: the curve is computed, finite and shaped right."""
    model = resolve_model(f"pianoroll-{cell}-20k")
    x = (torch.rand(2, 30, 88) < 0.05).float()
    curve = gradient_vs_lag(model, x, torch.tensor([30, 25]), max_lag=20, times_per_sequence=2)
    assert curve["lag"] == list(range(21))
    assert len(curve["norm"]) == len(curve["relative"]) == len(curve["count"]) == 21
    assert all(v is not None and math.isfinite(v) and v > 0 for v in curve["norm"])
    assert curve["relative"][0] == 1.0
    assert all(c > 0 for c in curve["count"])
