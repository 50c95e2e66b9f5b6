"""``rnnzoo inspect MODEL [--input ...] [--out DIR]``: the command behind :func:`rnnzoo.inspect.inspect_model`.

``inspect_main(argv)`` parses its own arguments, so ``rnnzoo``'s command line can hand it everything after
``inspect``; ``python -m rnnzoo.inspect.command`` runs it on its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo.inspect.report import inspect_model
from rnnzoo.inspect.resolve import resolve_model
from rnnzoo.options import AT_LEAST_1

#: --data names -> built-in DataModules (see docs/data.md); sizes must fit the model (e.g. 88 keys).
BUILTIN_DATA = {
    "jsb": ("rnnzoo.data.music", "PianoRollDataModule", {}),
    "japanese_vowels": ("rnnzoo.data.speech", "SpeechFeaturesDataModule", {}),
    "co2": ("rnnzoo.data.timeseries", "TimeSeriesDataModule", {"source": "co2"}),
    "sunspots": ("rnnzoo.data.timeseries", "TimeSeriesDataModule", {"source": "sunspots"}),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rnnzoo inspect``."""
    parser = argparse.ArgumentParser(
        prog="rnnzoo inspect",
        description="Gate heatmaps, gate statistics and gradient versus lag of a recurrent model, "
                    "as PNG files and report.json.",
    )
    parser.add_argument("model", help="zoo architecture name (built untrained), pretrained name, "
                                      "local-dir:PATH or hf-hub:org/repo")
    parser.add_argument("--input", help="one input sequence: .npy array ((T, F) roll/features/window, or (T,) "
                                        "token ids) or, for a language model, a .txt file (bytes or the saved "
                                        "vocabulary). Default: the --data split's first sequence, else synthetic")
    parser.add_argument("--text", help="for a language model: the input text itself")
    parser.add_argument("--data", choices=sorted(BUILTIN_DATA), help="built-in data set for gate statistics "
                                                                      "and the gradient curve")
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    parser.add_argument("--max-batches", type=AT_LEAST_1, default=None, help="batches read for the statistics")
    parser.add_argument("--max-lag", type=AT_LEAST_1, default=30)
    parser.add_argument("--steps", type=AT_LEAST_1, default=48, help="length of the synthetic input")
    parser.add_argument("--seed", type=int, default=0, help="seed of an untrained model and synthetic input")
    parser.add_argument("--out", default="inspect", help="output folder (default: ./inspect)")
    return parser


def encode_text(model: Any, text: str) -> torch.Tensor:
    """Token ids of ``text`` for a language model: through the vocabulary it carries (tokenised as in training,
    unknown tokens as ``<unk>``), else UTF-8 bytes for a 256-token model."""
    if model.input_kind != "tokens":
        raise ValueError(f"--text is for language models; {model.architecture!r} is a {model.task} model")
    if model.preprocessing is not None:
        return torch.from_numpy(model.preprocessing.encode(text))
    if model.config.get("vocab_size") == 256:
        return torch.tensor(list(text.encode("utf-8")), dtype=torch.int64)
    raise ValueError("this language model has no saved vocabulary and is not byte-level: pass --input ids.npy")


def read_input(model: Any, path: str | None, text: str | None) -> tuple[torch.Tensor | None, str | None]:
    """The sequence given by --input or --text (None when neither is), and how it was obtained."""
    if text is not None:
        return encode_text(model, text), f"text given with --text ({len(text)} characters)"
    if path is None:
        return None, None
    if path.endswith(".txt"):
        return encode_text(model, Path(path).read_text(encoding="utf-8")), f"text file {path}"
    if path.endswith(".npy"):
        array = np.load(path, allow_pickle=False)  # never unpickle: .npy object arrays are refused
        sequence = torch.from_numpy(np.asarray(array))
        if model.input_kind == "tokens":
            return sequence.long(), f"token ids from {path}"
        return (sequence.unsqueeze(1) if sequence.ndim == 1 else sequence).float(), f"array from {path}"
    raise ValueError(f"--input {path}: expected a .npy array or a .txt file")


def inspect_main(argv: list[str] | None = None) -> int:
    """Run ``rnnzoo inspect`` with ``argv`` (default: ``sys.argv[1:]``); print where the files went. Returns 0."""
    args = build_parser().parse_args(argv)
    model = resolve_model(args.model, seed=args.seed)
    sequence, description = read_input(model, args.input, args.text)
    data = None
    if args.data:
        module_name, class_name, options = BUILTIN_DATA[args.data]
        module = __import__(module_name, fromlist=[class_name])
        data = getattr(module, class_name)(**options)
    report = inspect_model(
        args.model, args.out, sequence=sequence, input_description=description, data=data, split=args.split,
        max_batches=args.max_batches, max_lag=args.max_lag, steps=args.steps, seed=args.seed,
    )
    curve = report["gradient_lag"]["relative"]
    at = [k for k in (1, 5, 10, 20, 30) if k < len(curve) and curve[k] is not None]
    print(f"{report['model']} ({report['weights']}); input: {report['input']}")
    print("gradient vs lag, relative to lag 0: " + ", ".join(f"k={k}: {curve[k]:.3g}" for k in at))
    print(f"wrote {', '.join(report['files']['heatmaps'])}, gate_stats.png, gradient_lag.png and report.json "
          f"to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(inspect_main())
