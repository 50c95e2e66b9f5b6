"""A quantile forecaster's card says how its intervals were calibrated and what they cover on test (issue 25)."""

import json
from pathlib import Path

import rnnzoo
from rnnzoo.model_card import interval_lines


def _config(name: str) -> dict:
    return json.loads((Path(rnnzoo.__file__).parent / "weights" / name / "config.json").read_text())


def test_a_calibrated_bundled_forecaster_states_its_calibration_and_test_coverage():
    config = _config("quantile-forecaster-gru-20k.co2")
    info = config["pretrained"]
    text = "\n".join(interval_lines(config))
    # the numbers come from config.json's measured metrics, not from the card code
    assert f"covers {info['metrics']['coverage']:.3f} of the true values" in text
    assert f"before calibration it was {info['extra']['uncalibrated']['coverage']:.3f}" in text
    assert f"on the {info['extra']['calibration']['n_windows']} val windows" in text
    assert "nominal coverage 80%" in text and "below nominal" in text  # 0.640 against 0.80
    card = (Path(rnnzoo.__file__).parent / "weights" / "quantile-forecaster-gru-20k.co2" / "README.md").read_text()
    assert text.strip() in card  # the bundled card carries it


def test_other_models_get_no_interval_section():
    assert interval_lines(_config("forecaster-gru-20k.co2")) == []
    assert interval_lines(_config("vowels-gru-20k.japanese-vowels")) == []
