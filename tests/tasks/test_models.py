"""Task models: shapes, lengths handling, config round trip, for every cell."""

import pytest
import torch

from rnnzoo.models import (
    CELLS, TASKS, Forecaster, LanguageModel, PianoRollModel, SequenceClassifier,
)

SMALL = 8  # hidden size small enough to keep every test here under a second


@pytest.mark.parametrize("cell", list(CELLS))
def test_piano_roll_shapes_and_causality(cell):
    model = PianoRollModel(cell=cell, hidden_size=SMALL).eval()
    roll = torch.rand(3, 10, 88).round()
    logits = model(roll, lengths=[10, 6, 2])
    assert logits.shape == (3, 10, 88)
    # Next-frame prediction must not see the future: changing frame 5 leaves logits at steps < 5 unchanged.
    changed = roll.clone()
    changed[:, 5] = 1 - changed[:, 5]
    assert torch.equal(model(changed)[:, :5], model(roll)[:, :5])


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_pools_each_sequence_at_its_own_length(cell, bidirectional):
    model = SequenceClassifier(cell=cell, input_size=5, num_classes=4, hidden_size=SMALL,
                               bidirectional=bidirectional, num_layers=2).eval()
    x = torch.randn(3, 9, 5)
    lengths = torch.tensor([9, 4, 7])
    padded = model(x, lengths=lengths)
    assert padded.shape == (3, 4)
    for b, n in enumerate(lengths.tolist()):
        alone = model(x[b : b + 1, :n])  # the same sequence with no padding at all
        # float32 sums in a different order (packed vs plain kernels): 1e-5 is ~100 ulps at these magnitudes.
        torch.testing.assert_close(padded[b : b + 1], alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", list(CELLS))
def test_language_model_shapes_state_and_tying(cell):
    model = LanguageModel(cell=cell, vocab_size=30, embedding_dim=SMALL, hidden_size=SMALL, tie_weights=True)
    tokens = torch.randint(0, 30, (2, 6))
    logits, state = model(tokens, return_state=True)
    assert logits.shape == (2, 6, 30)
    assert model.head.weight is model.embedding.weight
    untied = LanguageModel(cell=cell, vocab_size=30, embedding_dim=SMALL, hidden_size=SMALL)
    assert untied.num_parameters - model.num_parameters == 30 * SMALL
    # Carrying the state over equals running the concatenated sequence (what truncated BPTT relies on).
    model.eval()
    first, state = model(tokens[:, :3], return_state=True)
    second = model(tokens[:, 3:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), model(tokens), atol=1e-5, rtol=1e-5)


def test_language_model_refuses_tying_different_widths():
    with pytest.raises(ValueError, match="embedding_dim == hidden_size"):
        LanguageModel(embedding_dim=16, hidden_size=32, tie_weights=True)


@pytest.mark.parametrize("cell", list(CELLS))
def test_language_model_uniform_init_covers_every_parameter(cell):
    torch.manual_seed(0)
    model = LanguageModel(cell=cell, vocab_size=50, embedding_dim=SMALL, hidden_size=SMALL, num_layers=2,
                          init_range=0.1)
    for name, param in model.named_parameters():
        param = param.detach()
        assert float(param.abs().max()) <= 0.1, name
        # Uniform on [-0.1, 0.1] has standard deviation 0.1/sqrt(3) = 0.0577; the smallest tensor here (a bias
        # of 8 or a peephole of 8) still keeps its sample std far from the default init's zeros and ones.
        assert float(param.std()) > 0.02, name
    # The default init leaves biases at zero (and the forget bias at 1): what init_range replaces.
    default = LanguageModel(cell=cell, vocab_size=50, embedding_dim=SMALL, hidden_size=SMALL, num_layers=2)
    assert any(float(p.abs().max()) > 0.1 or float(p.std()) == 0 for p in default.parameters())
    rebuilt = LanguageModel(**model.config)
    assert rebuilt.config["init_range"] == 0.1 and "init_range" not in default.config
    with pytest.raises(ValueError, match="init_range must be a positive number"):
        LanguageModel(init_range=0.0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_forecaster_point_and_gaussian(cell):
    window = torch.randn(4, 12, 2)
    point = Forecaster(cell=cell, input_size=2, horizon=5, output_size=1, hidden_size=SMALL)
    assert point(window, lengths=[12, 12, 8, 3]).shape == (4, 5, 1)
    mean, std = Forecaster(cell=cell, input_size=2, horizon=5, hidden_size=SMALL, gaussian=True)(window)
    assert mean.shape == std.shape == (4, 5, 2)
    assert bool((std > 0).all())


@pytest.mark.parametrize("gaussian", [False, True])
@pytest.mark.parametrize("cell", list(CELLS))
def test_last_value_forecaster_moves_with_the_window(cell, gaussian):
    torch.manual_seed(0)
    model = Forecaster(cell=cell, input_size=2, horizon=5, output_size=1, hidden_size=SMALL, gaussian=gaussian,
                       normalization="last_value")
    window, shift = torch.randn(4, 12, 2), torch.tensor([3.0, -7.0])
    lengths = [12, 9, 5, 1]
    before, after = model(window, lengths=lengths), model(window + shift, lengths=lengths)
    mean, shifted = (before[0], after[0]) if gaussian else (before, after)
    # Exact in real arithmetic; float32 rounding of values near 7 is ~1e-6.
    torch.testing.assert_close(shifted, mean + shift[0], atol=1e-5, rtol=0)
    if gaussian:
        torch.testing.assert_close(after[1], before[1], atol=1e-6, rtol=0)  # the spread does not depend on the level
    # The level is each row's own last valid step: moving a padded step must change nothing.
    padded = window.clone()
    padded[3, 1:] += 100.0
    torch.testing.assert_close(model(padded, lengths=lengths), before)
    # Without it the forecast does not follow the shift (so the test above can fail).
    plain = Forecaster(cell=cell, input_size=2, horizon=5, output_size=1, hidden_size=SMALL)
    assert not torch.allclose(plain(window + shift) - plain(window), torch.full((4, 5, 1), shift[0].item()),
                              atol=1e-3)


def test_forecaster_refuses_an_unknown_normalization():
    with pytest.raises(ValueError, match="normalization must be one of"):
        Forecaster(normalization="mean")
    with pytest.raises(ValueError, match="cannot exceed input_size"):
        Forecaster(input_size=1, output_size=2, normalization="last_value")


@pytest.mark.parametrize("task", list(TASKS))
def test_config_rebuilds_the_same_architecture(task):
    model = TASKS[task](cell="peephole_lstm", hidden_size=SMALL, cell_options={"forget_bias": 0.5})
    rebuilt = TASKS[task].from_config(model.config)
    assert rebuilt.config == model.config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    assert rebuilt.rnn.forget_bias == 0.5


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="unknown cell 'lstmm'.*gru"):
        PianoRollModel(cell="lstmm")
