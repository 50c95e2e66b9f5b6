"""The automatic baselines' form searched at every K-th origin (``compare --reselect-every K``): the kept form
refits to what the search would give on the same history, block starts are searched as before, and the blocks keep
the form their first origin chose."""

from __future__ import annotations

import numpy as np
import pytest

from rnnzoo.baselines.auto_models import AUTO_MODELS, FALLBACK, fit_and_forecast, fit_origins, model_form, _fit
from rnnzoo.compare.statistical_baselines import split_origins, statistical_baselines
from rnnzoo.data.timeseries.builtin_series import load_builtin_series

CO2 = load_builtin_series("co2")[:, 0].astype(np.float64)


@pytest.mark.parametrize("name", AUTO_MODELS)
def test_the_kept_form_refits_to_the_searched_models_forecast(name):
    history = CO2[:300]
    searched, _, chosen = _fit(name, history, 12, 24, None, None)
    form = model_form(name, chosen)
    assert form is not None
    refitted, _, described = fit_and_forecast(name, history, 12, 24, form=form)
    # The same form estimated on the same values by the same optimiser from the same start: equal up to the
    # optimiser's float noise (CO2 is ~350 ppm; 1e-6 relative is far below a forecast's error of ~0.5 ppm).
    np.testing.assert_allclose(refitted, searched, rtol=1e-6)
    assert described == fit_and_forecast(name, history, 12, 24)[2]


def test_blocks_keep_their_first_origins_form_and_start_with_a_search():
    # stride 12: 5 validation and 5 test origins; blocks of 3 origins: searched at the 1st and 4th of each split
    proportions, horizon, stride = (0.7, 0.15, 0.15), 24, 12
    every = statistical_baselines(CO2, proportions, 48, horizon, stride, 12)
    blocks = statistical_baselines(CO2, proportions, 48, horizon, stride, 12, reselect_every=3)
    for name in (*AUTO_MODELS, "statistical median"):
        for split in ("items", "val_items"):
            a, b = every[name][split]["mae"]["num"], blocks[name][split]["mae"]["num"]
            assert len(a) == len(b) == 5
            assert (a[0], a[3]) == pytest.approx((b[0], b[3]), rel=1e-6), (name, split)  # searched there
    for name in ("naive", "drift"):  # not fitted: untouched
        assert blocks[name]["scores"] == every[name]["scores"]
    # on test, each automatic model's blocks of 3 and 2 origins kept one form each
    for name in AUTO_MODELS:
        (chosen,) = blocks[name]["chosen"]
        assert sum(chosen.values()) == 5 and FALLBACK not in chosen
        assert sorted(chosen.values()) in ([5], [2, 3]), chosen


def test_a_block_too_short_to_fit_falls_back_then_searches_at_the_next_origin():
    values = np.asarray(CO2[:60])
    forecasts = fit_origins(("AutoETS", values, [5, 40, 41], 12, 3, None))
    assert [f[2] for f in forecasts][0] == FALLBACK and forecasts[0][0].tolist() == [values[4]] * 3
    assert forecasts[1][2] != FALLBACK and forecasts[2][2] == forecasts[1][2]  # searched at 40, kept at 41
    np.testing.assert_allclose(forecasts[1][0], fit_and_forecast("AutoETS", values[:40], 12, 3)[0], rtol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_reselect_every_must_be_a_whole_number_of_origins(bad):
    from rnnzoo.compare.errors import CompareOptionError
    from rnnzoo.compare.options import CompareOptions

    with pytest.raises(ValueError, match="reselect_every"):
        statistical_baselines(CO2[:100], (0.7, 0.15, 0.15), 12, 6, 6, 12, reselect_every=bad)
    with pytest.raises(CompareOptionError, match="reselect_every"):
        CompareOptions(reselect_every=bad).check()


def test_the_command_line_passes_reselect_every():
    from rnnzoo.compare.command import build_parser

    assert build_parser().parse_args(["--data", "co2"]).reselect_every == 1
    assert build_parser().parse_args(["--data", "co2", "--reselect-every", "12"]).reselect_every == 12
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--data", "co2", "--reselect-every", "0"])
