"""TimeSeriesDataModule on statsmodels' real series, arrays and CSV/Parquet files, and its bad-input errors."""

import numpy as np
import pytest
import torch

from rnnzoo.data import DataError
from rnnzoo.data.timeseries import TimeSeriesDataModule, load_builtin_series


def test_builtin_series_are_real_and_complete():
    co2, sun = load_builtin_series("co2"), load_builtin_series("sunspots")
    assert co2.shape == (526, 1) and sun.shape == (309, 1)  # 1958-03..2001-12 monthly; 1700..2008 yearly
    assert np.isfinite(co2).all() and 310 < co2.min() < co2.max() < 380  # ppm


def test_windows_chronological_and_scaled_on_train_only():
    dm = TimeSeriesDataModule("co2", input_length=24, horizon=6, stride=2, batch_size=16)
    dm.setup()
    # 526 steps -> 368/79/79; train windows: (368 - 30) // 2 + 1; val/test windows: (79 - 6) // 2 + 1.
    assert dm.split_sizes() == {"train": 170, "val": 37, "test": 37}
    raw = load_builtin_series("co2")[:, 0]
    scaler = dm.preprocessing["timeseries"]["scaler"]
    assert scaler["mean"][0][0] == pytest.approx(raw[:368].mean(), rel=1e-5)
    first_val = dm.datasets["val"][0]
    # The first validation target is the first step after the training range, unscaled back exactly.
    value = first_val["target"][0, 0] * first_val["scale"][0] + first_val["loc"][0]
    assert value.item() == pytest.approx(raw[368], rel=1e-5)
    batch = next(iter(dm.train_dataloader()))
    assert batch["window"].shape == (16, 24, 1) and batch["target"].shape == (16, 6, 1)


def test_many_series_from_arrays_and_a_csv(tmp_path):
    rng = np.random.default_rng(0)
    series = [np.sin(np.arange(200) / 5.0) + rng.normal(0, 0.1, 200), np.cos(np.arange(150) / 7.0)]
    dm = TimeSeriesDataModule(series, input_length=20, horizon=5, stride=5)
    dm.setup()
    assert len(dm.preprocessing["timeseries"]["scaler"]["mean"]) == 2
    path = tmp_path / "s.csv"
    path.write_text("time,a,b\n" + "\n".join(f"{t},{np.sin(t / 3):.5f},{t % 7}" for t in range(120)))
    dm = TimeSeriesDataModule(path, columns=["a", "b"], input_length=10, horizon=3)
    dm.setup()
    assert dm.num_features == 2 and dm.datasets["train"][0]["window"].shape == (10, 2)


def test_parquet(tmp_path):
    import pandas as pd

    path = tmp_path / "s.parquet"
    pd.DataFrame({"y": np.arange(100, dtype=float)}).to_parquet(path)
    dm = TimeSeriesDataModule(path, input_length=10, horizon=2)
    dm.setup()
    assert dm.split_sizes()["train"] == 70 - 12 + 1


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "no such file"),
    (lambda p: (p.write_text(""), p)[1], "the file is empty"),
    (lambda p: (p.write_text("a,b\n1,2\n"), p.with_suffix(".txt"))[1], "no such file"),
    (lambda p: (p.write_text("a\n1\nnan\n3\n"), p)[1], "NaN/inf"),
    (lambda p: (p.write_text("name\nx\ny\n"), p)[1], "no numeric columns"),
])
def test_bad_files_name_the_file(tmp_path, make, message):
    path = make(tmp_path / "series.csv")
    with pytest.raises(DataError, match=message) as err:
        TimeSeriesDataModule(path, input_length=2, horizon=1).setup()
    assert str(path) in str(err.value)


def test_wrong_format_and_short_series(tmp_path):
    path = tmp_path / "series.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match=r"series.xlsx: unsupported file type '.xlsx'. Pass a .csv or .parquet"):
        TimeSeriesDataModule(path).setup()
    with pytest.raises(DataError, match="too short for windows of input_length=48 \\+ horizon=12. Use a shorter"):
        TimeSeriesDataModule(np.arange(50.0), input_length=48, horizon=12).setup()
    with pytest.raises(DataError, match=r"series\[0\]: 1 NaN/inf"):
        TimeSeriesDataModule([np.array([1.0, np.inf, 2.0])]).setup()
    with pytest.raises(DataError, match="columns="):
        p = tmp_path / "c.csv"
        p.write_text("a\n1\n2\n")
        TimeSeriesDataModule(p, columns=["value"]).setup()


def test_loader_options_pass_through_to_workers():
    dm = TimeSeriesDataModule("sunspots", input_length=10, horizon=2, batch_size=8, num_workers=1, pin_memory=False)
    dm.setup()
    loader = dm.train_dataloader()
    assert loader.num_workers == 1 and loader.pin_memory is False
    first = next(iter(loader))  # the collate function travels to a worker process
    assert first["window"].shape == (8, 10, 1)
    # Shuffling is seeded: two loaders give the same first batch.
    assert torch.equal(next(iter(dm.train_dataloader()))["window"], first["window"])


def test_content_hash_names_the_values_not_the_windows():
    def digest(source, **kw):
        dm = TimeSeriesDataModule(source, input_length=12, horizon=3, **kw)
        dm.setup()
        return dm.info["content_sha256"]

    co2 = load_builtin_series("co2")
    assert digest("co2") == digest(co2) == digest("co2", batch_size=7, stride=2)
    changed = co2.copy()
    changed[100] += 0.01
    assert digest(changed) != digest(co2)
