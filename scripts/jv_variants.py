"""JapaneseVowels: training variants of the sequence classifier beyond the compare preset, measured over seeds.

    python scripts/jv_variants.py --tag bi-do3-noise4 --bidirectional --hidden 50 --dropout 0.3 --noise 0.4 \
        --cosine --epochs 100 --lr 3e-3

Each seed trains ``SequenceClassifier`` through TrainingModule and a Lightning Trainer (Adam, batch 32, clip 1, the
preset's split: 216 train / 54 validation utterances of the official 270, the official 370 for test). After every
epoch it records validation loss and accuracy, and test accuracy. The epoch reported is chosen on validation only,
by three rules: the first epoch of highest validation accuracy (what ``rnnzoo compare`` does), the highest
validation accuracy with ties broken by the lower validation loss, and the lowest validation loss; plus the last
epoch (no choice). Test accuracy is recorded at every epoch so that the rules can be compared afterwards; it never
picks anything. Prints one line per seed and a ``MEAN`` line: the test accuracy under each rule, mean over seeds.

Variants this script adds to the model for exploration (not options of the package's models): ``--noise`` (Gaussian
noise of that standard deviation added to the standardised features in training) and ``--pool mean`` (the mean of
the layer's outputs over each sequence's steps instead of its last state); ``--ema DECAY`` is Lightning's
EMAWeightAveraging callback and ``--weight-noise SIGMA`` rnnzoo's WeightNoise; ``--crop F`` and ``--warp W`` train
on random stretches of each utterance (a contiguous part of at least F of its frames, resampled at a speed in
1 +- W); ``--deltas`` appends each frame's change from the previous one (24 inputs); ``--errors`` prints which test utterances the last epoch's model gets wrong. ``--val-fraction`` near 0 trains on
nearly all 270 utterances (then only the last epoch means anything).
"""

from __future__ import annotations

import argparse
import time

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from rnnzoo.data import SpeechFeaturesDataModule
from rnnzoo.training import TrainingModule
from rnnzoo.training.weight_noise import WeightNoise


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tag", default="run", help="a name printed on each line")
    p.add_argument("--cell", default="gru")
    p.add_argument("--hidden", type=int, default=74, help="units (74: the 20k GRU; 50 bidirectional is 20k too)")
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--pool", choices=("last", "mean"), default="last")
    p.add_argument("--crop", type=float, default=1.0,
                   help="in training, a random contiguous stretch of at least this fraction of each utterance "
                        "(1: the whole utterance); the speaker is the label, so any stretch of /ae/ keeps it")
    p.add_argument("--warp", type=float, default=0.0,
                   help="in training, resample each utterance at a random speed in 1 +- this (0: off)")
    p.add_argument("--layers", type=int, default=1, help="stacked recurrent layers (dropout acts between them too)")
    p.add_argument("--optimizer", default="adam", help="a name in rnnzoo.training.OPTIMIZERS (adamw: decoupled decay)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--cosine", action="store_true", help="cosine decay of the learning rate to 0 over --epochs")
    p.add_argument("--deltas", action="store_true",
                   help="append each frame's change from the previous frame to its features (24 inputs)")
    p.add_argument("--weight-noise", type=float, default=0.0, help="sigma of rnnzoo's WeightNoise (0: off)")
    p.add_argument("--ema", type=float, default=0.0, help="decay of Lightning's EMAWeightAveraging (0: off); the "
                                                           "scores are then the averaged weights'")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--errors", action="store_true",
                   help="also print the test utterances the last epoch's model gets wrong, as (index in the official "
                        "test set, speaker, predicted speaker), speakers numbered 0-8")
    return p.parse_args()


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader``."""
    model.eval()
    n = correct = 0
    loss = 0.0
    for batch in loader:
        logits = model(batch["features"], lengths=batch["lengths"])
        loss += F.cross_entropy(logits, batch["label"], reduction="sum").item()
        correct += (logits.argmax(-1) == batch["label"]).sum().item()
        n += len(batch["label"])
    model.train()
    return loss / n, correct / n


class EpochScores(L.Callback):
    """(val loss, val acc, test acc) after every epoch."""

    def __init__(self, datamodule: SpeechFeaturesDataModule):
        self.datamodule, self.rows = datamodule, []

    def on_validation_epoch_end(self, trainer: L.Trainer, module: TrainingModule) -> None:
        if trainer.sanity_checking:
            return
        val_loss, val_acc = evaluate(module.model, self.datamodule.val_dataloader())
        _, test_acc = evaluate(module.model, self.datamodule.test_dataloader())
        self.rows.append((val_loss, val_acc, test_acc))


def random_stretch(features: torch.Tensor, lengths: torch.Tensor, crop: float, warp: float
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Each padded utterance resampled at a random speed in 1 +- ``warp`` (linear interpolation between frames),
    then a random contiguous stretch of at least ``crop`` of its frames; returns new features and lengths."""
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    speed = 1 + warp * (2 * torch.rand(len(lengths)) - 1)
    warped = torch.clamp((lengths.float() / speed).round().long(), min=2)
    kept = torch.clamp((warped.float() * (crop + (1 - crop) * torch.rand(len(lengths)))).round().long(), min=2)
    kept = torch.minimum(kept, warped)
    start = (torch.rand(len(lengths)) * (warped - kept + 1).float()).floor().long()
    steps = torch.arange(int(kept.max()))
    # position of each new frame in the warped utterance, mapped back onto the original frames
    position = (start[:, None] + steps[None]).float() * (lengths - 1).float()[:, None] / (warped - 1).float()[:, None]
    position = torch.minimum(position, (lengths - 1).float()[:, None])
    below = position.floor().long()
    above = torch.minimum(below + 1, (lengths - 1)[:, None])
    weight = (position - below.float()).unsqueeze(-1)
    take = lambda index: torch.gather(features, 1, index.unsqueeze(-1).expand(-1, -1, features.shape[-1]))
    return (1 - weight) * take(below) + weight * take(above), kept


@torch.no_grad()
def test_errors(model: torch.nn.Module, datamodule: SpeechFeaturesDataModule) -> list[tuple[int, int, int]]:
    """(index, label, prediction) of each misclassified test utterance, one utterance at a time in set order."""
    model.eval()
    wrong = []
    for index, item in enumerate(datamodule.datasets["test"]):
        features = item["features"].unsqueeze(0)
        predicted = int(model(features, lengths=torch.tensor([len(item["features"])])).argmax(-1))
        if predicted != int(item["label"]):
            wrong.append((index, int(item["label"]), predicted))
    model.train()
    return wrong


def with_deltas(features: torch.Tensor) -> torch.Tensor:
    """(B, T, F) -> (B, T, 2F): each frame followed by its change from the previous frame (zero at the first),
    the "delta" features of speech recognisers. Padding frames get deltas too; the layer never reads them."""
    deltas = torch.zeros_like(features)
    deltas[:, 1:] = features[:, 1:] - features[:, :-1]
    return torch.cat([features, deltas], dim=-1)


def add_variants(model: torch.nn.Module, noise: float, pool: str, crop: float = 1.0, warp: float = 0.0,
                 deltas: bool = False) -> None:
    """Input noise, random stretches, delta features and mean pooling, on this model instance only."""
    own_forward = model.forward

    def forward(features, *, lengths=None):
        if model.training and (crop < 1 or warp > 0):
            features, lengths = random_stretch(features, lengths, crop, warp)
        if model.training and noise > 0:
            features = features + noise * torch.randn_like(features)
        if deltas:  # after the noise: the deltas of noisy frames are what a noisy recording would give
            features = with_deltas(features)
        if pool == "last":
            return own_forward(features, lengths=lengths)
        outputs, _ = model.rnn(model.drop(features), lengths=lengths)
        steps = torch.as_tensor(lengths, device=outputs.device)
        mask = (torch.arange(outputs.shape[1], device=outputs.device)[None] < steps[:, None]).unsqueeze(-1)
        return model.head(model.drop((outputs * mask).sum(1) / steps[:, None].to(outputs.dtype)))

    model.forward = forward


def one_seed(args: argparse.Namespace, seed: int) -> dict[str, float]:
    L.seed_everything(seed, verbose=False)
    dm = SpeechFeaturesDataModule("japanese_vowels", batch_size=32, bucket_by_length=True,
                                  val_fraction=args.val_fraction)
    scheduler = ({"class_path": "CosineAnnealingLR", "init_args": {"T_max": args.epochs}} if args.cosine else None)
    task = TrainingModule({"task": "sequence_classifier", "cell": args.cell, "input_size": 24 if args.deltas else 12,
                           "num_classes": 9,
                           "hidden_size": args.hidden, "num_layers": args.layers, "bidirectional": args.bidirectional,
                           "dropout": args.dropout},
                          optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay, lr_scheduler=scheduler)
    add_variants(task.model, args.noise, args.pool, args.crop, args.warp, args.deltas)
    scores = EpochScores(dm)
    # scores first: its hook then runs while the EMA callback has the averaged weights in place
    averaging = [L.pytorch.callbacks.EMAWeightAveraging(decay=args.ema)] if args.ema > 0 else []
    noise = [WeightNoise(args.weight_noise)] if args.weight_noise > 0 else []
    trainer = L.Trainer(max_epochs=args.epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, gradient_clip_val=1.0,
                        callbacks=[scores, *averaging, *noise])
    started = time.perf_counter()
    trainer.fit(task, datamodule=dm)
    rows = np.array(scores.rows)
    val_loss, val_acc, test_acc = rows.T
    first_best = int(np.argmax(val_acc))
    ties = np.flatnonzero(val_acc == val_acc.max())
    tie_broken = int(ties[np.argmin(val_loss[ties])])
    lowest_loss = int(np.argmin(val_loss))
    # EMA's averaged weights are in place after fit (its on_train_end swaps them in), as in the last scores row
    errors = {"test_errors": test_errors(task.model, dm)} if args.errors else {}
    return {**errors, "params": sum(p.numel() for p in task.model.parameters()),
            "seconds": time.perf_counter() - started,
            "first_best_acc": test_acc[first_best], "best_acc_then_loss": test_acc[tie_broken],
            "lowest_loss": test_acc[lowest_loss], "last": test_acc[-1],
            "epochs": (first_best + 1, tie_broken + 1, lowest_loss + 1)}


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    results = []
    for seed in args.seeds:
        results.append(one_seed(args, seed))
        print(args.tag, "seed", seed, {k: (round(v, 4) if isinstance(v, float) else v)
                                       for k, v in results[-1].items()}, flush=True)
    rules = ("first_best_acc", "best_acc_then_loss", "lowest_loss", "last")
    print("MEAN", args.tag, f"params {results[0]['params']}",
          {rule: round(float(np.mean([r[rule] for r in results])), 4) for rule in rules},
          {rule: round(float(np.std([r[rule] for r in results])), 4) for rule in rules}, flush=True)


if __name__ == "__main__":
    main()
