"""The forecaster in parts: each normalization's encode/decode (its equivariance, its start), each head's output
(shapes, order, calibration offsets), the hybrid's scaler buffers (set with the preprocessing, moved with the model,
never saved), and that the composed Forecaster keeps its state-dict keys and config.json."""

import copy

import pytest
import torch

import rnnzoo
from rnnzoo.tasks.forecaster import Forecaster, SeriesScaler
from rnnzoo.tasks.forecaster.heads import GaussianHead, PointHead, QuantileHead, make_head
from rnnzoo.tasks.forecaster.normalizations import (
    HoltWintersHybrid, LastValue, Normalization, SeasonalDifference, integrate, make_normalization,
)

NORMALIZATIONS = {"none": {}, "last_value": {"normalization": "last_value"},
                  "es": {"normalization": "es", "season": 3, "num_series": 2},
                  "seasonal_difference": {"normalization": "seasonal_difference", "season": 3, "drift": True}}
HEADS = {"point": {}, "gaussian": {"gaussian": True}, "quantiles": {"quantiles": [0.9, 0.1, 0.5]},
         "calibrated": {"quantiles": [0.1, 0.5, 0.9], "calibrated": True}}
COMBINATIONS = [(n, h) for n in NORMALIZATIONS for h in HEADS if (n, h) != ("es", "gaussian")]


def scaler(features: int = 2, series: int = 2) -> SeriesScaler:
    return SeriesScaler(mean=[[10.0 + i + 0.5 * j for j in range(features)] for i in range(series)],
                        std=[[2.0 + i + 0.1 * j for j in range(features)] for i in range(series)],
                        input_length=10, horizon=5)


def build(normalization: str, head: str, seed: int = 0, **extra) -> Forecaster:
    """A random-weight forecaster (2 features: 1 target, 1 covariate) of one combination, in eval mode."""
    torch.manual_seed(seed)
    model = Forecaster("gru", input_size=2, output_size=1, horizon=5, hidden_size=6,
                       **NORMALIZATIONS[normalization], **HEADS[head], **extra)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
        if model.calibrated:
            model.interval_offsets.normal_(0, 0.3)
    if normalization == "es":
        model.preprocessing = scaler()
    return model.eval()


def windows(seed: int = 1, batch: int = 4, steps: int = 10) -> torch.Tensor:
    """Scaled windows whose targets stay positive in the units of :func:`scaler` (mean >= 10, std <= 3.1)."""
    return torch.randn(batch, steps, 2, generator=torch.Generator().manual_seed(seed)).clamp(-2, 2)


def parts(out):
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("normalization,head", COMBINATIONS)
def test_every_combination_gives_its_heads_shapes_and_reloads_to_the_same_numbers(normalization, head):
    model = build(normalization, head)
    x = windows()
    with torch.no_grad():
        out = model(x)
    if head == "gaussian":
        mean, std = out
        assert mean.shape == std.shape == (4, 5, 1) and bool((std > 0).all())
    elif head == "point":
        assert out.shape == (4, 5, 1)
    else:
        assert out.shape == (4, 5, 1, 3) and bool((out.diff(dim=-1) >= 0).all())  # never crossing
        assert model.quantiles == [0.1, 0.5, 0.9]
    # the state dict alone (and the preprocessing) rebuilds the same forecaster: the parts hold no other state
    again = Forecaster(**model.config)
    again.load_state_dict(model.state_dict(), strict=True)
    again.preprocessing = model.preprocessing
    with torch.no_grad():
        for a, b in zip(parts(out), parts(again.eval()(x))):
            assert torch.equal(a, b)


def test_state_dict_keys_and_config_are_those_of_the_whole_forecaster():
    es = build("es", "calibrated")
    assert [k for k in es.state_dict() if not k.startswith("rnn.")] == [
        "interval_offsets", "smoothing.alpha_logit", "smoothing.gamma_logit", "head.weight", "head.bias"]
    assert list(es.config) == ["cell", "input_size", "horizon", "output_size", "hidden_size", "num_layers",
                               "dropout", "gaussian", "cell_options", "normalization", "quantiles", "calibrated",
                               "season", "num_series"]
    sdiff = Forecaster("gru", input_size=3, output_size=1, num_future=2, horizon=4, hidden_size=4,
                       normalization="seasonal_difference", season=2, drift=True)
    assert {k: v for k, v in sdiff.config.items() if k not in ("cell", "input_size", "horizon", "output_size",
                                                                 "hidden_size", "num_layers", "dropout")} == {
        "gaussian": False, "cell_options": None, "normalization": "seasonal_difference", "num_future": 2,
        "season": 2, "drift": True}
    point = Forecaster("lstm", hidden_size=4)
    assert set(point.config) == {"cell", "input_size", "horizon", "output_size", "hidden_size", "num_layers",
                                 "dropout", "gaussian", "cell_options", "normalization"}
    assert [k for k in point.state_dict() if not k.startswith("rnn.")] == ["head.weight", "head.bias"]
    assert point.head.out_features == 24 and Forecaster("lstm", hidden_size=4, gaussian=True).head.out_features == 48


def test_a_bundled_forecaster_loads_its_weights_with_strict_keys():
    model = rnnzoo.load("quantile-forecaster-gru-20k.co2")
    fresh = Forecaster(**model.config)
    fresh.load_state_dict(model.state_dict(), strict=True)
    assert isinstance(model.output, QuantileHead) and isinstance(model.normalizer, LastValue)


def test_last_value_moves_with_a_shift():
    # y_hat = x_T + f(x - x_T): shifting the window (and the future covariates) shifts every forecast. The network
    # reads x - x_T computed from shifted float32 values, which differ by an ulp of the shifted values (about
    # 5e-7 near 4): 1e-5 allows the recurrent layer to carry a few such ulps to the output.
    for head in ("point", "gaussian", "calibrated"):
        model = build("last_value", head, num_future=0)
        x = windows()
        with torch.no_grad():
            out, shifted = parts(model(x)), parts(model(x + 3.0, lengths=[10, 10, 10, 10]))
        assert torch.allclose(shifted[0], out[0] + 3.0, atol=1e-5)
        if head == "gaussian":
            assert torch.allclose(shifted[1], out[1], atol=1e-6)  # a shift leaves the spread as it is


def test_last_value_reads_the_last_value_of_each_length():
    model = build("last_value", "point")
    x = windows()
    lengths = torch.tensor([10, 4, 7, 1])
    inputs, _, level = model.normalizer.encode(x, lengths, None, None)
    assert torch.equal(level[:, 0, :, 0], x[torch.arange(4), lengths - 1, :1])
    assert torch.equal(inputs[1, 3], torch.zeros(2))  # the last step relative to itself
    with pytest.raises(ValueError, match="lengths must hold one length in 1..10"):
        model(x, lengths=[10, 11, 1, 1])


def test_hybrid_scales_with_the_series_in_its_units():
    # In units y = x std + mean the hybrid is multiplicative in its targets: model(c y) == c model(y), covariates
    # unchanged. The scaled window and the scaled forecast go through the scaler buffers both ways, so this also
    # checks that the buffers hold the statistics of each window's series. exp/log round trips in float32: 1e-5.
    model = build("es", "quantiles")
    x, series = windows(), torch.tensor([0, 1, 1, 0])
    stats = model.preprocessing
    mean = torch.tensor(stats.mean)[series].unsqueeze(1)[..., :1]  # (B, 1, 1): the target's
    std = torch.tensor(stats.std)[series].unsqueeze(1)[..., :1]
    y = x[..., :1] * std + mean

    def in_units(target):  # the forecast, in units, of the windows with this target (scaled) and x's covariate
        with torch.no_grad():
            return model(torch.cat([target, x[..., 1:]], -1), series=series) * std.unsqueeze(-1) + mean.unsqueeze(-1)

    out = in_units(x[..., :1])
    assert torch.allclose(in_units((3.0 * y - mean) / std), 3.0 * out, rtol=1e-5)
    # without preprocessing, the window's targets are the series' own values
    bare = Forecaster(**model.config)
    bare.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.allclose(bare.eval()(torch.cat([y, x[..., 1:]], -1), series=series), out, rtol=1e-5)


def test_seasonal_difference_starts_as_the_seasonal_naive_forecast():
    torch.manual_seed(0)
    model = Forecaster("lstm", horizon=7, hidden_size=4, normalization="seasonal_difference", season=3).eval()
    x = torch.randn(2, 9, 1)
    with torch.no_grad():
        assert torch.equal(model(x), x[:, -3:].repeat(1, 3, 1)[:, :7])  # zero head: zero differences, exactly
    drift = Forecaster("lstm", horizon=7, hidden_size=4, normalization="seasonal_difference", season=3,
                       drift=True).eval()
    with torch.no_grad():
        c = (x[:, 3:] - x[:, :-3]).mean(1, keepdim=True)  # the window's mean seasonal difference, per season ahead
        naive = x[:, -3:].repeat(1, 3, 1)[:, :7] + c * torch.tensor([1, 1, 1, 2, 2, 2, 3]).view(1, 7, 1)
        assert torch.allclose(drift(x), naive, atol=1e-6)  # c summed in another order: float32 rounding


def test_seasonal_difference_integrates_each_level_then_orders_them():
    d = torch.tensor([[1.0, 2, 3, 4, 5]]).view(1, 5, 1, 1)
    window = torch.tensor([1.0, 2.0, 5.0, 7.0]).view(1, 4, 1)
    assert integrate(d, window, 2)[0, :, 0, 0].tolist() == [6.0, 9.0, 9.0, 13.0, 14.0]
    norm = make_normalization("seasonal_difference", input_size=1, output_size=1, horizon=2, season=1)
    _, _, context = norm.encode(torch.tensor([0.0, 1.0, 3.0]).view(1, 3, 1), None, None, None)  # r = 1.5
    # r = 1.5; levels (-1, 1) then (2, -2) integrate to (1.5, 4.5) then (4.5, 1.5), ordered after integration
    # (ordered before, the second step would be (-1.5, 7.5))
    z = torch.tensor([[[-1.0, 1.0]], [[2.0, -2.0]]]).view(1, 2, 1, 2)
    out = norm.decode(z, context, QuantileHead.rearrange)
    assert out[0, :, 0].tolist() == [[1.5, 4.5], [1.5, 4.5]]
    assert torch.equal(norm.decode_scale(torch.ones(1, 2, 1), context), torch.full((1, 2, 1), 1.5))


def test_quantile_head_orders_then_adds_the_offsets_then_orders_again():
    q = torch.tensor([0.25, -1.0, 2.0]).view(1, 1, 1, 3)
    assert QuantileHead.rearrange(q).flatten().tolist() == [-1.0, 0.25, 2.0]
    offsets = torch.tensor([3.0, 0.0, 0.5]).view(1, 1, 3)  # lifts the lowest level above the others
    assert QuantileHead.rearrange(q, offsets).flatten().tolist() == [0.25, 2.0, 2.5]


def test_calibration_offsets_add_in_scaled_units():
    # offsets that keep the order add as they are, whatever the normalization (the last value's shift is added
    # after them; the hybrid's exp and the differences' integration before): exact but for the last value's, where
    # (q + o) + x_T and (q + x_T) + o differ by a float32 rounding of values of a few units (about 5e-7).
    for normalization in ("none", "last_value", "es", "seasonal_difference"):
        model = build(normalization, "calibrated")
        x = windows()
        with torch.no_grad():
            model.interval_offsets.zero_()
            raw = model(x)
            model.interval_offsets.copy_(torch.tensor([-0.5, 0.0, 0.5]))
            assert torch.allclose(model(x), raw + torch.tensor([-0.5, 0.0, 0.5]), rtol=1e-6, atol=1e-6), normalization


def test_head_widths_and_refusals():
    assert (PointHead.per_value, GaussianHead.per_value) == (1, 2)
    assert make_head(3, 2, quantiles=[0.9, 0.1]).levels == [0.1, 0.9] and make_head(3, 2).levels is None
    with pytest.raises(ValueError, match="two ways of forecasting a distribution"):
        make_head(3, 1, gaussian=True, quantiles=[0.5])
    with pytest.raises(ValueError, match="calibrated=True .* needs a quantile head"):
        make_head(3, 1, calibrated=True)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        make_head(3, 1, quantiles=[0.0, 0.5])


@pytest.mark.parametrize("arguments,message", [
    ({"normalization": "bogus"}, r"normalization must be one of \('none', 'last_value', 'es', 'seasonal_difference'\)"),
    ({"normalization": "last_value", "output_size": 2}, r"'last_value' adds the window's last values back"),
    ({"normalization": "es", "gaussian": True}, r"a Gaussian head would not stay Gaussian"),
    ({"normalization": "es", "output_size": 2}, r"'es' smooths the targets in the window"),
    ({"normalization": "seasonal_difference", "num_series": 2}, r"takes a season >= 1 .* no num_series"),
    ({"normalization": "seasonal_difference", "output_size": 2}, r"adds the forecast to the window's last season"),
    ({"season": 12}, r"season belongs to normalization='es' or 'seasonal_difference'"),
    ({"normalization": "es", "drift": True}, r"drift=True belongs to normalization='seasonal_difference' \(got 'es'\)"),
    ({"drift": True}, r"drift=True belongs to normalization='seasonal_difference' \(got 'none'\)"),
])
def test_each_normalization_checks_its_own_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        Forecaster("gru", hidden_size=4, **arguments)


def test_normalization_classes_by_name():
    for name, cls in [("none", Normalization), ("last_value", LastValue), ("es", HoltWintersHybrid),
                      ("seasonal_difference", SeasonalDifference)]:
        model = Forecaster("gru", hidden_size=4, **NORMALIZATIONS[name])
        assert type(model.normalizer) is cls and model.normalizer.name == name


def test_hybrid_scaler_buffers_follow_the_preprocessing_and_the_model():
    model = build("es", "point")
    stats = model.preprocessing
    exact = torch.tensor(stats.mean, dtype=torch.float64), torch.tensor(stats.std, dtype=torch.float64)
    assert torch.equal(model.scaler.mean, exact[0]) and torch.equal(model.scaler.std, exact[1])
    assert "scaler.mean" not in model.state_dict() and dict(model.named_buffers())["scaler.mean"] is model.scaler.mean
    x = windows()
    with torch.no_grad():
        before = model(x)
        # a dtype round trip (what scripts/bundle_weights.py does to emulate float16 storage) rounds the weights,
        # not the statistics: the forecast is that of the rounded weights with the exact statistics
        rounded = Forecaster(**model.config)
        rounded.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
        rounded.preprocessing = stats
        model.half().float()
        assert torch.equal(model.scaler.mean, exact[0]) and torch.equal(model(x), rounded.eval()(x))
        assert not torch.equal(model(x), before)
    model.to("meta")  # any device: the buffers move with the weights
    assert model.scaler.mean.device.type == model.scaler.std.device.type == "meta"
    model = build("es", "point")
    model.preprocessing = None
    assert model.scaler.mean is None and model.scaler.std is None
    model.preprocessing = scaler().to_config()  # the config.json block sets them too
    assert model.scaler.mean.shape == (2, 2)
    model.preprocessing = scaler(series=1)
    with pytest.raises(ValueError, match="series id 1 but the preprocessing has scalers for 1 series"):
        model(windows(), series=torch.tensor([0, 1, 0, 0]))


def test_copies_keep_their_parts_pointing_at_their_own_modules():
    model = build("es", "calibrated")
    twin = copy.deepcopy(model)
    assert twin.normalizer.smoothing is twin.smoothing and twin.normalizer.scaler is twin.scaler
    with torch.no_grad():
        twin.smoothing.alpha_logit.add_(1.0)
        x = windows()
        assert not torch.equal(twin(x), model(x))  # the twin's forward reads the twin's coefficients


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_hybrid_runs_on_the_gpu_as_on_the_cpu():
    model = build("es", "quantiles")
    x = windows()
    with torch.no_grad():
        expected = model(x)
        model.cuda()
        assert model.scaler.mean.is_cuda
        got = model(x.cuda()).cpu()
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5)  # other kernels: float32 rounding
