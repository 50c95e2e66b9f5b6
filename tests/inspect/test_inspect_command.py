"""``inspect_main``: the ``rnnzoo inspect`` command's own argument parsing and files."""

import json

import numpy as np
import pytest

from rnnzoo.inspect.command import inspect_main


def test_synthetic_input(tmp_path, capsys):
    assert inspect_main(["pianoroll-gru-20k", "--out", str(tmp_path), "--steps", "16", "--max-lag", "5"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["input_steps"] == 16 and len(report["gradient_lag"]["norm"]) == 6
    assert {p.name for p in tmp_path.iterdir()} == {"gates_layer_0.png", "gate_stats.png", "gradient_lag.png",
                                                   "report.json"}
    assert "untrained" in capsys.readouterr().out


def test_npy_input_for_a_forecaster(tmp_path):
    series = np.sin(np.arange(20) / 3.0).astype(np.float32)
    np.save(tmp_path / "window.npy", series)
    assert inspect_main(["forecaster-lstm-20k", "--input", str(tmp_path / "window.npy"),
                         "--out", str(tmp_path / "out"), "--max-lag", "5"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["input_steps"] == 20 and report["input"].startswith("array from")


def test_text_input_for_a_byte_level_language_model(tmp_path):
    assert inspect_main(["charlm-rnn-1m", "--text", "hello", "--out", str(tmp_path), "--max-lag", "3"]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["input_steps"] == 5


def test_unknown_input_kind_is_refused(tmp_path):
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match=".npy array or a .txt file"):
        inspect_main(["pianoroll-rnn-20k", "--input", str(tmp_path / "x.csv"), "--out", str(tmp_path)])
