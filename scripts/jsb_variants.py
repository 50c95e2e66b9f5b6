"""JSB chorales at ~20k parameters: training variants beyond the compare preset, measured over seeds.

    python scripts/jsb_variants.py --tag ema --cell lstm --lr 8.73e-3 --ema 0.99

Each seed trains a zoo piano-roll model (``pianoroll-<cell>-20k``, resized with ``--hidden``) through
TrainingModule and a Lightning Trainer on the preset's data (music21 chorales, 210 / 70 / 70 pieces, batch 16 unless
``--batch-size``). After every epoch it records the validation and test NLL per frame of the weights Lightning
validates (the averaged weights under ``--ema``/``--swa``). The epoch reported is the one of lowest validation NLL
(what early stopping with the best checkpoint keeps); test NLL is recorded at every epoch only so that it can be
reported for that epoch, it never picks anything. Prints one line per seed and a ``MEAN`` line with the chosen
epochs' validation NLL (compare variants on this column) and their test NLL.

Variants (Lightning callbacks, rnnzoo's or torch options; only the last is this script's own):
``--ema DECAY`` Lightning's EMAWeightAveraging (Polyak averaging of the weights, evaluated with the averages);
``--swa LR`` Lightning's StochasticWeightAveraging from ``--swa-start`` (a fraction of the epochs);
``--cosine`` learning-rate schedule; ``--weight-decay``; ``--layers``;
``--weight-noise SIGMA`` rnnzoo.training.weight_noise.WeightNoise: Gaussian noise on every weight for each training
step's forward and backward, the update applied to the clean weights (Graves 2011; Chung et al. 2014 use 0.075);
``--input-dropout P`` each sounding note of the model's input frames silenced with probability P in training.
"""

from __future__ import annotations

import argparse
import time

import lightning as L
import numpy as np
import torch

from rnnzoo.data import PianoRollDataModule
from rnnzoo.tasks.piano_roll.objective import PianoRollObjective
from rnnzoo.training import TrainingModule
from rnnzoo.training.weight_noise import WeightNoise


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tag", default="run", help="a name printed on each line")
    p.add_argument("--cell", default="lstm")
    p.add_argument("--hidden", type=int, default=None, help="units (default: the 20k model's)")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--input-dropout", type=float, default=0.0)
    p.add_argument("--weight-noise", type=float, default=0.0)
    p.add_argument("--optimizer", default="rmsprop", help="a name in rnnzoo.training.OPTIMIZERS")
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--cosine", action="store_true", help="cosine decay of the learning rate to 0 over --epochs")
    p.add_argument("--ema", type=float, default=0.0, help="decay of Lightning's EMAWeightAveraging (0: off)")
    p.add_argument("--swa", type=float, default=0.0, help="learning rate of Lightning's StochasticWeightAveraging")
    p.add_argument("--swa-start", type=float, default=0.5)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


@torch.no_grad()
def nll_per_frame(model: torch.nn.Module, loader) -> float:
    """NLL in nats per frame over every frame of ``loader``'s pieces: the objective's per-piece sums, pooled."""
    objective = PianoRollObjective()
    was_training = model.training
    model.eval()
    total = frames = 0.0
    for batch in loader:
        sums, counts = objective.item_scores(model, batch)["nll"]
        total, frames = total + float(sums.sum()), frames + float(counts.sum())
    model.train(was_training)
    return total / frames


class EpochScores(L.Callback):
    """(validation NLL, test NLL) after every epoch, of the weights Lightning validates. Put it before a weight-
    averaging callback: its hook then runs while the averaged weights are in place."""

    def __init__(self, datamodule: PianoRollDataModule):
        self.datamodule, self.rows = datamodule, []

    def on_validation_epoch_end(self, trainer: L.Trainer, module: TrainingModule) -> None:
        if trainer.sanity_checking:
            return
        self.rows.append((nll_per_frame(module.model, self.datamodule.val_dataloader()),
                          nll_per_frame(module.model, self.datamodule.test_dataloader())))


def add_input_dropout(model: torch.nn.Module, p: float) -> None:
    """Silence each sounding input note with probability ``p`` in training (the targets are untouched)."""
    own_forward = model.forward

    def forward(roll, *, lengths=None):
        if model.training and p > 0:
            roll = roll * (torch.rand_like(roll) >= p).to(roll.dtype)
        return own_forward(roll, lengths=lengths)

    model.forward = forward


def one_seed(args: argparse.Namespace, seed: int) -> dict[str, float]:
    L.seed_everything(seed, verbose=False)
    dm = PianoRollDataModule(batch_size=args.batch_size)
    overrides = {"dropout": args.dropout, "num_layers": args.layers}
    if args.hidden:
        overrides["hidden_size"] = args.hidden
    scheduler = None
    if args.cosine:
        scheduler = {"class_path": "CosineAnnealingLR", "init_args": {"T_max": args.epochs}}
    task = TrainingModule(f"pianoroll-{args.cell.replace('_', '-')}-20k", optimizer=args.optimizer, lr=args.lr,
                          weight_decay=args.weight_decay, model_overrides=overrides, lr_scheduler=scheduler)
    add_input_dropout(task.model, args.input_dropout)
    scores = EpochScores(dm)
    callbacks: list[L.Callback] = [scores]
    if args.weight_noise > 0:
        callbacks.append(WeightNoise(args.weight_noise))
    if args.ema > 0:
        callbacks.append(L.pytorch.callbacks.EMAWeightAveraging(decay=args.ema))
    if args.swa > 0:
        callbacks.append(L.pytorch.callbacks.StochasticWeightAveraging(swa_lrs=args.swa,
                                                                       swa_epoch_start=args.swa_start))
    trainer = L.Trainer(max_epochs=args.epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, gradient_clip_val=args.clip,
                        callbacks=callbacks)
    started = time.perf_counter()
    trainer.fit(task, datamodule=dm)
    val, test = np.array(scores.rows).T
    best = int(np.argmin(val))
    return {"params": sum(p.numel() for p in task.model.parameters()), "seconds": time.perf_counter() - started,
            "val": val[best], "test": test[best], "epoch": best + 1, "last_val": val[-1]}


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for seed in args.seeds:
        results.append(one_seed(args, seed))
        print(args.tag, "seed", seed, {k: (round(v, 4) if isinstance(v, float) else v)
                                       for k, v in results[-1].items()}, flush=True)
    val = [r["val"] for r in results]
    test = [r["test"] for r in results]
    print(f"MEAN {args.tag} params {results[0]['params']} val {np.mean(val):.4f} +- {np.std(val):.4f} "
          f"test {np.mean(test):.4f} +- {np.std(test):.4f} epochs {[r['epoch'] for r in results]} "
          f"seconds {sum(r['seconds'] for r in results):.0f}", flush=True)


if __name__ == "__main__":
    main()
