"""Regenerate every figure under docs/figures/ from rnnzoo.inspect: ``python docs/make_figures.py``.

This script is the only source of those PNGs (and of figures/numbers.json, the numbers behind them). For now it
runs the zoo's ``pianoroll-*-20k`` architectures **untrained** (seed 0): no trained weights exist yet. When they
do, set ``WEIGHTS`` to the pretrained names and run it again.

Data: the validation split of ``PianoRollDataModule()`` (Bach chorales from music21, seed 0; a first build takes
25-40 s, then it is cached). About 20 s on a 2-core CPU once the data is cached.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rnnzoo.data import PianoRollDataModule
from rnnzoo.inspect import gate_statistics, gradient_vs_lag, plot_gate_heatmaps, plot_gradient_lag, resolve_model
from rnnzoo.inspect.layer_input import batch_model_input

FIGURES = Path(__file__).resolve().parent / "figures"
CELLS = ["rnn", "lstm", "peephole-lstm", "gru"]
WEIGHTS = {cell: f"pianoroll-{cell}-20k" for cell in CELLS}  # bare names: built untrained from SEED
SEED, MAX_LAG, LAG_SEQUENCES = 0, 30, 8
UNTRAINED = "untrained, random initialisation (seed 0)"


def main() -> None:
    torch.set_num_threads(1)  # tiny models: one thread is fastest on a shared CPU
    FIGURES.mkdir(exist_ok=True)
    data = PianoRollDataModule(batch_size=LAG_SEQUENCES, progress=False)
    data.setup()
    batch = next(iter(data.val_dataloader()))
    chorale = None
    numbers: dict = {"weights": UNTRAINED, "data": "PianoRollDataModule() val split (music21 chorales, seed 0)",
                     "content_sha256": data.info.get("content_sha256"), "models": {}}
    curves = {}
    for cell in CELLS:
        model = resolve_model(WEIGHTS[cell], seed=SEED)
        model_input, lengths = batch_model_input(model, batch)
        if chorale is None:
            chorale = model_input[0, : int(lengths[0])]
        (figure,) = plot_gate_heatmaps(model, chorale, FIGURES, prefix=f"gates-{cell}",
                                       title=f"{WEIGHTS[cell]} ({UNTRAINED}) on the first validation chorale")
        stats = gate_statistics(model, data, split="val")
        curve = gradient_vs_lag(model, model_input, lengths, max_lag=MAX_LAG)
        curves[f"{cell} ({model.config['hidden_size']} units)"] = curve
        numbers["models"][WEIGHTS[cell]] = {"gate_stats": stats, "gradient_lag": curve}
        print(f"{figure.path.name}: {figure.path.stat().st_size // 1024} KB")
    path = plot_gradient_lag(curves, FIGURES / "gradient-lag.png",
                             f"pianoroll-*-20k, {UNTRAINED}\n{LAG_SEQUENCES} validation chorales")
    print(f"{path.name}: {path.stat().st_size // 1024} KB")
    (FIGURES / "numbers.json").write_text(json.dumps(numbers, indent=1) + "\n")

    print("\n| cell | k=1 | k=5 | k=10 | k=20 | k=30 |\n|---|---|---|---|---|---|")
    for label, curve in curves.items():
        print(f"| {label} | " + " | ".join(f"{curve['relative'][k]:.2g}" for k in (1, 5, 10, 20, 30)) + " |")
    print("\n| cell | gate | mean | saturated |\n|---|---|---|---|")
    for name, entry in numbers["models"].items():
        for gate, s in entry["gate_stats"]["slots"]["layer 0"].items():
            sat = "—" if s["saturated"] is None else f"{s['saturated']:.3f}"
            print(f"| {name} | {gate} | {s['mean']:.3f} | {sat} |")


if __name__ == "__main__":
    main()
