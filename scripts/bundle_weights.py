"""Copy the best model of each cell from an `rnnzoo compare` output into the bundled zoo (rnnzoo/weights/).

Usage: python scripts/bundle_weights.py RESULTS_JSON --family pianoroll --tag jsb --dataset jsb_chorales_music21 \
           --recipe-prefix recipes/jsb --paper "..." [--data-sha256 HEX] [--recipe-suffix=-quantiles]
       python scripts/bundle_weights.py --checkpoint CKPT --recipe RECIPE --tag ptb --dataset ptb_word --paper "..."
           [--store-dtype float16]        (one model trained with `rnnzoo fit -c RECIPE`)
       python scripts/bundle_weights.py --refresh-cards   (README.md of every entry again from its config.json)

For each cell it loads `models[cell]` from the compare's results.json (the best run by validation), and writes
`rnnzoo/weights/{family}-{cell}-{budget}.{tag}/` with `rnnzoo.save_pretrained`, recording in config.json's
`pretrained` block what that run measured on the test split, the recipe that reproduces it, the MLflow run id and
the sha256 of the weights file. Nothing is typed in by hand: every number comes from results.json.

With `--checkpoint` the model is a Lightning checkpoint of `rnnzoo fit -c RECIPE` (the recipe names a zoo
architecture, which becomes the entry's name); its validation and test metrics are measured here on the recipe's
own DataModule, and the MLflow run id and commit come from the run the checkpoint folder records.

With `--store-dtype float16` (for entries of millions of parameters, e.g. the 4.6M-parameter PTB models) the
weights are stored in half precision, which halves the bundle, and the stated test metrics are measured again on
the test split from the stored weights (loaded back into float32, as `rnnzoo.load` does); the float32 run's own
figures stay in the metadata as `metrics_float32_run`.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any, Callable

import lightning as L
import torch

import rnnzoo
from rnnzoo.hub import CARD_NAME, WEIGHTS_NAME, save_pretrained, sha256_file, write_pretrained_info
from rnnzoo.families import FAMILIES, architecture_name
from rnnzoo.model_card import render_model_card
from rnnzoo.registry import PretrainedInfo
from rnnzoo.tasks import task_model_class
from rnnzoo.weights import WEIGHTS_DIR, write_index


def measure_test_metrics(model: torch.nn.Module, meta: dict, names: list[str]) -> dict[str, float]:
    """``names`` measured on the test split of the compare run's own DataModule (preset and options)."""
    from rnnzoo.compare.presets import get_preset

    preset = get_preset(meta["data"])
    data = preset.datamodule(**{**preset.datamodule_defaults, **meta["datamodule_options"]})
    scores = measure(model, data, "test")
    return {name: scores[name] for name in names}


def recipe_datamodule(recipe: dict) -> L.LightningDataModule:
    """The recipe's ``data`` section, built as LightningCLI builds it (class_path and init_args)."""
    module_name, _, class_name = recipe["data"]["class_path"].rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)(**recipe["data"].get("init_args", {}))


def measure(model: torch.nn.Module, data: L.LightningDataModule, stage: str) -> dict[str, float]:
    """The task's metrics of ``model`` on the ``stage`` split ("val" or "test") of ``data``."""
    from rnnzoo.training import TrainingModule

    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    run = trainer.validate if stage == "val" else trainer.test
    scores = run(TrainingModule.from_model(model), datamodule=data, verbose=False)[0]
    return {k.removeprefix(f"{stage}/"): float(v) for k, v in scores.items()
            if k.startswith(f"{stage}/") and k != f"{stage}/loss"}


def write_entry(model: torch.nn.Module, architecture: str, tag: str, store_dtype: str, metrics: dict[str, float],
                remeasure: Callable[[torch.nn.Module], dict[str, float]], extra: dict[str, Any],
                **fields: Any) -> PretrainedInfo:
    """Write ``rnnzoo/weights/{architecture}.{tag}/``: the weights (in ``store_dtype``), config.json with its
    PretrainedInfo (``fields``: dataset, recipe, ...), the card. Stored in float16, the stated test metrics are
    ``remeasure(model)`` of the weights as loading gives them back, and the float32 ones move to ``extra``."""
    if store_dtype == "float16":
        model = model.half().float()  # what loading the stored file gives back
        extra = {**extra, "stored_dtype": "float16", "metrics_float32_run": metrics}
        metrics = remeasure(model)
    folder = WEIGHTS_DIR / f"{architecture}.{tag}"
    stored = model.half() if store_dtype == "float16" else model
    save_pretrained(stored, folder)
    info = PretrainedInfo(architecture=architecture, tag=tag, task=model.task, split="test",
                          num_params=model.num_parameters, metrics=metrics,
                          weights_sha256=sha256_file(folder / WEIGHTS_NAME), source=f"bundled:{folder.name}",
                          extra=extra, **fields)
    stored.architecture = architecture
    write_pretrained_info(stored, folder, info)
    assert sha256_file(folder / WEIGHTS_NAME) == info.weights_sha256
    return info


def bundle_checkpoint(args: argparse.Namespace) -> None:
    """One entry from a `rnnzoo fit` checkpoint: the recipe's architecture, metrics measured on its data."""
    import yaml
    from mlflow.tracking import MlflowClient

    from rnnzoo.mlflow_export import RUN_FILE
    from rnnzoo.training import TrainingModule
    from rnnzoo.training.checkpoints import check_checkpoint_file

    recipe = yaml.safe_load(args.recipe.read_text())
    architecture = recipe["model"]["model"]
    task = TrainingModule.load_from_checkpoint(check_checkpoint_file(args.checkpoint), map_location="cpu")
    model = task.model
    registered = rnnzoo.create_model(architecture).config  # the name must describe the model
    training_only = ("dropout", "init_range")  # change no weight's shape or meaning at inference
    wrong = {k: (model.config.get(k), v) for k, v in registered.items()
             if k not in training_only and model.config.get(k) != v}
    if wrong:
        raise SystemExit(f"{args.checkpoint} is not a {architecture}: (trained, registered) differ in {wrong}")
    run = json.loads((args.checkpoint.parent / RUN_FILE).read_text())
    tags = MlflowClient(run["tracking_uri"]).get_run(run["run_id"]).data.tags
    data = recipe_datamodule(recipe)
    val = measure(model, data, "val")
    monitor = task.objective.monitor[0]
    info = write_entry(
        model, architecture, args.tag, args.store_dtype, measure(model, data, "test"),
        lambda stored: measure(stored, data, "test"),
        {"seed": recipe.get("seed_everything"), "mlflow_run_id": run["run_id"],
         "best_val": val[monitor.removeprefix("val/")], "monitor": monitor,
         "trained_at_commit": tags.get("git_commit", ""), "checkpoint": str(args.checkpoint), "torch": torch.__version__},
        dataset=args.dataset, data_sha256=args.data_sha256 or data.info["content_sha256"], recipe=str(args.recipe),
        license=args.license, paper=args.paper)
    print(f"{info.name}: validation {val}, test {info.metrics} -> {WEIGHTS_DIR / info.name}")
    write_index()


def refresh_cards() -> None:
    """Write each bundled entry's README.md again from its config.json (weights and config untouched)."""
    for config_path in sorted(WEIGHTS_DIR.glob("*/config.json")):
        config = json.loads(config_path.read_text())
        model_class = task_model_class(config["task"])
        card = render_model_card(config, model_class.card_tags, usage=model_class.card_usage)  # str or f(config)
        (config_path.parent / CARD_NAME).write_text(card)
        print(f"{config_path.parent.name}: card written")
    write_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, nargs="?")
    parser.add_argument("--refresh-cards", action="store_true")
    parser.add_argument("--checkpoint", type=Path, help="a `rnnzoo fit` checkpoint (with --recipe) instead of RESULTS_JSON")
    parser.add_argument("--recipe", type=Path, help="the recipe that trained --checkpoint")
    parser.add_argument("--family")
    parser.add_argument("--tag")
    parser.add_argument("--dataset")
    parser.add_argument("--recipe-prefix", help="recipes/jsb gives recipes/jsb-{cell}-20k.yaml")
    parser.add_argument("--recipe-suffix", default="",
                        help="--recipe-suffix=-quantiles gives recipes/co2-{cell}-20k-quantiles.yaml (the quantile-forecaster family)")
    parser.add_argument("--paper")
    parser.add_argument("--license", default="Apache-2.0")
    parser.add_argument("--data-sha256", default=None, help="default: meta.data_info.content_sha256")
    parser.add_argument("--store-dtype", choices=["float32", "float16"], default="float32")
    args = parser.parse_args()
    if args.refresh_cards:
        return refresh_cards()
    if args.checkpoint:
        if not (args.recipe and args.tag and args.dataset and args.paper):
            parser.error("--checkpoint needs --recipe, --tag, --dataset and --paper")
        return bundle_checkpoint(args)
    if not (args.results and args.family and args.tag and args.dataset and args.recipe_prefix and args.paper):
        parser.error("RESULTS_JSON, --family, --tag, --dataset, --recipe-prefix and --paper are needed")
    results = json.loads(args.results.read_text())
    meta = results["meta"]
    data_sha = args.data_sha256 or meta["data_info"]["content_sha256"]
    for cell, best in results["models"].items():
        model = rnnzoo.load(f"local-dir:{best['path']}")
        architecture = architecture_name(args.family, cell)
        family = FAMILIES[args.family]  # the name must describe the model: the family's config and matched size
        expected = {**family.config, "cell": cell, "hidden_size": family.sizes[cell]}
        wrong = {k: (model.config.get(k), v) for k, v in expected.items() if model.config.get(k) != v}
        if wrong:
            raise SystemExit(f"{best['path']} is not a {architecture}: (trained, family) differ in {wrong}")
        recipe = f"{args.recipe_prefix}-{cell.replace('_', '-')}-{FAMILIES[args.family].label}{args.recipe_suffix}.yaml"
        if not Path(recipe).is_file():
            raise SystemExit(f"{recipe} does not exist: write the recipe that reproduces this run first")
        metrics = {k: v for k, v in best["test"].items() if k != "loss" and not k.endswith("_raw")}
        # a calibrated quantile model's test metrics before calibration (its network's own intervals)
        raw = {k.removesuffix("_raw"): v for k, v in best["test"].items() if k.endswith("_raw")}
        info = write_entry(
            model, architecture, args.tag, args.store_dtype, metrics,
            lambda stored: measure_test_metrics(stored, meta, list(metrics)),
            {"seed": best["seed"], "mlflow_run_id": best["run_id"], "best_val": best["best_val"],
             "monitor": meta["monitor"], "trained_at_commit": meta["git_commit"],
             "compare_results": str(args.results), "torch": meta["torch_version"], "threads": meta["threads"],
             **({"uncalibrated": raw} if raw else {})},
            dataset=args.dataset, data_sha256=data_sha, recipe=recipe, license=args.license, paper=args.paper)
        print(f"{info.name}: {info.metrics} -> {WEIGHTS_DIR / info.name}")
    write_index()


if __name__ == "__main__":
    main()
