"""A quick start: forecasting (or predicting) from a saved model imports what that uses and not the training stack,
so that ``rnnzoo predict forecaster-gru-20k.co2 file.csv`` answers in about the time ``import torch`` takes.

Correctness checks (which modules a fresh interpreter ends up with), not timings: the timings are
``benchmarks/predict_startup.py``'s.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import rnnzoo
from rnnzoo.data.timeseries import load_builtin_series

#: what training, tracking, searching and plotting import, and predicting from a saved model should not
TRAINING_STACK = ("lightning", "pytorch_lightning", "torchmetrics", "mlflow", "jsonargparse", "optuna", "matplotlib",
                  "scipy", "torch._dynamo")


def modules_after(code: str) -> list[str]:
    """The :data:`TRAINING_STACK` modules a fresh interpreter has imported after running ``code``."""
    report = (f"\nimport json, sys\n"
              f"print(json.dumps([m for m in {TRAINING_STACK!r} if m in sys.modules]))\n")
    result = subprocess.run([sys.executable, "-c", code + report], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def predict(*argv: str) -> str:
    """Code that runs ``rnnzoo predict argv...`` as the command line does (its output discarded)."""
    return ("import contextlib, io\n"
            "from rnnzoo.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['predict', *{list(argv)!r}]) == 0\n")


@pytest.fixture(scope="module")
def co2(tmp_path_factory):
    """The first 120 months of the packaged CO2 series as a one-column CSV and as a .npy array."""
    values = load_builtin_series("co2")[:120, 0]
    folder = tmp_path_factory.mktemp("co2")
    (folder / "co2.csv").write_text("co2\n" + "\n".join(str(v) for v in values) + "\n")
    np.save(folder / "co2.npy", values)
    return folder


def test_loading_and_forecasting_import_no_training_library():
    code = ("import numpy as np\n"
            "import rnnzoo\n"
            "history = np.linspace(315.0, 330.0, 120, dtype=np.float32)\n"
            "assert rnnzoo.load('forecaster-gru-20k.co2').forecast(history, horizon=3).shape == (3,)\n"
            "quantiles = rnnzoo.load('quantile-forecaster-gru-20k.co2').forecast(history, quantiles=[0.1, 0.9])\n"
            "assert quantiles.shape[-1] == 2\n")
    assert modules_after(code) == []


def test_every_task_predicts_from_files_without_the_training_stack(co2, tmp_path):
    np.save(tmp_path / "vowel.npy", np.random.default_rng(0).normal(size=(20, 12)).astype(np.float32))
    code = (predict("forecaster-gru-20k.co2", str(co2 / "co2.npy"))
            + predict("wordlm-lstm-4600k.ptb", "the", "market", "--max-new-tokens", "3", "--seed", "0")
            + predict("vowels-gru-20k.japanese-vowels", str(tmp_path / "vowel.npy"))
            + predict("pianoroll-gru-20k.jsb", "--steps", "4", "--seed", "0"))
    assert modules_after(code) == []


def test_predict_from_a_csv_imports_no_training_library(co2):
    assert modules_after(predict("forecaster-gru-20k.co2", str(co2 / "co2.csv"), "--horizon", "12")) == []


def test_a_quantile_forecasters_median_imports_no_training_library():
    code = ("import numpy as np\n"
            "import rnnzoo\n"
            "model = rnnzoo.load('quantile-forecaster-gru-20k.co2')\n"
            "model.forecast(np.linspace(315.0, 330.0, 120, dtype=np.float32))\n")
    assert modules_after(code) == []


def test_the_public_names_still_resolve():
    # rnnzoo exposes most names lazily (PEP 562): each must still import by name and show in dir()
    namespace: dict = {}
    exec(f"from rnnzoo import {', '.join(rnnzoo.__all__)}", namespace)
    assert all(namespace[name] is getattr(rnnzoo, name) for name in rnnzoo.__all__)
    assert set(rnnzoo.__all__) <= set(dir(rnnzoo))
    assert callable(rnnzoo.load) and callable(rnnzoo.create_model)



def console_script(*argv: str) -> str:
    """Code that runs ``rnnzoo argv...`` as the console script does (``main()`` reading ``sys.argv``) and then
    prints, last, whether pyarrow was imported."""
    return ("import sys\n"
            f"sys.argv = ['rnnzoo', *{list(argv)!r}]\n"
            "from rnnzoo.cli import main\n"
            "assert main() == 0\n"
            "print('pyarrow' in sys.modules)\n")


def run_code(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_the_console_scripts_csv_forecast_skips_pyarrow_and_equals_the_parquet_ones(co2, tmp_path):
    """The console script imports pandas without pyarrow for a CSV (a tenth of its start-up); its forecast is the
    one from the same table as Parquet, which does use pyarrow."""
    import pandas as pd

    pd.read_csv(co2 / "co2.csv").to_parquet(tmp_path / "co2.parquet")
    *from_csv, csv_pyarrow = run_code(console_script("predict", "forecaster-gru-20k.co2", str(co2 / "co2.csv"),
                                                     "--horizon", "6"))
    *from_parquet, parquet_pyarrow = run_code(console_script("predict", "forecaster-gru-20k.co2",
                                                             str(tmp_path / "co2.parquet"), "--horizon", "6"))
    assert (csv_pyarrow, parquet_pyarrow) == ("False", "True")
    assert len(from_csv) == 1 + 6 and from_csv == from_parquet  # a header line and 6 steps


def test_a_callers_csv_forecast_leaves_pandas_able_to_read_parquet(co2, tmp_path):
    """``main([...])`` from a caller's process (a notebook) imports pandas as usual: Parquet reads after it."""
    import pandas as pd

    pd.read_csv(co2 / "co2.csv").to_parquet(tmp_path / "co2.parquet")
    code = (predict("forecaster-gru-20k.co2", str(co2 / "co2.csv"))
            + f"import pandas\nprint(len(pandas.read_parquet({str(tmp_path / 'co2.parquet')!r})))\n")
    assert run_code(code)[-1] == "120"
