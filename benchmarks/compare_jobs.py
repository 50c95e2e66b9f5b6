"""Wall time of `compare` on CO2 (4 cells x 3 seeds) with its runs one after another and in N worker processes
(issue 27's goal: --jobs 2 at most 0.6x sequential on 2 cores, with the same test metrics). Prints both times,
their ratio, and the largest relative difference between the two runs' test metrics.

    python benchmarks/compare_jobs.py --jobs 2 --max-epochs 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from rnnzoo.compare import compare

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=20)
    args = parser.parse_args(argv)
    options = dict(seeds=(0, 1, 2), max_epochs=args.max_epochs, patience=0, threads=args.jobs,
                   classical_baselines=False, save_models=False, log=lambda line: None)
    with tempfile.TemporaryDirectory(prefix="rnnzoo-jobs-") as tmp:
        store = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        seconds, results = {}, {}
        for jobs in (1, args.jobs):
            started = time.perf_counter()
            results[jobs] = compare("co2", out_dir=Path(tmp) / f"jobs{jobs}", tracking_uri=store, jobs=jobs, **options)
            seconds[jobs] = time.perf_counter() - started
    first = {(r["cell"], r["seed"]): r["test"] for r in results[1]["runs"]}
    worst = max(abs(v - first[(r["cell"], r["seed"])][k]) / max(abs(first[(r["cell"], r["seed"])][k]), 1e-12)
                for r in results[args.jobs]["runs"] for k, v in r["test"].items())
    print(f"sequential {seconds[1]:.1f} s; --jobs {args.jobs} {seconds[args.jobs]:.1f} s; ratio "
          f"{seconds[args.jobs] / seconds[1]:.2f} (goal <= 0.60); largest relative test-metric difference {worst:.1e}")


if __name__ == "__main__":
    main()
