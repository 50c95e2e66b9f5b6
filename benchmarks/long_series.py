"""Planning a long series: time and peak memory of ``TimeSeriesDataModule.setup`` on 1M and 10M steps, against the
materialised windows it replaced (goals: 10M steps set up in under 10 s with a peak under 2x the raw array; 1M in
under 2 s).

Each measurement runs in a fresh process, so one size's allocations (or the allocator's cached pages) cannot hide
another's. The series (a daily-like sine of period 24, a trend and seeded noise, float32 ``(T, 1)``) is written to
an ``.npy`` file first and loaded there: loading allocates exactly the raw array, so the peak before setup is the
raw array plus the imports and a small warm-up set-up (one-time costs), and the peak *above* it is setup's own.
Two measures of that peak:

* ``ru_maxrss`` after setup minus the process' resident size just before it (what the operating system saw; it
  also counts torch's tensors and per-window Python objects);
* tracemalloc's peak during setup (numpy's allocations and Python objects; not torch's own allocator).

They differ where glibc keeps freed heap pages for reuse (a freed 40 MB block raises its mmap threshold, so later
temporaries come from the heap and stay resident): the live data's peak is the traced one, RSS what the machine
must have.

The old way (every window a dict of its own tensors, the code of ``setup`` before ``WindowDataset``, copied below)
is measured on 200k steps in the same run: at 1M steps it took 37 s and 2.1 GB, at 10M it would need ~20 GB.
Optionally (``--loader``) the time to read 200 shuffled batches of 256 through the DataLoader, old and new (it
includes the epoch's shuffled order: EpochSeededSampler lists every training window's index, ~2 s at 10M steps).
A tiny GRU's epoch is not timed: at 10M steps it is ~27k batches, minutes on a loaded 2-core machine; the loader
timing is the part of an epoch this change touches.

``--plan`` also times what ``rnnzoo compare --data series.csv`` does before its plan is printed, on a CSV of each
size (a ``time`` column of minutes and ``y``): read the table, find the time column and frequency, choose season,
horizon and input length, set up the DataModule, check for drift (:func:`rnnzoo.compare.user_data.user_data_preset`),
with the peak resident memory of that process (pandas holds the table's text cells as Python strings: ~1 GB at
10M rows). Writing a 10M-row CSV takes a few minutes.

    python benchmarks/long_series.py [--sizes 1000000 10000000] [--old-size 200000] [--loader] [--plan]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

INPUT_LENGTH, HORIZON, SEASON = 48, 24, 24


def synthetic_series(steps: int, seed: int = 0) -> np.ndarray:
    """``(steps, 1)`` float32: a sine of period 24, a slow trend and noise (built in float32 chunks, so that writing
    10M steps does not itself need GBs)."""
    rng = np.random.default_rng(seed)
    out = np.empty((steps, 1), dtype=np.float32)
    for start in range(0, steps, 1_000_000):
        t = np.arange(start, min(start + 1_000_000, steps), dtype=np.float64)
        out[start:start + len(t), 0] = 10 * np.sin(2 * np.pi * t / SEASON) + 1e-5 * t + rng.normal(0, 1, len(t))
    return out


def old_setup(values: np.ndarray) -> dict[str, list[dict]]:
    """The materialised windows, as ``TimeSeriesDataModule.setup`` built them before (one series, one target)."""
    import torch

    from rnnzoo.data.splits import chronological_split
    from rnnzoo.data.timeseries.windows import make_windows, seasonal_naive_mae

    samples = {"train": [], "val": [], "test": []}
    train_range, val_range, test_range = chronological_split(len(values), (0.7, 0.15, 0.15))
    train = values[train_range]
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    mase = seasonal_naive_mae(train, SEASON)
    scaled = (values - mean) / std
    segments = {"train": scaled[train_range], "val": scaled[val_range.start - INPUT_LENGTH:val_range.stop],
                "test": scaled[test_range.start - INPUT_LENGTH:test_range.stop]}
    for split, segment in segments.items():
        inputs, outputs = make_windows(segment, INPUT_LENGTH, HORIZON, 1)
        extra = {"series": torch.tensor(0), "loc": torch.from_numpy(mean[:1].astype(np.float32)),
                 "scale": torch.from_numpy(std[:1].astype(np.float32)), "mase_scale": torch.from_numpy(mase[:1].copy())}
        samples[split] += [{"window": torch.from_numpy(x.copy()), "target": torch.from_numpy(y[:, :1].copy()), **extra}
                           for x, y in zip(inputs, outputs)]
    return samples


def _resident_bytes() -> int:
    """The process' resident set now (Linux: /proc/self/statm), in bytes."""
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(path: str, way: str, loader: bool) -> dict:
    """In this (fresh) process: set up ``way`` ("new" or "old") on the series at ``path``; time and peaks."""
    import resource
    import time
    import tracemalloc

    import torch

    from rnnzoo.data import PadCollate
    from rnnzoo.data.timeseries import TimeSeriesDataModule

    torch.set_num_threads(1)

    def set_up(values: np.ndarray):
        if way == "old":
            return old_setup(values), PadCollate(())
        dm = TimeSeriesDataModule(values, input_length=INPUT_LENGTH, horizon=HORIZON, season=SEASON, batch_size=256,
                                  cache_dir=False)
        dm.setup()
        return dm.datasets, dm.collate

    # A small set-up first, not measured: what any first call costs once (lazy imports, torch's first tensors)
    # is no part of the peak that grows with the series.
    set_up(synthetic_series(2_000, seed=1))
    values = np.load(path)
    before = _resident_bytes()
    tracemalloc.start()
    start = time.perf_counter()
    datasets, collate = set_up(values)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    result = {"way": way, "steps": len(values), "raw_bytes": values.nbytes, "setup_s": seconds,
              "rss_peak_above_raw": max(peak - before, 0), "traced_peak": traced_peak,
              "windows": {k: len(v) for k, v in datasets.items()}}
    if loader:
        from torch.utils.data import DataLoader

        from rnnzoo.data.batching import EpochSeededSampler

        train = datasets["train"]
        batches = DataLoader(train, batch_size=256, sampler=EpochSeededSampler(len(train), 0),
                             collate_fn=collate)
        start = time.perf_counter()
        for i, _ in enumerate(batches):
            if i == 199:
                break
        result["loader_200_batches_s"] = time.perf_counter() - start
    return result


def write_csv(steps: int, path: Path) -> None:
    """The synthetic series as a user's table: ISO minute timestamps and the values."""
    import pandas as pd

    times = pd.date_range("2000-01-01", periods=steps, freq="min").strftime("%Y-%m-%d %H:%M:%S")
    pd.DataFrame({"time": times, "y": np.round(synthetic_series(steps)[:, 0], 4)}).to_csv(path, index=False)


def measure_plan(path: str) -> dict:
    """In this (fresh) process: ``rnnzoo compare``'s planning of the CSV at ``path``; time and peak memory."""
    import resource
    import time

    import torch  # noqa: F401  (imported before timing: compare has it loaded already)

    from rnnzoo.compare.user_data import user_data_preset

    start = time.perf_counter()
    preset, info = user_data_preset(path)
    seconds = time.perf_counter() - start
    return {"steps": sum(info["lengths"]), "plan_s": seconds,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "season": info["season"], "input_length": info["input_length"], "budget": preset.default_budget}


def _run(path: Path, way: str, loader: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", str(path), way, *(["--loader"] if loader else [])],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _line(r: dict) -> str:
    mib = 2 ** 20
    loader = f", 200 batches {r['loader_200_batches_s']:.2f} s" if "loader_200_batches_s" in r else ""
    return (f"{r['way']:>3} {r['steps']:>10,} steps: setup {r['setup_s']:7.2f} s, peak above raw "
            f"{r['rss_peak_above_raw'] / mib:8.1f} MiB RSS ({r['rss_peak_above_raw'] / r['raw_bytes']:5.2f}x raw) / "
            f"{r['traced_peak'] / mib:8.1f} MiB traced ({r['traced_peak'] / r['raw_bytes']:5.2f}x), raw "
            f"{r['raw_bytes'] / mib:.1f} MiB, {sum(r['windows'].values()):,} windows{loader}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--old-size", type=int, default=200_000, help="steps for the materialising baseline")
    parser.add_argument("--loader", action="store_true", help="also time 200 shuffled batches through a DataLoader")
    parser.add_argument("--plan", action="store_true", help="also time rnnzoo compare's planning of a CSV")
    parser.add_argument("--measure", nargs=2, metavar=("NPY", "WAY"), help=argparse.SUPPRESS)
    parser.add_argument("--measure-plan", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.measure[1], args.loader)))
        return
    if args.measure_plan:
        print(json.dumps(measure_plan(args.measure_plan)))
        return
    with tempfile.TemporaryDirectory(prefix="rnnzoo-long-") as tmp:
        results = []
        for steps, way in [(args.old_size, "old"), (args.old_size, "new"), *((s, "new") for s in args.sizes)]:
            path = Path(tmp) / f"series-{steps}.npy"
            if not path.exists():
                np.save(path, synthetic_series(steps))
            results.append(_run(path, way, args.loader))
            print(_line(results[-1]), flush=True)
        for steps in args.sizes if args.plan else []:
            path = Path(tmp) / f"series-{steps}.csv"
            write_csv(steps, path)
            out = subprocess.run([sys.executable, __file__, "--measure-plan", str(path)], check=True,
                                 capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"plan of a {r['steps']:,}-row CSV: {r['plan_s']:.1f} s, peak RSS {r['peak_rss'] / 2 ** 20:,.0f} MiB "
                  f"(season {r['season']}, input length {r['input_length']}, budget {r['budget']})", flush=True)
    old, new = results[0], results[1]
    page = 2 ** 20  # below a MiB, an RSS difference is the allocator's granularity, not the data
    print(f"at {old['steps']:,} steps, old / new: setup time {old['setup_s'] / max(new['setup_s'], 1e-3):.0f}x, peak "
          f"memory above raw {old['traced_peak'] / new['traced_peak']:.0f}x traced, "
          f"{old['rss_peak_above_raw'] / max(new['rss_peak_above_raw'], page):.0f}x RSS")
    for r in results[2:]:
        goal_s = 10.0 if r["steps"] >= 10_000_000 else 2.0
        print(f"{r['steps']:,} steps: setup {r['setup_s']:.2f} s (goal < {goal_s:g} s), peak "
              f"{r['rss_peak_above_raw'] / r['raw_bytes']:.2f}x raw (goal < 2x): "
              f"{'met' if r['setup_s'] < goal_s and r['rss_peak_above_raw'] < 2 * r['raw_bytes'] else 'NOT met'}")


if __name__ == "__main__":
    main()
