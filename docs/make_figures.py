"""Regenerate every figure under docs/figures/ from rnnzoo.inspect: ``python docs/make_figures.py``.

This script is the only source of those PNGs (and of figures/numbers.json, the numbers behind them). It inspects
the four ``pianoroll-*-20k`` cells twice:

* **trained**: the bundled pretrained weights ``pianoroll-{cell}-20k.jsb`` (``rnnzoo.list_pretrained()``), loaded
  by ``rnnzoo.load`` through the inspect API's model resolution; their test metrics come from
  ``rnnzoo.weights.BUNDLED``;
* **untrained**: the same architectures built from a random initialisation (seed 0), for contrast.

Written: ``gates-{cell}_layer_0.png`` (trained, first validation chorale), ``gradient-lag.png`` (trained),
``gradient-lag-untrained.png`` and ``numbers.json`` (both runs, plus a ``summary`` block holding the rounded
values the documentation page quotes).

Data: the validation split of ``PianoRollDataModule()`` (Bach chorales from music21, seed 0; a first build takes
25-40 s, then it is cached). About 25 s on a 2-core CPU once the data is cached.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rnnzoo.data import PianoRollDataModule
from rnnzoo.inspect import gate_statistics, gradient_vs_lag, plot_gate_heatmaps, plot_gradient_lag, resolve_model
from rnnzoo.inspect.layer_input import batch_model_input
from rnnzoo.weights import BUNDLED

FIGURES = Path(__file__).resolve().parent / "figures"
CELLS = ["rnn", "lstm", "peephole-lstm", "gru"]
WEIGHTS = {cell: f"pianoroll-{cell}-20k.jsb" for cell in CELLS}  # bundled pretrained weights (rnnzoo.load)
UNTRAINED_NAMES = {cell: f"pianoroll-{cell}-20k" for cell in CELLS}  # bare names: built untrained from SEED
SEED, MAX_LAG, LAG_SEQUENCES = 0, 30, 8
SUMMARY_LAGS = (1, 5, 10, 20, 30)
UNTRAINED = "untrained, random initialisation (seed 0)"
TRAINED = "trained: bundled weights pianoroll-{cell}-20k.jsb"
PRODUCED = ["gates-rnn_layer_0.png", "gates-lstm_layer_0.png", "gates-peephole-lstm_layer_0.png",
            "gates-gru_layer_0.png", "gradient-lag.png", "gradient-lag-untrained.png", "numbers.json"]


def pretrained_info(name: str) -> dict:
    """The bundled metadata of ``name`` (``architecture.tag``): where the weights came from and their metrics."""
    for info in BUNDLED:
        if f"{info.architecture}.{info.tag}" == name:
            return {"name": name, "dataset": info.dataset, "split": info.split, "metrics": info.metrics,
                    "recipe": info.recipe, "weights_sha256": info.weights_sha256, "source": info.source,
                    "data_sha256": info.data_sha256}
    raise KeyError(f"{name} is not among the bundled weights: {[f'{i.architecture}.{i.tag}' for i in BUNDLED]}")


def summarise(models: dict) -> dict:
    """Rounded values for the page: relative gradient at a few lags (2 significant digits), gate means and
    saturated fractions (3 decimals)."""
    out = {}
    for name, entry in models.items():
        relative = entry["gradient_lag"]["relative"]
        gates = {gate: {key: None if s[key] is None else round(s[key], 3)
                        for key in ("mean", "saturated", "low", "high")}
                 for gate, s in entry["gate_stats"]["slots"]["layer 0"].items()}
        out[name] = {"relative_gradient": {str(k): float(f"{relative[k]:.2g}") for k in SUMMARY_LAGS},
                     "norm_lag0": float(f"{entry['gradient_lag']['norm'][0]:.3g}"), "gates": gates}
        if "start_frame_check" in entry:
            check = entry["start_frame_check"]["relative"]
            out[name]["start_frame_check"] = {str(k): float(f"{check[k]:.2g}") for k in (MAX_LAG, MAX_LAG + 1)}
        if "pretrained" in entry:
            out[name]["test_nll"] = round(entry["pretrained"]["metrics"]["nll"], 2)
    return out


def main() -> None:
    torch.set_num_threads(1)  # tiny models: one thread is fastest on a shared CPU
    FIGURES.mkdir(exist_ok=True)
    for stale in FIGURES.iterdir():  # only what this run writes stays in figures/
        if stale.name not in PRODUCED:
            stale.unlink()
    data = PianoRollDataModule(batch_size=LAG_SEQUENCES, progress=False)
    data.setup()
    batch = next(iter(data.val_dataloader()))
    chorale = None
    numbers: dict = {"data": "PianoRollDataModule() val split (music21 chorales, seed 0)",
                     "content_sha256": data.info.get("content_sha256"),
                     "heatmap_input": None,
                     "gradient_lag_input": f"the first {LAG_SEQUENCES} validation chorales (one batch)",
                     "trained": {"weights": "bundled pretrained weights, rnnzoo.load(name)", "models": {}},
                     "untrained": {"weights": UNTRAINED, "models": {}}}
    curves: dict[str, dict] = {"trained": {}, "untrained": {}}
    for cell in CELLS:
        for run, spec in (("trained", WEIGHTS[cell]), ("untrained", UNTRAINED_NAMES[cell])):
            model = resolve_model(spec, seed=SEED)
            model_input, lengths = batch_model_input(model, batch)
            if chorale is None:
                chorale = model_input[0, : int(lengths[0])]
                numbers["heatmap_input"] = (f"the first validation chorale as the model reads it: {int(lengths[0])} "
                                            "steps, step 0 the all-silent start frame, then its frames but the last")
            entry: dict = {"hidden_size": model.config["hidden_size"]}
            if run == "trained":
                entry["pretrained"] = pretrained_info(spec)
                nll = entry["pretrained"]["metrics"]["nll"]
                (figure,) = plot_gate_heatmaps(
                    model, chorale, FIGURES, prefix=f"gates-{cell}",
                    title=f"{spec} (trained, test NLL {nll:.2f}) on the first validation chorale")
                print(f"{figure.path.name}: {figure.path.stat().st_size // 1024} KB")
            entry["gate_stats"] = gate_statistics(model, data, split="val")
            entry["gradient_lag"] = gradient_vs_lag(model, model_input, lengths, max_lag=MAX_LAG)
            if run == "trained":
                # Each chorale's first target step is t = MAX_LAG, so lag MAX_LAG includes x_0, the silent start
                # frame. With max_lag = MAX_LAG + 1 the first t moves to MAX_LAG + 1: whatever is special about
                # x_0 moves to lag MAX_LAG + 1 too.
                entry["start_frame_check"] = gradient_vs_lag(model, model_input, lengths, max_lag=MAX_LAG + 1)
            curves[run][f"{cell} ({entry['hidden_size']} units)"] = entry["gradient_lag"]
            numbers[run]["models"][spec] = entry

    for run, path, label in (("trained", FIGURES / "gradient-lag.png", "trained (bundled *.jsb weights)"),
                             ("untrained", FIGURES / "gradient-lag-untrained.png", UNTRAINED)):
        plot_gradient_lag(curves[run], path, f"pianoroll-*-20k, {label}\n{LAG_SEQUENCES} validation chorales")
        print(f"{path.name}: {path.stat().st_size // 1024} KB")
    numbers["summary"] = {run: summarise(numbers[run]["models"]) for run in ("trained", "untrained")}
    (FIGURES / "numbers.json").write_text(json.dumps(numbers, indent=1) + "\n")

    # The page's tables, from the summary block just written.
    summary = numbers["summary"]
    print("\n| cell | weights | " + " | ".join(f"k={k}" for k in SUMMARY_LAGS) + " |\n|---|---|"
          + "---|" * len(SUMMARY_LAGS))
    for cell in CELLS:
        for run, spec in (("untrained", UNTRAINED_NAMES[cell]), ("trained", WEIGHTS[cell])):
            rel = summary[run][spec]["relative_gradient"]
            print(f"| {cell} | {run} | " + " | ".join(f"{rel[str(k)]:g}" for k in SUMMARY_LAGS) + " |")
    print("\nlag-0 norm and start-frame check (relative, first t = MAX_LAG + 1):")
    for cell in CELLS:
        entry = summary["trained"][WEIGHTS[cell]]
        print(f"  {cell}: norm_lag0 trained {entry['norm_lag0']:g}, untrained "
              f"{summary['untrained'][UNTRAINED_NAMES[cell]]['norm_lag0']:g}; check {entry['start_frame_check']}")
    print("\n| cell | gate | mean untrained | mean trained | saturated untrained | saturated trained (low + high) |\n"
          "|---|---|---|---|---|---|")
    for cell in CELLS:
        before = summary["untrained"][UNTRAINED_NAMES[cell]]["gates"]
        after = summary["trained"][WEIGHTS[cell]]["gates"]
        for gate in after:
            sat = ["—" if g[gate]["saturated"] is None else f"{g[gate]['saturated']:.3f}" for g in (before, after)]
            if after[gate]["saturated"] is not None:
                sat[1] += f" ({after[gate]['low']:.3f} + {after[gate]['high']:.3f})"
            print(f"| {cell} | {gate} | {before[gate]['mean']:.3f} | {after[gate]['mean']:.3f} | "
                  f"{sat[0]} | {sat[1]} |")


if __name__ == "__main__":
    main()
