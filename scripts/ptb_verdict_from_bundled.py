"""The PTB preset's verdict, computed from the bundled weights instead of a rerun.

`rnnzoo compare --data ptb` trains 4 cells for 13 epochs each (25-50 minutes a cell on 2 cores). The bundled
`wordlm-{cell}-4600k.ptb` weights are those runs' best checkpoints by validation perplexity (docs/results.md, PTB
section: one seed each). This script scores them per item on the preset's own validation and test windows (the
`ptb` DataModule, batch 20, BPTT 20), fits the task's baselines (Kneser-Ney bigram, unigram) on the same tokens, and
builds the same verdict `rnnzoo compare` writes: choice on validation, block-bootstrap intervals over items (one
seed: intervals over text windows only). What it is not: a rerun of training.

    python scripts/ptb_verdict_from_bundled.py --out docs/results/presets-verdict/ptb
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rnnzoo
from rnnzoo.compare.presets import get_preset
from rnnzoo.compare.verdict import build_verdict, collect_item_scores, inference_ms_per_step, verdict_markdown
from rnnzoo.families import CELL_NAMES
from rnnzoo.training import TrainingModule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a new folder for verdict.md and verdict.json")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty; give a new folder (earlier output is never overwritten)")
    import torch

    torch.set_num_threads(args.threads)
    preset = get_preset("ptb")
    dm = preset.datamodule(**preset.datamodule_defaults)
    dm.prepare_data()
    dm.setup("fit")
    runs, costs, started = [], {}, time.perf_counter()
    for cell in CELL_NAMES:
        name = f"wordlm-{cell.replace('_', '-')}-4600k.ptb"
        model = rnnzoo.load(name)
        saved, data = model.preprocessing.to_config()["text"], dm.preprocessing["text"]
        if (saved["vocab"], saved["level"]) != (data["vocab"], data["level"]):
            raise SystemExit(f"{name}: its vocabulary is not the ptb DataModule's; the scores would not pair")
        task = TrainingModule.from_model(model)
        items, val_items = collect_item_scores(task, dm), collect_item_scores(task, dm, "val")
        metric = task.objective.verdict_metric(dm)
        from_sums = task.objective.metric_from_sums
        test = {metric: from_sums(metric, sum(items[metric]["num"]), sum(items[metric]["den"]))}
        runs.append({"cell": cell, "seed": 0, "test": test, "items": items, "val_items": val_items,
                     "model": name})
        costs[cell] = {"params": model.num_parameters, "train_seconds_per_epoch": float("nan"),
                       "inference_ms_per_step": inference_ms_per_step(model)}
        print(f"{name}: test {metric} {test[metric]:.3f} ({time.perf_counter() - started:.0f} s so far)", flush=True)
    baselines = type(model).baselines(dm)
    objective = task.objective
    verdict = build_verdict(runs, metric, objective.item_metrics[metric],
                            lambda num, den: objective.metric_from_sums(metric, num, den), costs,
                            {k: v for k, v in baselines.items() if metric in v["items"]}, seed=0)
    args.out.mkdir(parents=True, exist_ok=True)
    header = ("# PTB preset: verdict from the bundled weights (not a rerun)\n\n"
              f"Made by `python scripts/ptb_verdict_from_bundled.py --out {args.out}` "
              f"({time.perf_counter() - started:.0f} s). One seed per cell (the bundled runs), so the intervals "
              "are over the test windows only.\n\n")
    (args.out / "verdict.md").write_text(header + verdict_markdown(verdict))
    (args.out / "verdict.json").write_text(json.dumps(
        {"verdict": verdict, "runs": [{k: v for k, v in r.items() if k not in ("items", "val_items")}
                                      for r in runs],
         "baselines": {k: {"test": v["scores"], "val": v["val_scores"]} for k, v in baselines.items()}},
        indent=1, default=str) + "\n")
    print(verdict_markdown(verdict))


if __name__ == "__main__":
    main()
