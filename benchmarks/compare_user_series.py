"""How long `rnnzoo compare` takes on a user's 300-step monthly series with its defaults (goal: under 3 minutes
on 2 CPU cores, the time a user waits for a verdict).

Writes a seasonal series with a trend (300 months, noise) to a CSV in a temporary folder and runs, as a user would,
`rnnzoo compare --data series.csv --target y --time-column month --horizon 12` in a fresh process (imports,
training of 4 cells x 3 seeds with early stopping, the statistical baselines, the verdict). Prints the wall time,
its ratio to the 3-minute goal, and the verdict's recommendation.

    python benchmarks/compare_user_series.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

GOAL_SECONDS = 180.0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="rnnzoo-bench-") as tmp:
        rng = np.random.default_rng(0)
        t = np.arange(300)
        y = 50 + 0.1 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 300)
        months = pd.date_range("2000-01-01", periods=300, freq="MS").strftime("%Y-%m-%d")
        pd.DataFrame({"month": months, "y": y}).to_csv(Path(tmp) / "series.csv", index=False)
        command = [sys.executable, "-m", "rnnzoo.cli", "compare", "--data", "series.csv", "--target", "y",
                   "--time-column", "month", "--horizon", "12", "--out", "out"]
        start = time.perf_counter()
        subprocess.run(command, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        verdict = json.loads((Path(tmp) / "out" / "results.json").read_text())["verdict"]
    print(f"rnnzoo compare on a 300-step monthly series, defaults: {seconds:.1f} s wall "
          f"({seconds / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:.0f} s goal)")
    print(f"recommended: {verdict['recommended']['choice']} — {verdict['recommended']['reason']}")


if __name__ == "__main__":
    main()
