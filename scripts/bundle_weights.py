"""Copy the best model of each cell from an `rnnzoo compare` output into the bundled zoo (rnnzoo/weights/).

Usage: python scripts/bundle_weights.py RESULTS_JSON --family pianoroll --tag jsb --dataset jsb_chorales_music21 \
           --recipe-prefix recipes/jsb --paper "..." [--data-sha256 HEX]

For each cell it loads `models[cell]` from the compare's results.json (the best run by validation), and writes
`rnnzoo/weights/{family}-{cell}-{budget}.{tag}/` with `rnnzoo.save_pretrained`, recording in config.json's
`pretrained` block what that run measured on the test split, the recipe that reproduces it, the MLflow run id and
the sha256 of the weights file. Nothing is typed in by hand: every number comes from results.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import rnnzoo
from rnnzoo.hub import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME, save_pretrained, sha256_file
from rnnzoo.models.architectures import architecture_name
from rnnzoo.registry import PretrainedInfo
from rnnzoo.weights import WEIGHTS_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("--family", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--recipe-prefix", required=True, help="recipes/jsb gives recipes/jsb-{cell}-20k.yaml")
    parser.add_argument("--paper", required=True)
    parser.add_argument("--license", default="Apache-2.0")
    parser.add_argument("--data-sha256", default=None, help="default: meta.data_info.content_sha256")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    meta = results["meta"]
    data_sha = args.data_sha256 or meta["data_info"]["content_sha256"]
    for cell, best in results["models"].items():
        model = rnnzoo.load(f"local-dir:{best['path']}")
        architecture = architecture_name(args.family, cell)
        folder = WEIGHTS_DIR / f"{architecture}.{args.tag}"
        recipe = f"{args.recipe_prefix}-{cell.replace('_', '-')}-{meta['budget']}.yaml"
        if not Path(recipe).is_file():
            raise SystemExit(f"{recipe} does not exist: write the recipe that reproduces this run first")
        save_pretrained(model, folder)  # the weights file first: its sha256 goes into the metadata
        info = PretrainedInfo(
            architecture=architecture, tag=args.tag, task=model.task, dataset=args.dataset, split="test",
            data_sha256=data_sha, num_params=model.num_parameters,
            metrics={k: v for k, v in best["test"].items() if k != "loss"}, recipe=recipe, license=args.license,
            paper=args.paper, weights_sha256=sha256_file(folder / WEIGHTS_NAME),
            source=f"bundled:{folder.name}",
            extra={"seed": best["seed"], "mlflow_run_id": best["run_id"], "best_val": best["best_val"],
                   "monitor": meta["monitor"], "trained_at_commit": meta["git_commit"],
                   "compare_results": str(args.results), "torch": meta["torch_version"], "threads": meta["threads"]},
        )
        model.architecture = architecture
        # Only config.json and the card take the metadata: safetensors writes its header's metadata in no fixed
        # order, so saving the weights again could change the bytes the sha256 above describes.
        with tempfile.TemporaryDirectory() as tmp:
            save_pretrained(model, tmp, pretrained_info=info)
            for name in (CONFIG_NAME, CARD_NAME):
                shutil.copyfile(Path(tmp) / name, folder / name)
        assert sha256_file(folder / WEIGHTS_NAME) == info.weights_sha256
        print(f"{info.name}: {info.metrics} -> {folder}")


if __name__ == "__main__":
    main()
