"""One global seasonal-difference model per group of suite series against the suite's one model per series.

Smyl's ES-RNN trained one network across many series; `rnnzoo compare` on a long table does the same (the windows
of all series pooled, each series scaled by its own training range). This asks whether that helps on the suite:
the series that share a season and a horizon form a group (monthly 18 ahead: co2, elnino; monthly 12 ahead:
airpassengers, wineind; quarterly without season: realgdp, cpi, unemp, tbilrate; quarterly season 4: ausbeer,
woolyrnq; the three yearly series share neither), one `sdiff` model per group and cell is trained on the pooled
windows (same budget, epochs, patience and rate as the suite), and each series' test MASE is computed from the
per-window sums of its own test windows, which are the suite's (same split, horizon and stride; the input length
is the group's, from its shortest series). Drift is one flag per model, so a group gets ``--drift`` or not for
all its series (the per-series models chose it by rnnzoo.compare.trend's rule).

    python benchmarks/forecasting_suite_global.py --seed 0 --suite docs/results/forecasting-suite-10k-three/suite.json \
        --out docs/results/forecasting-suite-global            # and again with --drift
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, run from anywhere
import forecasting_suite as suite  # noqa: E402

GROUPS = {"monthly-h18": ["co2", "elnino"], "monthly-h12": ["airpassengers", "wineind"],
          "quarterly-m1": ["realgdp", "cpi", "unemp", "tbilrate"], "quarterly-m4": ["ausbeer", "woolyrnq"]}
CELLS = ("rnn", "lstm", "peephole_lstm", "gru")


def run_group(names: list[str], *, drift: bool, seed: int, out: Path, tracking_uri: str) -> dict[str, dict[str, float]]:
    """``{series: {cell: test MASE}}`` of one global model per cell trained on the group's pooled windows."""
    from rnnzoo.compare import compare
    from rnnzoo.compare.user_data import fitting_budget
    from rnnzoo.compare.user_series import default_input_length
    from rnnzoo.data import TimeSeriesDataModule
    from rnnzoo.data.splits import chronological_split

    specs = [suite.SPECS[n] for n in names]
    season, horizon = specs[0].season, specs[0].horizon
    values = [suite.load_values(s).astype(np.float32).reshape(-1, 1) for s in specs]
    shortest_train = min(chronological_split(len(v), suite.PROPORTIONS)[0].stop for v in values)
    input_length = max(default_input_length(shortest_train, horizon, season), season)
    dm = TimeSeriesDataModule(values, input_length=input_length, horizon=horizon, season=season,
                              proportions=suite.PROPORTIONS, batch_size=16)
    dm.setup("fit")
    dm.setup("test")
    window_series = np.array([int(item["series"]) for item in dm.datasets["test"]])  # test-loader order
    config = {"task": "forecaster", "input_size": 1, "horizon": horizon, "normalization": "seasonal_difference",
              "season": season, "drift": drift}
    result = compare(dm, task_config=config, budget=fitting_budget(config, "10k"), cells=CELLS, seeds=(seed,),
                     max_epochs=40, patience=10, lr=3e-3, out_dir=out, tracking_uri=tracking_uri,
                     experiment_name="rnnzoo-forecasting-suite-global", threads=1, classical_baselines=False,
                     log=lambda line: None)
    scores: dict[str, dict[str, float]] = {name: {} for name in names}
    for run in result["runs"]:
        num, den = (np.asarray(run["items"]["mase"][k]) for k in ("num", "den"))
        for index, name in enumerate(names):
            mine = window_series == index
            scores[name][run["cell"]] = float(num[mine].sum() / den[mine].sum())
    return scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drift", action="store_true", help="every group's model starts from the drift forecast")
    parser.add_argument("--suite", required=True, help="a forecasting_suite.py suite.json (same seed) to compare with")
    parser.add_argument("--out", default="runs/forecasting-suite-global")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = json.loads(Path(args.suite).read_text())["table"]
    label = f"{'drift' if args.drift else 'no-drift'}-seed{args.seed}"
    started, scores = time.perf_counter(), {}
    for group, names in GROUPS.items():
        scores.update(run_group(names, drift=args.drift, seed=args.seed, out=out / "runs" / label / group,
                                tracking_uri=f"sqlite:///{(out / 'mlflow.db').resolve()}"))
        print(f"{group}: " + "; ".join(f"{n} " + ", ".join(f"{c} {scores[n][c]:.3f}" for c in CELLS) for n in names),
              flush=True)
    lines = [f"Global vs per-series seasonal-difference models, seed {args.seed}, "
             f"{'drift' if args.drift else 'no drift'} (test MASE; `python benchmarks/forecasting_suite_global.py "
             f"--seed {args.seed}{' --drift' if args.drift else ''} --suite {args.suite}`)", "",
             "| series | " + " | ".join(f"{c} per series / global" for c in CELLS) + " | ETS | AutoARIMA |",
             "|---" * (len(CELLS) + 3) + "|"]
    local = np.array([[table[n][f"sdiff {c}"] for c in CELLS] for n in scores])
    pooled = np.array([[scores[n][c] for c in CELLS] for n in scores])
    for row, name in enumerate(scores):
        lines.append(f"| {name} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in zip(local[row], pooled[row]))
                     + f" | {table[name]['ETS']:.3f} | {table[name]['AutoARIMA']:.3f} |")
    lines.append("| **mean** | " + " | ".join(f"**{a:.3f} / {b:.3f}**" for a, b in zip(local.mean(0), pooled.mean(0)))
                 + f" | {np.mean([table[n]['ETS'] for n in scores]):.3f} | "
                 f"{np.mean([table[n]['AutoARIMA'] for n in scores]):.3f} |")
    lines += ["", f"global lower on {int((pooled < local).sum())} of {pooled.size} (series, cell) pairs; "
              f"{time.perf_counter() - started:.0f} s"]
    (out / f"{label}.md").write_text("\n".join(lines) + "\n")
    (out / f"{label}.json").write_text(json.dumps(scores, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
