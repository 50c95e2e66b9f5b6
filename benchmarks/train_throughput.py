"""Training throughput of `rnnzoo fit` on the JSB recipes against a plain PyTorch loop, measured in the same run.

Usage: python benchmarks/train_throughput.py [--recipes recipes/jsb-gru-20k.yaml ...] [--epochs 4] [--rounds 2]
           [--threads N] [--cpu-time]
       (default: the four cells' 20k JSB recipes, one after the other)

--cpu-time times epochs in CPU seconds of the process (time.process_time) instead of wall seconds: the steadier
measure when another job shares the machine (then give --threads 1).

Both sides train the same model (the recipe's, with its model_overrides such as dropout), on the same DataLoader
(the recipe's DataModule, batch size and order), with the same loss code (TrainingModule's objective), RMSprop and
the recipe's gradient-norm clipping, and do the same per-step work that the recipe's callbacks add: weight noise
(WeightNoise: noise added before the forward pass, the clean weights back after backward) and the weights'
exponential moving average (EMAWeightAveraging: torch's AveragedModel updated after every optimizer step), so
that the ratio measures the framework's cost, not a difference in training. `rnnzoo fit`
runs as users run it: LightningCLI, MLflow logging to a temporary sqlite store, checkpoints, progress bar; only
validation is switched off, which the plain loop does not have. Per-epoch training time is taken inside the run
(callback hooks around each epoch; the first epoch of each run is warm-up and dropped), rounds alternate between
the two sides, and medians are compared. Prints sequences per second and the ratio rnnzoo / plain (goal >= 0.95).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
import yaml
from torch.optim.swa_utils import AveragedModel, get_ema_avg_fn

import rnnzoo
from rnnzoo.cli import main as rnnzoo_main
from rnnzoo.data import PianoRollDataModule
from rnnzoo.tasks import task_model_class

EPOCH_TIMES: list[float] = []
CLOCK = time.perf_counter  # time.process_time with --cpu-time


class EpochTimer(L.Callback):
    """Records each training epoch's wall time (loaded by `rnnzoo fit` through --trainer.callbacks+=)."""

    def on_train_epoch_start(self, trainer, pl_module):
        self.start = CLOCK()

    def on_train_epoch_end(self, trainer, pl_module):
        EPOCH_TIMES.append(CLOCK() - self.start)


def callback_args(recipe: dict, suffix: str) -> dict | None:
    """init_args of the recipe's callback whose class path ends with ``suffix`` (None: the recipe has none)."""
    for callback in recipe["trainer"].get("callbacks") or []:
        if callback["class_path"].endswith(suffix):
            return callback.get("init_args") or {}
    return None


def plain_epochs(recipe: dict, epochs: int) -> list[float]:
    torch.manual_seed(recipe["seed_everything"])
    model = rnnzoo.create_model(recipe["model"]["model"], **(recipe["model"].get("model_overrides") or {}))
    data = PianoRollDataModule(**recipe["data"]["init_args"])
    data.setup("fit")
    loader = data.train_dataloader()
    objective = task_model_class(model.task).objective_class()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=recipe["model"]["lr"])
    clip = recipe["trainer"]["gradient_clip_val"]
    noise = callback_args(recipe, "WeightNoise")
    ema = callback_args(recipe, "EMAWeightAveraging")
    average = (AveragedModel(model, use_buffers=True, avg_fn=get_ema_avg_fn(decay=ema.get("decay", 0.999)))
               if ema is not None else None)
    params = [p for p in model.parameters() if p.requires_grad]
    times = []
    model.train()
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)  # Lightning does this for `rnnzoo fit`
        start = CLOCK()
        for batch in loader:
            if noise is not None:
                with torch.no_grad():
                    clean = [p.detach().clone() for p in params]
                    for p in params:
                        p.add_(torch.randn_like(p), alpha=noise["sigma"])
            loss, _ = objective.step(model, batch, None, "train")
            optimizer.zero_grad()
            loss.backward()
            if noise is not None:
                with torch.no_grad():
                    for p, c in zip(params, clean):
                        p.copy_(c)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            if average is not None:
                average.update_parameters(model)
        times.append(CLOCK() - start)
    return times[1:]


def rnnzoo_epochs(recipe_path: Path, epochs: int, workdir: Path) -> list[float]:
    EPOCH_TIMES.clear()
    os.chdir(workdir)
    # Validation is off, so the recipe's early stopping (which watches a validation metric) goes too.
    recipe = yaml.safe_load(recipe_path.read_text())
    callbacks = recipe["trainer"].get("callbacks") or []
    recipe["trainer"]["callbacks"] = [c for c in callbacks if not c["class_path"].endswith("EarlyStopping")]
    recipe_path = workdir / recipe_path.name
    recipe_path.write_text(yaml.safe_dump(recipe))
    rnnzoo_main(["fit", "-c", str(recipe_path), "--trainer.max_epochs", str(epochs),
                 "--trainer.limit_val_batches", "0", "--trainer.default_root_dir", str(workdir / "run"),
                 "--trainer.callbacks+=__main__.EpochTimer"])
    return EPOCH_TIMES[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", type=Path, nargs="+", default=[Path(f"recipes/jsb-{cell}-20k.yaml") for cell in
                        ("rnn", "lstm", "peephole-lstm", "gru")])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--cpu-time", action="store_true", help="CPU seconds of the process instead of wall seconds")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.rounds} rounds x {args.epochs - 1} "
          f"timed epochs per side, medians")
    for recipe in [path.resolve() for path in args.recipes]:  # resolved before a run changes the directory
        compare_recipe(recipe, args.epochs, args.rounds)


def compare_recipe(recipe_path: Path, epochs: int, rounds: int) -> None:
    """Print one recipe's s/epoch and sequences/s, plain loop and `rnnzoo fit`, and their ratio."""
    recipe = yaml.safe_load(recipe_path.read_text())
    data = PianoRollDataModule(**recipe["data"]["init_args"])
    data.setup("fit")
    num_train = len(data.datasets["train"])
    plain, ours = [], []
    with tempfile.TemporaryDirectory(prefix="rnnzoo-bench-") as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        for _ in range(rounds):
            plain += plain_epochs(recipe, epochs)
            ours += rnnzoo_epochs(recipe_path, epochs, Path(tmp))
    plain_s, ours_s = statistics.median(plain), statistics.median(ours)
    print(f"{recipe_path.name}: {num_train} training sequences")
    print(f"  plain PyTorch loop : {plain_s:7.3f} s/epoch  {num_train / plain_s:8.1f} sequences/s")
    print(f"  rnnzoo fit         : {ours_s:7.3f} s/epoch  {num_train / ours_s:8.1f} sequences/s")
    print(f"  ratio rnnzoo fit / plain loop (sequences/s): {plain_s / ours_s:.3f}")


if __name__ == "__main__":
    main()
