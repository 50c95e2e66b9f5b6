"""Every bundled entry on raw input in its users' units: the raw-input method reproduces the card's metric.

The expected numbers are the cards' (measured by `rnnzoo compare` through the Lightning test loop on the
DataModules, scripts/bundle_weights.py); here the same quantities are computed again from raw data only — CO2 in
ppm, the PTB test text, the JapaneseVowels test cepstra with their speaker names, the chorales' rolls — through
`forecast`, `perplexity`, `accuracy`/`classify` and `nll`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnzoo
from rnnzoo.data.splits import chronological_split
from rnnzoo.data.timeseries import load_builtin_series
from rnnzoo.data.timeseries.windows import make_windows
from rnnzoo.tasks import PreprocessingError
from rnnzoo.weights import BUNDLED


def entries(dataset: str):
    return [info for info in BUNDLED if info.dataset == dataset]


def ids(info):
    return info.name


# ------------------------------------------------------------------------------------------------ forecasters
def co2_test_windows() -> tuple[np.ndarray, np.ndarray]:
    """The 56 test windows of the CO2 entries in ppm: 48 months of history, the 24 after them."""
    values = load_builtin_series("co2")  # (T, 1) ppm, as statsmodels ships it
    test = chronological_split(len(values), (0.7, 0.15, 0.15))[2]
    return make_windows(values[test.start - 48:test.stop], 48, 24, 1)


@pytest.mark.parametrize("info", entries("statsmodels_co2_monthly"), ids=ids)
def test_forecast_in_ppm_gives_the_cards_mae(info):
    model = rnnzoo.load(info.name)
    histories, futures = co2_test_windows()
    assert len(histories) == 56
    forecasts = model.forecast(list(histories))  # (56, 24) ppm
    assert forecasts.shape == (56, 24)
    mae = float(np.abs(forecasts - futures[..., 0]).mean())
    # The card's MAE unscaled the model's scaled output in torch and compared it with the unscaled scaled target;
    # here both sides are in ppm from the start. float32 rounding of values near 360 ppm is ~3e-5 ppm per value
    # against an MAE of ~0.7 ppm: a relative 1e-4 covers it.
    assert mae == pytest.approx(info.metrics["mae"], rel=1e-4)
    one = model.forecast(histories[0][:, 0])  # a plain (T,) history gives (horizon,)
    assert one.shape == (24,) and np.allclose(one, forecasts[0], atol=1e-4)


@pytest.mark.parametrize("info", entries("statsmodels_co2_monthly"), ids=ids)
def test_co2_forecasters_move_with_a_shift(info):
    model = rnnzoo.load(info.name)
    # last_value: y = last + f(x - last); seasonal_difference: y = last season + g(differences), which a shift
    # leaves alone
    assert model.normalization in ("last_value", "seasonal_difference")
    history = co2_test_windows()[0][3]
    for shift in (-50.0, 12.5, 100.0):
        # y = last + f(x - last) in scaled units is exactly shift-equivariant; the scaling adds float32 rounding
        # of ~400 ppm values (~3e-5 each, through a 20k-parameter network): 2e-3 ppm is far below any forecast
        # difference that matters and far above that noise.
        assert np.allclose(model.forecast(history + shift), model.forecast(history) + shift, atol=2e-3)


def test_longer_history_is_cut_to_the_input_length():
    model = rnnzoo.load("forecaster-gru-20k.co2")
    values = load_builtin_series("co2")[:, 0]
    assert np.array_equal(model.forecast(values[:300]), model.forecast(values[300 - 48:300]))
    assert model.forecast(values[:300], horizon=6).shape == (6,)


# ----------------------------------------------------------------------------------- quantile forecasters
#: dataset -> (builtin series, input length, test windows): the compare presets' windows (horizon 24, stride 1)
QUANTILE_SERIES = {"statsmodels_co2_monthly": ("co2", 48, 56), "statsmodels_sunspots_yearly": ("sunspots", 33, 23)}
LEVELS = [0.1, 0.5, 0.9]
QUANTILE_ENTRIES = [info for info in BUNDLED if info.architecture.startswith(("quantile-forecaster-",
                                                                             "sdiff-quantile-forecaster-"))]


def series_test_windows(source: str, input_length: int, horizon: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """The test windows of a built-in series in its own units (the DataModule's 70/15/15 chronological split)."""
    values = load_builtin_series(source)  # (T, 1): ppm, sunspot numbers
    test = chronological_split(len(values), (0.7, 0.15, 0.15))[2]
    return make_windows(values[test.start - input_length:test.stop], input_length, horizon, 1)


def test_quantile_forecasters_are_bundled_for_co2_and_sunspots():
    assert {(i.dataset, i.tag) for i in QUANTILE_ENTRIES} >= {("statsmodels_co2_monthly", "co2"),
                                                               ("statsmodels_sunspots_yearly", "sunspots")}
    assert len(QUANTILE_ENTRIES) == 16  # the four cells on each, window-relative and seasonal-difference
    assert all("coverage" in i.extra["uncalibrated"] for i in QUANTILE_ENTRIES)  # every one calibrated


@pytest.mark.parametrize("info", QUANTILE_ENTRIES, ids=ids)
def test_quantile_forecasts_in_raw_units_give_the_cards_metrics(info):
    source, input_length, count = QUANTILE_SERIES[info.dataset]
    model = rnnzoo.load(info.name)
    assert model.quantiles == LEVELS
    histories, futures = series_test_windows(source, input_length)
    truth = futures[..., 0]  # (count, 24) in ppm / sunspot numbers
    bands = model.forecast(list(histories), quantiles=LEVELS)  # (count, 24, 3), same units
    assert bands.shape == (count, 24, 3)
    diff = truth[..., None] - bands
    pinball = float(np.maximum(np.array(LEVELS) * diff, (np.array(LEVELS) - 1) * diff).mean())
    mae = float(np.abs(bands[..., 1] - truth).mean())
    coverage = float(((bands[..., 0] <= truth) & (truth <= bands[..., 2])).mean())
    # The card's numbers came from the Lightning test loop: the scaled output unscaled in float32 torch against
    # the unscaled scaled target. Here the quantiles are decoded by the scaler and the truth is the raw series:
    # float32 rounding of ~400 ppm (~190 sunspots) values, ~3e-5 relative per value, against MAEs of ~0.7 ppm
    # (~20 sunspots): a relative 1e-4 covers it, as for the point forecasters above.
    assert mae == pytest.approx(info.metrics["mae"], rel=1e-4)
    assert pinball == pytest.approx(info.metrics["pinball"], rel=1e-4)
    assert 2 * pinball == pytest.approx(info.metrics["crps"], rel=1e-4)  # the card's CRPS: 2 x mean pinball
    # Coverage counts truths inside [q0.1, q0.9]: that rounding could move one truth lying within ~1e-4 of a bound
    # across it, so one value of the count*24 is allowed (the measured counts agree exactly).
    assert coverage == pytest.approx(info.metrics["coverage"], abs=1 / truth.size + 1e-9)
    assert np.all(bands[..., 0] <= bands[..., 1]) and np.all(bands[..., 1] <= bands[..., 2])  # not crossing
    # The point forecast of a quantile model is its median; one plain history gives (horizon, Q).
    assert np.allclose(model.forecast(list(histories)), bands[..., 1], atol=1e-4)
    one = model.forecast(histories[0][:, 0], quantiles=[0.9, 0.1])
    assert one.shape == (24, 2) and np.allclose(one, bands[0][:, [2, 0]], atol=1e-4)


@pytest.mark.parametrize("level", [0.05, 0.25, 0.95])
def test_quantile_forecasters_refuse_levels_they_were_not_trained_with(level):
    info = next(i for i in QUANTILE_ENTRIES if i.tag == "co2")
    model = rnnzoo.load(info.name)
    history = load_builtin_series("co2")[:48, 0]
    with pytest.raises(PreprocessingError, match=r"trained for the levels \[0\.1, 0\.5, 0\.9\].*interpolate"):
        model.forecast(history, quantiles=[0.1, level])


# ---------------------------------------------------------------------------------------------- word models
@pytest.fixture(scope="module")
def ptb_test_text() -> str:
    from rnnzoo.data.text.ptb import load_ptb_texts

    return load_ptb_texts()["test"]


@pytest.mark.parametrize("info", entries("ptb_word"), ids=ids)
def test_perplexity_of_the_ptb_test_text_gives_the_cards(info, ptb_test_text):
    model = rnnzoo.load(info.name)
    # The card was measured with the recipe's 20 rows of 20-token windows: the same batching reproduces it up
    # to float32 summation order (measured: relative 1e-8).
    assert model.perplexity(ptb_test_text, batch_size=20, bptt=20) == pytest.approx(info.metrics["ppl"], rel=1e-5)
    # One stream (the default) keeps the state across the 20 row starts the card's batching resets and predicts
    # the ~20 row tails it drops: measured -0.17% (LSTM), -0.12% (RNN), +0.51% (peephole LSTM: its states drift
    # over 82k steps without a reset); 1% bounds that difference.
    assert model.perplexity(ptb_test_text) == pytest.approx(info.metrics["ppl"], rel=1e-2)


def test_generate_is_seeded_and_continues_the_prompt():
    model = rnnzoo.load("wordlm-lstm-4600k.ptb")
    text = model.generate("the company said", max_new_tokens=12, seed=3)
    assert text.startswith("the company said ") and len(text.split()) >= 3 + 12 - 12  # <eos> become line breaks
    assert text == model.generate("the company said", max_new_tokens=12, seed=3)
    assert text != model.generate("the company said", max_new_tokens=12, seed=4)
    greedy = model.generate("the company said", max_new_tokens=5, temperature=0)
    assert greedy == model.generate("the company said", max_new_tokens=5, temperature=0, seed=99)


# ------------------------------------------------------------------------------------------------ classifiers
@pytest.mark.parametrize("info", entries("uea_japanese_vowels"), ids=ids)
def test_classify_the_japanese_vowels_test_set_gives_the_cards_accuracy(info):
    from rnnzoo.data.speech.japanese_vowels import load_japanese_vowels

    cases, labels = load_japanese_vowels()["test"]  # raw LPC cepstra (T_i, 12), speakers 0..8
    model = rnnzoo.load(info.name)
    names = [str(label + 1) for label in labels]  # the data set's own speaker names, "1".."9"
    assert model.classes == [str(i) for i in range(1, 10)]
    # An accuracy over 370 sequences is a count / 370: equal, or off by a whole sequence (1/370 = 0.0027).
    assert model.accuracy(cases, names) == pytest.approx(info.metrics["acc"], abs=1e-6)
    predicted = model.classify(cases[:5])
    proba = model.predict_proba(cases[:5])
    assert proba.shape == (5, 9) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert predicted == [model.classes[i] for i in proba.argmax(1)]


# ------------------------------------------------------------------------------------------------ piano rolls
@pytest.fixture(scope="module")
def jsb_test_rolls() -> list[np.ndarray]:
    from rnnzoo.data import PianoRollDataModule

    data = PianoRollDataModule(batch_size=16)
    data.setup()
    return [item["roll"].numpy() for item in data.datasets["test"]]


@pytest.mark.parametrize("info", entries("jsb_chorales_music21"), ids=ids)
def test_nll_of_the_test_chorales_gives_the_cards(info, jsb_test_rolls):
    model = rnnzoo.load(info.name)
    # Same frames, same masking as the Lightning test loop, in one padded batch instead of 16-piece ones:
    # float32 summation order only (relative 1e-6); 1e-4 as in test_pretrained_zoo.
    assert model.nll(jsb_test_rolls) == pytest.approx(info.metrics["nll"], rel=1e-4)


def test_nll_reads_frames_of_midi_notes_as_the_roll_they_spell(jsb_test_rolls):
    model = rnnzoo.load("pianoroll-lstm-20k.jsb")
    roll = jsb_test_rolls[0]
    frames = model.preprocessing.decode(roll)
    assert all(21 <= n <= 108 for frame in frames for n in frame)
    assert model.nll(frames) == pytest.approx(model.nll(roll), rel=1e-6)


def test_sample_is_seeded_binary_and_writes_midi(tmp_path):
    model = rnnzoo.load("pianoroll-gru-20k.jsb")
    roll = model.sample(24, seed=1, midi_path=tmp_path / "s.mid")
    assert roll.shape == (24, 88) and set(np.unique(roll)) <= {0.0, 1.0}
    assert np.array_equal(roll, model.sample(24, seed=1))
    # A model trained on four-voice chorales sounds a few keys per frame, not none and not dozens.
    assert 1 <= roll.sum(1).mean() <= 8
    from music21 import converter

    notes = list(converter.parse(str(tmp_path / "s.mid")).flatten().notes)
    assert notes and all(21 <= p.midi <= 108 for n in notes for p in n.pitches)


# ---------------------------------------------------------------------------------------------- bad raw input
@pytest.fixture(scope="module")
def forecaster():
    return rnnzoo.load("forecaster-lstm-20k.co2")


def test_bad_histories_say_what_to_do(forecaster):
    good = load_builtin_series("co2")[:60, 0]
    with pytest.raises(PreprocessingError, match="has 30 steps.*reads windows of 48.*at least 48"):
        forecaster.forecast(good[:30])
    with pytest.raises(PreprocessingError, match="2 features per step, the model reads 1"):
        forecaster.forecast(np.stack([good, good], 1))
    with_gap = good.copy()
    with_gap[17] = np.nan
    with pytest.raises(PreprocessingError, match=r"history\[17, 0\] is nan.*interpolate"):
        forecaster.forecast(with_gap)
    with pytest.raises(PreprocessingError, match="must be numbers"):
        forecaster.forecast(["315.7"] * 47 + ["12.3x"])
    with pytest.raises(PreprocessingError, match="horizon=30: this model predicts 1 to 24"):
        forecaster.forecast(good, horizon=30)
    with pytest.raises(PreprocessingError, match="out of range.*1 series"):
        forecaster.forecast(good, series=3)


def test_untrained_models_say_they_need_preprocessing():
    with pytest.raises(PreprocessingError, match="forecast\\(\\) needs the preprocessing.*rnnzoo fit"):
        rnnzoo.create_model("forecaster-gru-20k").forecast(np.zeros(48))


def test_bad_text_input():
    model = rnnzoo.load("wordlm-gru-4600k.ptb")
    with pytest.raises(PreprocessingError, match="prompt is empty"):
        model.generate("   ")
    with pytest.raises(PreprocessingError, match="temperature must be >= 0"):
        model.generate("the", temperature=-1)
    with pytest.warns(UserWarning, match="1 of 4 word tokens .* not in the model's 10000-token vocabulary.*'zzyzx'") as seen:
        model.perplexity("the zzyzx company")
    assert len(seen) == 1  # said once per call, not once per token
    with pytest.raises(PreprocessingError, match="too few for 20 rows"):
        model.perplexity("the company said", batch_size=20)


def test_bad_sequences_and_labels():
    model = rnnzoo.load("vowels-lstm-20k.japanese-vowels")
    with pytest.raises(PreprocessingError, match=r"sequences\[1\] has 13 features per step, the model reads 12"):
        model.classify([np.zeros((20, 12)), np.zeros((20, 13))])
    with pytest.raises(PreprocessingError, match="unknown label 'ten'.*classes are \\['1', '2'"):
        model.accuracy([np.zeros((20, 12))], ["ten"])
    with pytest.raises(PreprocessingError, match="trained on given features .* cannot read a.wav"):
        model.classify("a.wav")
    with pytest.raises(PreprocessingError, match="sequence is empty"):
        model.classify(np.zeros((0, 12)))


def test_an_empty_batch_and_a_zero_batch_size_are_named():
    model = rnnzoo.load("vowels-lstm-20k.japanese-vowels")
    # An empty list is no sequences (not one sequence of no steps), however the batch comes
    for empty in ([], (), np.zeros((0, 20, 12))):
        with pytest.raises(PreprocessingError, match=r"no sequences given: pass one sequence .* or a list of them"):
            model.classify(empty)
    with pytest.raises(PreprocessingError, match=r"batch_size must be a whole number >= 1, got 0"):
        model.predict_proba(np.zeros((20, 12)), batch_size=0)
    assert model.predict_proba([np.zeros((20, 12))] * 3, batch_size=2).shape == (3, 9)


def test_bad_pieces():
    model = rnnzoo.load("pianoroll-rnn-20k.jsb")
    with pytest.raises(PreprocessingError, match="frame 1: 200 is not a MIDI note number in 21..108"):
        model.nll([[60, 64], [200]])
    with pytest.raises(PreprocessingError, match=r"a roll must be \(frames, 88\)"):
        model.nll(np.zeros((5, 12)))
    with pytest.raises(PreprocessingError, match="holds 0 \\(off\\) and 1 \\(on\\) only"):
        model.nll(np.full((5, 88), 0.5))


# ---------------------------------------------------------------------------------------------- the mixin
def test_models_have_the_hugging_face_methods(tmp_path):
    from rnnzoo.tasks import Forecaster, LanguageModel

    model = rnnzoo.load("forecaster-rnn-20k.co2")
    folder = model.save_pretrained(tmp_path / "m")
    again = Forecaster.from_pretrained(folder)
    history = co2_test_windows()[0][0]
    assert np.array_equal(again.forecast(history), model.forecast(history))  # the scaler travelled too
    assert Forecaster.from_pretrained("forecaster-rnn-20k.co2").preprocessing == model.preprocessing
    with pytest.raises(TypeError, match="is a Forecaster .*not a LanguageModel"):
        LanguageModel.from_pretrained(str(folder))
    with torch.no_grad():
        assert torch.equal(again(torch.ones(1, 48, 1)), model(torch.ones(1, 48, 1)))
