"""``rnnzoo compare`` on the user's own data — a CSV it writes, WAVs it synthesises, a text file — with a verdict
whose numbers are recomputed here from results.json, and the errors a new user meets."""

from __future__ import annotations

import json
import math
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnzoo.compare import compare
from rnnzoo.compare.command import compare_main
from rnnzoo.compare.user_data import SeriesOptions
from rnnzoo.data.errors import DataError

pytestmark = pytest.mark.slow  # real training runs: `pytest -m "not slow"` skips them for a quick pass

FAST = dict(seeds=(0, 1), threads=1, deterministic=True, log=lambda line: None)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def monthly_csv(path, values, **columns):
    frame = pd.DataFrame({"month": pd.date_range("2001-01-01", periods=len(values), freq="MS").strftime("%Y-%m-%d"),
                          "y": values, **columns})
    frame.to_csv(path, index=False)
    return path


def check_verdict(results: dict) -> dict:
    """Recompute the verdict's numbers from results.json's runs, items and baselines: the choice from the
    validation items only, the reported differences from the test items."""
    saved = json.loads(open(results["files"]["results_json"]).read())
    verdict = saved["verdict"]
    metric, mode = verdict["metric"], verdict["mode"]
    sign = 1 if mode == "min" else -1
    by_cell: dict[str, list] = {}
    for run in saved["runs"]:
        by_cell.setdefault(run["cell"], []).append(run)
    transform = math.exp if metric == "ppl" else (lambda x: x)

    def item_metric(run, key="items"):  # the run's metric from its per-item sums: what the bootstrap resamples
        items = run[key][metric]
        return transform(sum(items["num"]) / sum(items["den"]))

    assert verdict["chosen_on"] == "validation"
    val_means = {cell: np.mean([item_metric(r, "val_items") for r in rs]) for cell, rs in by_cell.items()}
    assert [row["cell"] for row in verdict["ranking"]] == sorted(val_means, key=lambda c: sign * val_means[c])
    for row in verdict["ranking"]:
        values = [r["test"][metric] for r in by_cell[row["cell"]]]
        assert row["mean"] == pytest.approx(np.mean(values)) and row["std"] == pytest.approx(np.std(values, ddof=1))
        assert row["val_mean"] == pytest.approx(val_means[row["cell"]], rel=1e-12)
    for run in saved["runs"]:  # the items reproduce each run's Lightning test metric
        # float32 metric states against float64 sums of per-item float32 scores: 1e-4 relative
        assert item_metric(run) == pytest.approx(run["test"][metric], rel=1e-4)
    best = verdict["ranking"][0]["cell"]
    seeds = len(by_cell[best])
    for c in verdict["comparisons"]:
        point = np.mean([item_metric(r) for r in by_cell[best]]) - np.mean([item_metric(r) for r in by_cell[c["other"]]])
        assert c["difference"] == pytest.approx(point, rel=1e-9, abs=1e-12)
        low, high = c["ci95"]
        assert low <= c["difference"] <= high
        excludes_zero = high < 0 if mode == "min" else low > 0
        assert (c["conclusion"] == "better") == (excludes_zero and seeds >= 2 and c["items"] >= 30)
    for cell, cost in verdict["cost"].items():
        assert cost["params"] == by_cell[cell][0]["num_params"] and cost["inference_ms_per_step"] > 0
        assert cost["train_seconds_per_epoch"] == pytest.approx(np.mean([r["seconds_per_epoch"] for r in by_cell[cell]]))
    if "best_baseline" in verdict:
        b = verdict["best_baseline"]
        val_scores = saved["baseline_val_scores"]
        assert b["other"] == min(val_scores, key=lambda k: sign * val_scores[k][metric])  # chosen on validation
        items = saved["baseline_items"][b["other"]][metric]
        assert b["baseline_value"] == pytest.approx(transform(sum(items["num"]) / sum(items["den"])), rel=1e-9)
        network = np.mean([item_metric(r) for r in by_cell[best]])
        assert b["difference"] == pytest.approx(network - b["baseline_value"], rel=1e-9, abs=1e-12)
        val_items = saved["baseline_val_items"][b["other"]][metric]
        val_network = np.mean([item_metric(r, "val_items") for r in by_cell[best]])
        assert b["validation"]["difference"] == pytest.approx(
            val_network - transform(sum(val_items["num"]) / sum(val_items["den"])), rel=1e-9, abs=1e-12)
        # a network is recommended only where it beats the baseline on validation by the interval
        assert (verdict["recommended"]["kind"] == "cell") == (b["validation"]["conclusion"] == "better")
    text = open(results["files"]["results_md"]).read()
    assert text.startswith("## Verdict") and f"**Recommended: {verdict['recommended']['choice']}**" in text
    assert "Chosen on the validation split; the test split reports and picked nothing." in text
    return verdict


def test_a_seasonal_csv_with_a_trend_gets_a_verdict_and_a_baseline_recommendation(tmp_path, store):
    # Trend + yearly cycle + noise: exactly what seasonal ARIMA and ETS model. Small networks trained for 20 epochs
    # do not beat them, and the verdict says to use the statistical model.
    rng = np.random.default_rng(0)
    t = np.arange(240)
    csv = monthly_csv(tmp_path / "sales.csv", 100 + 0.3 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 240))
    results = compare(str(csv), cells=("rnn", "gru"), max_epochs=20, out_dir=tmp_path / "out", tracking_uri=store,
                      series_options=SeriesOptions(target=["y"], time_column="month", horizon=12), **FAST)
    user = results["meta"]["user_data"]
    assert user["kind"] == "timeseries" and user["frequency"] == "MS" and user["season"] == 12
    assert user["horizon"] == 12 and user["input_length"] == 24  # max(2 x 12, 2 x 12, 8)
    plan = results["meta"]["plan"]  # every choice, with its rule, printed before training and in results.md
    for line in ("forecast: ['y']", "time column: month; frequency MS",
                 "season: 12 (from --season, else the time column's frequency, else 1)", "horizon: 12 (from --horizon",
                 "input length: 24 (max(2 season", "cells: rnn, gru; seeds: 0, 1",
                 "choice: on the validation split; the test split only reports"):
        assert any(entry.startswith(line) for entry in plan), line
    assert "## Plan\n\n" + "\n".join(f"- {entry}" for entry in plan) in (tmp_path / "out" / "results.md").read_text()
    verdict = check_verdict(results)
    assert verdict["metric"] == "mae"
    assert {"seasonal naive (m=12)", "AutoETS", "AutoARIMA", "AutoTheta", "statistical median"} <= set(results["baselines"])
    assert verdict["recommended"]["kind"] == "baseline", verdict["recommended"]
    # The recommendation can be acted on: the baseline is saved, and its test score is recomputed from the saved
    # folder alone, refitted at each test origin on the CSV's history up to it, read by column name and date.
    choice = verdict["recommended"]["choice"]
    folder = results["saved_baselines"][choice]
    assert results["use"]["command"] == f"rnnzoo predict {folder} history.csv"
    assert f"## Use it\n\nThe recommended choice, {choice}:\n\n```\nrnnzoo predict {folder} history.csv" in \
        (tmp_path / "out" / "results.md").read_text()
    import rnnzoo
    from rnnzoo.compare.statistical_baselines import split_origins

    baseline = rnnzoo.load(folder)
    table = pd.read_csv(csv)
    origins = split_origins(len(table), (0.7, 0.15, 0.15), 12, 1)
    truth = table["y"].to_numpy(np.float32).astype(np.float64)  # the comparison reads values as float32
    errors = [np.abs(np.asarray(baseline.forecast(table.iloc[:o])) - truth[o:o + 12]).mean() for o in origins]
    assert np.mean(errors) == pytest.approx(results["baselines"][choice]["mae"], rel=1e-9)
    assert str(baseline.forecast(table).index[0].date()) == str(
        (pd.Timestamp(table["month"].iloc[-1]) + pd.offsets.MonthBegin(1)).date())  # dated the month after
    from rnnzoo.predict_command import predict_main

    predict_main([folder, str(csv), "--out", str(tmp_path / "forecast.csv")])
    written = pd.read_csv(tmp_path / "forecast.csv")
    assert list(written.columns) == ["step", "date", "y"] and len(written) == 12
    assert np.allclose(written["y"], np.asarray(baseline.forecast(table)), rtol=1e-5)  # CSV keeps 6 digits
    for name in ("results.md", "results.json", "curves.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    # MLflow's artifacts live next to the SQLite store, not in the working directory
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(tracking_uri=store).get_experiment_by_name("rnnzoo-compare")
    assert experiment.artifact_location == (Path(store.removeprefix("sqlite:///")).parent / "mlartifacts").as_uri()


def test_a_network_clearly_wins_on_nonlinear_dynamics(tmp_path, store):
    # A noisy logistic map: x' = 3.8 x (1 - x). Linear models (ARIMA, ETS) cannot follow it one step ahead;
    # a recurrent network learns the parabola from its window.
    rng = np.random.default_rng(1)
    x = np.empty(500)
    x[0] = 0.3
    for i in range(1, 500):
        x[i] = np.clip(3.8 * x[i - 1] * (1 - x[i - 1]) + rng.normal(0, 0.005), 0.001, 0.999)
    csv = tmp_path / "map.csv"
    pd.DataFrame({"x": x}).to_csv(csv, index=False)
    results = compare(str(csv), cells=("rnn", "gru"), max_epochs=40, lr=1e-2, out_dir=tmp_path / "out",
                      tracking_uri=store, series_options=SeriesOptions(horizon=1, input_length=8), **FAST)
    verdict = check_verdict(results)
    assert verdict["recommended"]["kind"] == "cell", verdict["recommended"]
    assert verdict["best_baseline"]["validation"]["conclusion"] == "better"
    assert verdict["best_baseline"]["conclusion"] == "better" and "beats the best baseline" in \
        verdict["recommended"]["reason"]


def test_long_format_with_two_series_and_a_covariate(tmp_path, store):
    rng = np.random.default_rng(2)
    t = np.arange(150)
    rows = []
    for shop, level in (("north", 50.0), ("south", 500.0)):
        price = 10 + rng.normal(0, 1, 150)
        sales = level + 0.1 * level * np.sin(2 * np.pi * t / 12) - 2 * price + rng.normal(0, 0.02 * level, 150)
        rows.append(pd.DataFrame({"shop": shop, "month": pd.date_range("2010-01-01", periods=150, freq="MS"),
                                  "sales": sales, "price": price}))
    csv = tmp_path / "shops.csv"
    pd.concat(rows).to_csv(csv, index=False)
    # classical_baselines=False: the naive, drift and seasonal naive forecasts check the two series' windows line
    # up; refitting the automatic models at 68 origins took ~3 of this test's minutes (they are tested above)
    results = compare(str(csv), cells=("lstm", "gru"), max_epochs=5, out_dir=tmp_path / "out", tracking_uri=store,
                      series_options=SeriesOptions(target=["sales"], covariates=["price"], series_id="shop",
                                                   time_column="month", horizon=6), classical_baselines=False,
                      **FAST)
    user = results["meta"]["user_data"]
    assert user["series"] == ["shops.csv:shop=north", "shops.csv:shop=south"] and user["covariates"] == ["price"]
    assert results["meta"]["task_config"]["input_size"] == 2 and results["meta"]["task_config"]["output_size"] == 1
    verdict = check_verdict(results)
    assert verdict["metric"] == "mase"  # two series of different scales: scaled errors, not raw MAE
    # 2 series x the test windows of each: the baselines were scored on the same windows as the networks
    n_items = len(results["runs"][0]["items"]["mase"]["num"])
    assert all(len(b["mase"]["num"]) == n_items for b in results["baseline_items"].values())


def write_tone(path, frequency, seconds=0.25, rate=16000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.5 * np.sin(2 * np.pi * frequency * t) + 0.05 * rng.normal(size=t.size)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((signal * 32767).astype(np.int16).tobytes())


def test_a_folder_of_recordings(tmp_path, store):
    for label, frequency in (("low", 300.0), ("high", 2500.0)):
        (tmp_path / "audio" / label).mkdir(parents=True)
        for i in range(15):
            write_tone(tmp_path / "audio" / label / f"{i}.WAV", frequency * (1 + 0.02 * i), seed=i)  # upper case too
    results = compare(str(tmp_path / "audio"), cells=("rnn", "gru"), max_epochs=8, out_dir=tmp_path / "out",
                      tracking_uri=store, **FAST)
    assert results["meta"]["user_data"]["classes"] == ["high", "low"]
    verdict = check_verdict(results)
    assert verdict["metric"] == "acc" and verdict["mode"] == "max"
    assert set(results["baselines"]) == {"majority class", "logistic regression on pooled features"}
    # 30 recordings leave 3 validation and 3 test items: too few for any claim, so no network is recommended
    assert verdict["best_baseline"]["validation"]["conclusion"] == "no claim: 3 items (at least 30 needed; more data)"
    assert verdict["recommended"]["kind"] == "baseline"
    # Saved baselines classify raw WAVs through the networks' front end, and score what the comparison scored.
    import rnnzoo

    files = sorted((tmp_path / "audio").rglob("*.WAV"))
    truth = [f.parent.name for f in files]
    pooled = rnnzoo.load(results["saved_baselines"]["logistic regression on pooled features"])
    assert pooled.classes == ["high", "low"]
    assert np.mean([p == t for p, t in zip(pooled.classify([str(f) for f in files]), truth)]) > 0.9
    majority = rnnzoo.load(results["saved_baselines"]["majority class"])
    assert len(set(majority.classify([str(f) for f in files]))) == 1
    assert results["use"]["command"].startswith(f"rnnzoo predict {results['saved_baselines'][verdict['recommended']['choice']]} ")


def test_a_text_file(tmp_path, store):
    text = tmp_path / "book.txt"
    sentences = ["the cat sat on the mat.", "a dog ran in the park.", "the bird sang a song."]
    rng = np.random.default_rng(3)
    text.write_text("\n".join(sentences[i] for i in rng.integers(0, 3, 400)) + "\n")
    results = compare(str(text), cells=("rnn", "lstm"), max_epochs=3, out_dir=tmp_path / "out", tracking_uri=store,
                      **FAST)
    assert results["meta"]["user_data"]["level"] == "char"
    verdict = check_verdict(results)
    assert verdict["metric"] == "ppl"
    assert set(results["baselines"]) == {"Kneser-Ney bigram (counts)", "unigram (add-one counts)"}
    notes = (tmp_path / "out" / "results.md").read_text()
    assert "s to fit and score; the networks" in notes and "every origin" not in notes  # no forecast origins in a text
    # The saved bigram reads text with the networks' vocabulary: on the test split's own text it gives the
    # comparison's test perplexity (both average -log p over every predicted token of one stream; the comparison
    # cuts the stream into rows, which drops each row's first prediction, hence the tolerance).
    import rnnzoo
    from rnnzoo.data import TextDataModule

    bigram = rnnzoo.load(results["saved_baselines"]["Kneser-Ney bigram (counts)"])
    dm = TextDataModule(text, level="char")
    dm.setup("fit")
    rows = dm.datasets["test"].rows.numpy()
    stream = "".join(bigram.vocabulary.decode(rows.ravel()))
    assert bigram.perplexity(stream) == pytest.approx(results["baselines"]["Kneser-Ney bigram (counts)"]["ppl"],
                                                      rel=0.05)


def test_the_command_lines_default_series_options_do_not_refuse_a_text(tmp_path):
    # rnnzoo compare always passes SeriesOptions; a flag left off (no_time_column=False) is not an option given
    from rnnzoo.compare.user_data import user_data_preset

    text = tmp_path / "notes.txt"
    text.write_text("the cat sat on the mat.\n" * 300)
    _, info = user_data_preset(text, series=SeriesOptions(), level="word")
    assert info["kind"] == "text"
    with pytest.raises(DataError, match=r"time-series options \['horizon'\] apply to .csv/.parquet tables only"):
        user_data_preset(text, series=SeriesOptions(horizon=3), level="word")


def test_a_short_word_level_text_gets_a_budget_bounded_by_its_tokens(tmp_path):
    from rnnzoo.compare.models import parse_budget
    from rnnzoo.compare.user_data import user_data_preset

    # ~26k words over a Zipf vocabulary of 4,000 (a manual's size): its 64-wide embedding and softmax alone need
    # ~0.5M parameters, which the old rule met by raising the budget to 1M, 38 parameters per training token
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in np.minimum(rng.zipf(1.2, 26_000), 4000)]
    text = tmp_path / "manual.txt"
    text.write_text("\n".join(" ".join(words[i:i + 13]) for i in range(0, len(words), 13)) + "\n")
    preset, info = user_data_preset(text, level="word")
    tokens = info["tokens"]["train"]
    assert parse_budget(preset.default_budget) <= parse_budget("50k") and tokens <= 50_000 < 100_000
    assert "never above 50k (the first budget at or above the" in info["rules"]["budget"]
    assert "vocabulary cut from" in info["rules"]["budget"] and info["vocab_size"] < 1000
    from rnnzoo.models import match_hidden_sizes

    match_hidden_sizes(preset.task_config, parse_budget(preset.default_budget))  # the four cells do fit


# --------------------------------------------------------------------------------------------------- bad input
@pytest.fixture
def csv_dir(tmp_path):
    return tmp_path


@pytest.mark.parametrize("content, options, message", [
    ("y\n1\n2\n", SeriesOptions(target=["sales"]), r"no column\(s\) \['sales'\]; the table has \['y'\]"),
    ("a,b\n" + "".join(f"{(7 * i) % 11},{300 + i * i}\n" for i in range(60)), SeriesOptions(),
     r"several numeric columns \['a', 'b'\] could be forecast; name the one\(s\) to forecast with --target"),
    # the bad cell makes co2 text to pandas: it is still the column to forecast, and its cell is named
    ("year,co2\n" + "".join(f"{1990 + i},{300 + i}\n" for i in range(60)).replace("310\n", "12.3x\n"),
     SeriesOptions(), r"column 'co2' is numbers except row 10, '12.3x'; fix that cell"),
    ("year,name\n" + "".join(f"{1990 + i},n{i}\n" for i in range(60)), SeriesOptions(),
     r"no column to forecast.*'name' left out: text, not numbers; 'year' left out: it counts time \(evenly spaced "
     r"whole numbers.*--target"),
    ("y\n" + "1.0\n" * 40 + "12.3x\n" + "1.0\n" * 40, SeriesOptions(target=["y"]),
     r"column 'y' is numbers except row 40, '12.3x'; fix that cell \(the column is not dropped\)"),
    ("x,y\n" + "0,1.0\n" * 40 + "0,\n" + "0,1.0\n" * 40, SeriesOptions(target=["y"]),
     r"1 empty or NaN cell\(s\), the first at row 40.*interpolate"),
    ("y\n" + "1.0\n" * 30, SeriesOptions(target=["y"], horizon=12),
     r"30 steps.*fewer than the horizon 12.*--horizon 4 or less"),
    ("t,y\n" + "".join(f"2001-{m:02d}-01,1\n" for m in range(1, 13)) + "soon,1\n", SeriesOptions(time_column="t"),
     r"time column 't', row 12: 'soon' does not parse"),
    ("t,y\n2001-01-01,1\n2001-02-01,5\n2001-04-01,2\n2001-05-01,4\n", SeriesOptions(time_column="t"),
     r"not evenly spaced.*asfreq"),
])
def test_bad_series_files_name_the_fix(csv_dir, store, content, options, message, capsys):
    path = csv_dir / "data.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        compare(str(path), series_options=options, out_dir=csv_dir / "out", tracking_uri=store, **FAST)


def test_the_default_target_is_the_column_of_values_read_as_written(tmp_path):
    # "1,234.5" cells (thousands separators, quoted as spreadsheets export them) are numbers; the year column
    # counts time and is never forecast; the note says so.
    from rnnzoo.compare.user_series import read_user_series

    path = tmp_path / "sales.csv"
    sales = [1234.5 + 1000 * i for i in range(40)]
    path.write_text("year,sales\n" + "".join(f'{1980 + i},"{v:,.1f}"\n' for i, v in enumerate(sales)))
    series = read_user_series(path)
    assert series.target_columns == ["sales"] and series.arrays[0][:, 0].tolist() == pytest.approx(sales)
    assert series.notes == ["'year' left out: it counts time (evenly spaced whole numbers, like years or a row "
                            "number); name it with --time-column"]
    # ';'-separated with decimal commas, as spreadsheets in such locales export: the day counts time
    path.write_text("day;price\n" + "".join(f"2024-01-{d:02d};{d * d},5\n" for d in range(1, 29)))
    series = read_user_series(path)
    assert series.target_columns == ["price"] and series.arrays[0][:3, 0].tolist() == [1.5, 4.5, 9.5]
    assert series.time_column == "day" and series.frequency == "D"  # found: the table's one column of dates


def _monthly(path, months, values=None) -> None:
    values = values if values is not None else [10 + (7 * i) % 5 for i in range(len(months))]
    path.write_text("month,y\n" + "".join(f"{m},{v}\n" for m, v in zip(months, values)))


def test_a_date_column_is_found_and_used_unless_told_not_to(tmp_path):
    from rnnzoo.compare.user_series import read_user_series

    path = tmp_path / "sales.csv"
    months = pd.date_range("2010-01-01", periods=48, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"month": months, "sales": np.sin(np.arange(48)) + 10.0}).to_csv(path, index=False)
    found = read_user_series(path)
    assert found.time_column == "month" and found.frequency == "MS" and found.season == 12
    assert found.notes[0].startswith("'month' used as the time column: the table's one column of dates")
    ignored = read_user_series(path, find_time_column=False)  # --no-time-column
    assert ignored.time_column is None and ignored.season is None and "'month' left out: it counts time (dates)" \
        in ignored.notes[0]
    pd.DataFrame({"month": months, "shipped": months, "sales": np.arange(48.0) ** 2}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"several columns hold dates \['month', 'shipped'\].*--time-column.*"
                                        r"--no-time-column"):
        read_user_series(path)
    assert read_user_series(path, time_column="shipped").time_column == "shipped"


def test_time_column_gaps_are_calendar_steps_and_duplicates_are_named(tmp_path):
    import pandas as pd

    from rnnzoo.compare.user_series import read_user_series

    path = tmp_path / "monthly.csv"
    months = [d.strftime("%Y-%m-%d") for d in pd.date_range("2001-01-01", periods=36, freq="MS")]
    gapped = months[:13] + months[14:]  # 2002-02-01 missing; February's 28 days are not a gap
    _monthly(path, gapped)
    with pytest.raises(DataError, match=r"calendar step 'MS' the first missing timestamp is 2002-02-01 00:00:00 "
                                        r"\(1 missing in all\).*asfreq\('MS'\)"):
        read_user_series(path, time_column="month")
    frame = pd.read_csv(path)  # the printed fix runs and fills the gap
    frame["month"] = pd.to_datetime(frame["month"])
    frame = frame.set_index("month").asfreq("MS").interpolate().reset_index()
    frame.to_csv(path, index=False)
    assert read_user_series(path, time_column="month").frequency == "MS"
    _monthly(path, months[:5] + [months[4]] + months[5:])
    with pytest.raises(DataError, match=r"duplicated timestamps: row 5 repeats 2001-05-01 00:00:00 of row 4.*groupby"):
        read_user_series(path, time_column="month")


def test_bad_folders_and_texts(tmp_path, store, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="found 0 label folder"):
        compare(str(tmp_path / "empty"), out_dir=tmp_path / "out", tracking_uri=store, **FAST)
    (tmp_path / "one" / "yes").mkdir(parents=True)
    write_tone(tmp_path / "one" / "yes" / "a.wav", 440)
    with pytest.raises(DataError, match="found 1 label folder.*at least 2"):
        compare(str(tmp_path / "one"), out_dir=tmp_path / "out", tracking_uri=store, **FAST)
    (tmp_path / "blank.txt").write_text("")
    with pytest.raises(DataError, match="blank.txt: the file is empty"):
        compare(str(tmp_path / "blank.txt"), out_dir=tmp_path / "out", tracking_uri=store, **FAST)
    # From the command line: the message, exit 2, no traceback
    with pytest.raises(SystemExit) as err:
        compare_main(["--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"), "--tracking-uri", store])
    assert err.value.code == 2 and "neither a built-in dataset" in capsys.readouterr().err


def test_pandas_index_column_is_not_a_series(tmp_path):
    from rnnzoo.compare.user_series import read_user_series

    path = tmp_path / "saved_with_index.csv"
    pd.DataFrame({"y": np.arange(50.0)}).to_csv(path)  # to_csv's default writes the index as "Unnamed: 0"
    series = read_user_series(path)
    assert series.target_columns == ["y"] and len(series.arrays) == 1


@pytest.mark.parametrize("freq", ["MS", "ME", "QS-OCT", "D", "h", "W-SUN"])
def test_the_time_column_frequency_is_pandas_string_without_a_warning(freq):
    # pandas 3.1 warns on every inferred_freq read (it is moving to offset objects); users saw it in compare's output.
    import warnings

    import pandas as pd

    from rnnzoo.compare.user_series import _inferred_frequency

    index = pd.date_range("2020-01-01", periods=12, freq=freq)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _inferred_frequency(index)
    with warnings.catch_warnings():  # the string pandas gave before (with its warning): the same one, e.g. QS-JAN
        warnings.simplefilter("ignore")
        assert got == index.inferred_freq
