"""``rnnzoo predict MODEL INPUT``: the raw-input methods from the command line, on files a user would have."""

from __future__ import annotations

import numpy as np
import pytest

import rnnzoo
from rnnzoo.cli import main
from rnnzoo.data.timeseries import load_builtin_series


def test_forecast_from_a_csv_in_ppm(tmp_path, capsys):
    values = load_builtin_series("co2")[:120, 0]
    csv = tmp_path / "co2.csv"
    csv.write_text("year,co2\n" + "\n".join(f"{1958 + i / 12:.3f},{v}" for i, v in enumerate(values)) + "\n")
    # Two numeric columns and a one-feature model: the command says which to pick instead of guessing.
    with pytest.raises(SystemExit) as err:
        main(["predict", "forecaster-gru-20k.co2", str(csv)])
    assert err.value.code == 2 and "numeric columns ['year', 'co2']" in capsys.readouterr().err
    assert main(["predict", "forecaster-gru-20k.co2", str(csv), "--column", "co2", "--horizon", "12"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "step,forecast" and len(lines) == 13
    printed = np.array([float(line.split(",")[1]) for line in lines[1:]])
    expected = rnnzoo.load("forecaster-gru-20k.co2").forecast(values.astype(np.float32), horizon=12)
    assert np.allclose(printed, expected, rtol=1e-5)  # printed with 6 significant digits


def test_a_bad_cell_in_the_csv_names_the_fix(tmp_path, capsys):
    csv = tmp_path / "co2.csv"
    csv.write_text("co2\n" + "\n".join(["315.7"] * 30 + ["12.3x"] + ["316.0"] * 30) + "\n")
    with pytest.raises(SystemExit):
        main(["predict", "forecaster-gru-20k.co2", str(csv), "--column", "co2"])
    assert "non-numeric values in ['co2']" in capsys.readouterr().err


def test_generate_and_perplexity(tmp_path, capsys):
    assert main(["predict", "wordlm-lstm-4600k.ptb", "the", "market", "--max-new-tokens", "8", "--seed", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the market ")
    assert text.strip() == rnnzoo.load("wordlm-lstm-4600k.ptb").generate("the market", 8, seed=0).strip()
    story = tmp_path / "story.txt"
    story.write_text("the company said it expects sales to rise\n")
    assert main(["predict", "wordlm-lstm-4600k.ptb", str(story), "--perplexity"]) == 0
    value = float(capsys.readouterr().out.split()[-1])
    assert value == pytest.approx(rnnzoo.load("wordlm-lstm-4600k.ptb").perplexity(story.read_text()), rel=1e-4)


def test_classify_npy_files(tmp_path, capsys):
    from rnnzoo.data.speech.japanese_vowels import load_japanese_vowels

    cases, labels = load_japanese_vowels()["test"]
    paths = []
    for i in (0, 100, 200):
        paths.append(tmp_path / f"utterance{i}.npy")
        np.save(paths[-1], cases[i])
    assert main(["predict", "vowels-gru-20k.japanese-vowels", *map(str, paths)]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    expected = rnnzoo.load("vowels-gru-20k.japanese-vowels").classify([cases[i] for i in (0, 100, 200)])
    assert [r[1] for r in rows] == expected and all(0 < float(r[2]) <= 1 for r in rows)


def test_sample_music_to_midi(tmp_path, capsys):
    out = tmp_path / "piece.mid"
    assert main(["predict", "pianoroll-lstm-20k.jsb", "--steps", "16", "--seed", "2", "--out", str(out)]) == 0
    assert out.stat().st_size > 0 and "wrote 16 frames" in capsys.readouterr().out


def test_unknown_model_is_a_clean_error(capsys):
    with pytest.raises(SystemExit) as err:
        main(["predict", "forecaster-gru-20k.nope", "x.csv"])
    assert err.value.code == 2 and "has no weights tagged 'nope'" in capsys.readouterr().err
