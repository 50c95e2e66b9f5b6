"""Recompute a forecasting comparison's recommended choice's test MAE from what its output folder saved, and the
user's table: the saved model or baseline (``results.json["use"]``) forecasts every test window from the table's
history up to its origin. Prints both numbers and their relative difference.

    python scripts/check_recommended.py runs/user-data/msft runs/user-data/data/msft_monthly.csv
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(out: str, table: str) -> None:
    import rnnzoo
    from rnnzoo.compare.statistical_baselines import split_origins
    from rnnzoo.data.timeseries.read_table import read_table

    results = json.loads((Path(out) / "results.json").read_text())
    choice = results["use"]["choice"]
    folder = results["saved_baselines"].get(choice) or results["models"][choice]["path"]
    user = results["meta"]["user_data"]
    frame = read_table(table, "the comparison's table")
    target = user["targets"][0]
    truth = frame[target].to_numpy(np.float32).astype(np.float64)  # the comparison reads values as float32
    horizon = user["horizon"]
    model = rnnzoo.load(folder)
    origins = split_origins(len(frame), (0.7, 0.15, 0.15), horizon, 1)
    errors = [np.abs(np.asarray(model.forecast(frame.iloc[:o]), dtype=np.float64).ravel() - truth[o:o + horizon])
              for o in origins]
    recomputed = float(np.mean(errors))
    reported = (results["baselines"].get(choice) or {}).get("mae")
    if reported is None:
        reported = results["models"][choice]["test"]["mae"]
    print(f"{out}: recommended {choice} ({folder}); test MAE reported {reported:.6f}, recomputed from the saved "
          f"folder {recomputed:.6f} over {len(origins)} windows; relative difference "
          f"{abs(recomputed - reported) / reported:.2e}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
