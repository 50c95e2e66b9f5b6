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
    assert "column 'co2' is numbers except row 30, '12.3x'; fix that cell" in capsys.readouterr().err


def test_generate_and_perplexity(tmp_path, capsys):
    assert main(["predict", "wordlm-lstm-4600k.ptb", "the", "market", "--max-new-tokens", "8", "--seed", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the market ")
    assert text.strip() == rnnzoo.load("wordlm-lstm-4600k.ptb").generate("the market", 8, seed=0).strip()
    story = tmp_path / "story.txt"
    story.write_text("the company said it expects sales to rise\n")
    assert main(["predict", "wordlm-lstm-4600k.ptb", str(story), "--perplexity"]) == 0
    value = float(capsys.readouterr().out.split()[1])  # "perplexity X (k of n word tokens ... read as <unk> ...)"
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


def test_quantiles_of_a_bundled_quantile_forecaster(tmp_path, capsys):
    values = load_builtin_series("co2")[:120, 0]
    csv = tmp_path / "co2.csv"
    csv.write_text("co2\n" + "\n".join(str(v) for v in values) + "\n")
    name = "sdiff-quantile-forecaster-gru-20k.co2"
    assert main(["predict", name, str(csv), "--quantiles", "0.9", "0.1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "step,forecast_q0.9,forecast_q0.1" and len(lines) == 25
    printed = np.array([[float(x) for x in line.split(",")[1:]] for line in lines[1:]])
    expected = rnnzoo.load(name).forecast(values.astype(np.float32), quantiles=[0.9, 0.1])  # (24, 2)
    assert np.allclose(printed, expected, rtol=1e-5) and np.all(printed[:, 0] >= printed[:, 1])
    with pytest.raises(SystemExit) as err:  # a point forecaster has no quantiles: the error says so
        main(["predict", "forecaster-gru-20k.co2", str(csv), "--quantiles", "0.1"])
    assert err.value.code == 2 and "point forecaster" in capsys.readouterr().err


def test_future_covariates_from_a_table(tmp_path, capsys):
    import pandas as pd
    import torch

    from rnnzoo.data.timeseries import TimeSeriesDataModule
    from rnnzoo.tasks.forecaster import Forecaster

    rng = np.random.default_rng(0)
    u = rng.normal(size=200)
    data = np.stack([10 + 3 * u, u], 1).astype(np.float32)
    dm = TimeSeriesDataModule(data, input_length=8, horizon=4, num_targets=1, num_future=1, future_columns=["u"])
    dm.setup("fit")
    torch.manual_seed(0)
    model = Forecaster("gru", input_size=2, output_size=1, horizon=4, hidden_size=8, num_future=1)
    model.preprocessing = dm.preprocessing
    folder = rnnzoo.save_pretrained(model, tmp_path / "model", preprocessing=model.preprocessing)
    history = data[-8:]
    np.save(tmp_path / "history.npy", history)
    ahead = pd.DataFrame({"week": pd.date_range("2026-01-05", periods=4, freq="W-MON"), "u": [1.0, -1.0, 0.5, 2.0]})
    ahead.to_csv(tmp_path / "future.csv", index=False)
    assert main(["predict", str(folder), str(tmp_path / "history.npy"), "--future", str(tmp_path / "future.csv"),
                 "--future-time-column", "week"]) == 0
    printed = np.array([float(line.split(",")[1]) for line in capsys.readouterr().out.strip().splitlines()[1:]])
    assert np.allclose(printed, model.forecast(history, future=ahead[["u"]].to_numpy()), rtol=1e-5)
    with pytest.raises(SystemExit) as err:  # the model needs them: without --future, the error names the columns
        main(["predict", str(folder), str(tmp_path / "history.npy")])
    assert err.value.code == 2 and "['u']" in capsys.readouterr().err
