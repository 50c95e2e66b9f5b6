"""Start-up of the quick path: ``import rnnzoo``, ``rnnzoo --help`` and ``rnnzoo predict MODEL CSV``, end to end.

    python benchmarks/predict_startup.py [--model forecaster-gru-20k.co2] [--input FILE] [--repeats 5]

Each command runs ``--repeats`` times, each time in a fresh interpreter (so nothing is cached in the process; the
OS file cache is warm after an untimed first run), timed from the parent: min and median wall seconds, and the
least CPU time (user + system: the steadier number on a busy machine, where waiting for a core is wall time). Then:

* the import breakdown of the predict command (``python -X importtime``): the top-level imports by cumulative
  time, and the heavy packages that were imported at all (a ``sys.modules`` check at exit);
* the old behaviour, measured in the same run: the same predict command with ``import lightning, torchmetrics``
  (``--baseline-imports``) run first, which is what forecasting from a CSV imported before the predict path was
  made lazy. Prints ``new / old`` of the medians and of the minima.

Without ``--input`` the first 120 months of the packaged Mauna Loa CO2 series are written to a temporary CSV (the
tests' file). The machine's load average is printed too: on a busy machine every number is slower, the ratio
less so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: packages reported when imported: torch, pandas (a CSV), pyarrow (pandas) and safetensors the forecaster's predict
#: path needs, the rest it should not import
HEAVY = ("lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics", "mlflow", "jsonargparse", "optuna",
         "matplotlib", "scipy", "sklearn", "statsmodels", "statsforecast", "huggingface_hub", "onnx", "onnxruntime",
         "onnxscript", "torch._dynamo", "sympy", "pandas", "pyarrow", "safetensors", "torch")

# Runs inside each fresh interpreter: the command line as the console script runs it, with an exit hook that
# reports (on stderr, after the command's own output) which heavy packages the command imported.
RUNNER = """\
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nSTARTUP_HEAVY " + json.dumps(
    [m for m in {heavy!r} if m in sys.modules]) + "\\n"))
{prelude}
sys.argv = {argv!r}
from rnnzoo.cli import main
sys.exit(main())
"""

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def runner_code(argv: list[str], prelude: str = "") -> str:
    """The ``python -c`` program that runs ``rnnzoo argv...`` after ``prelude`` and reports heavy imports."""
    return RUNNER.format(heavy=HEAVY, prelude=prelude, argv=["rnnzoo", *argv])


def run_once(code: str, importtime: bool = False) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of one fresh ``python -c code`` (stdout discarded), and its stderr; a
    failure is an error. The CPU time is the steadier number on a busy machine: waiting for a core adds to the wall
    time only."""
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{command[:3]}... exited {result.returncode}:\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stderr


def heavy_imported(stderr: str) -> list[str]:
    """The heavy packages a run imported, from the runner's exit report."""
    lines = [line for line in stderr.splitlines() if line.startswith("STARTUP_HEAVY ")]
    return json.loads(lines[-1].split(" ", 1)[1]) if lines else []


def import_breakdown(stderr: str) -> tuple[list[tuple[float, str]], dict[str, float]]:
    """From ``-X importtime`` output: (cumulative seconds, module) of the top-level imports, largest first, and
    the cumulative seconds of each heavy package where it was first imported."""
    top, heavy = [], {}
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if not match:
            continue
        seconds, depth, name = int(match[2]) / 1e6, len(match[3]), match[4]
        if depth == 1:
            top.append((seconds, name))
        if name in HEAVY:
            heavy[name] = seconds  # importtime lists a package once, where it is first imported
    return sorted(top, reverse=True), heavy


def measure(programs: dict[str, str], repeats: int) -> dict[str, list[float]]:
    """Run each ``python -c`` program of ``programs`` (label -> code) ``repeats`` times in fresh interpreters,
    round-robin (so that programs compared with each other share the machine's load); print the wall and CPU
    times and return the wall times by label."""
    times: dict[str, list[float]] = {label: [] for label in programs}
    cpu: dict[str, list[float]] = {label: [] for label in programs}
    for _ in range(repeats):
        for label, code in programs.items():
            wall, seconds, _ = run_once(code)
            times[label].append(wall)
            cpu[label].append(seconds)
    for label, walls in times.items():
        print(f"{label:<44} wall min {min(walls):6.2f} s  median {statistics.median(walls):6.2f} s   "
              f"cpu min {min(cpu[label]):6.2f} s   (walls {', '.join(f'{t:.2f}' for t in walls)})")
    return times


def write_co2_csv(folder: Path) -> Path:
    """The tests' CO2 file: the first 120 months of the packaged series, one ``co2`` column in ppm."""
    from rnnzoo.data.timeseries.builtin_series import load_builtin_series

    values = load_builtin_series("co2")[:120, 0]
    path = folder / "co2.csv"
    path.write_text("co2\n" + "\n".join(str(v) for v in values) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="forecaster-gru-20k.co2", help="a bundled forecaster (rnnzoo list)")
    parser.add_argument("--input", help="the series to forecast, a CSV, Parquet or .npy file (default: a CSV of the "
                                        "packaged CO2 series' first 120 months)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-imports", default="lightning, torchmetrics",
                        help="what the old predict path imported, run first for the baseline (a CSV: both; an .npy "
                             "file or another task's model: torchmetrics)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the old behaviour")
    args = parser.parse_args()

    load = os.getloadavg()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} (a busy machine slows every number below)\n")
    with tempfile.TemporaryDirectory(prefix="rnnzoo-startup-") as tmp:
        series = Path(args.input) if args.input else write_co2_csv(Path(tmp))
        predict = ["predict", args.model, str(series)]
        # a first, untimed run warms the OS file cache (torch's shared libraries) so that run 1 is not an outlier
        run_once(runner_code(predict))

        measure({"import rnnzoo": "import rnnzoo", "rnnzoo --help": runner_code(["--help"])}, args.repeats)
        programs = {f"rnnzoo predict {args.model} {series.suffix[1:].upper()}": runner_code(predict)}
        if not args.no_baseline:
            programs[f"  old: import {args.baseline_imports} first"] = runner_code(
                predict, prelude=f"import {args.baseline_imports}")
        new, *old = measure(programs, args.repeats).values()

        *_, stderr = run_once(runner_code(predict), importtime=True)
    top, heavy = import_breakdown(stderr)
    print(f"\nimport breakdown of rnnzoo predict (-X importtime, cumulative; "
          f"{sum(s for s, _ in top):.2f} s of imports in all):")
    for seconds, name in top[:10]:
        print(f"  {seconds:6.2f} s  {name}")
    print("heavy packages imported (cumulative import time where first imported):")
    imported = heavy_imported(stderr)
    for name in HEAVY:
        if name in imported:
            # -X importtime can print no line of its own for a package (torchmetrics under lightning): its time is in
            # the importing package's
            seconds = f"{heavy[name]:6.2f} s" if name in heavy else "  (inside another package's time)"
            print(f"  {name:<18} {seconds}")
    not_imported = [name for name in HEAVY if name not in imported]
    print(f"not imported: {', '.join(not_imported) or 'none'}")
    if old:
        print(f"\nnew / old: {statistics.median(new) / statistics.median(old[0]):.2f} (medians), "
              f"{min(new) / min(old[0]):.2f} (minima)")


if __name__ == "__main__":
    main()
