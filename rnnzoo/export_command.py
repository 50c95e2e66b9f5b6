"""``rnnzoo export MODEL --format onnx|torch-export [--out PATH]``: a zoo model as an ONNX file or a .pt2 program.

MODEL is anything :func:`rnnzoo.load` takes (a zoo name, ``hf-hub:org/repo``, ``local-dir:PATH``) or a saved
folder. ``--check`` runs the written ONNX file in onnxruntime on a padded batch of another shape than the export
example and prints the largest difference from PyTorch's outputs. A forecaster's graph reads and returns the series'
own units (raw windows in, the forecast out, like ``model.forecast``); ``--scaled`` exports its forward on scaled
windows instead (see docs/export.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnzoo export", description="Export a model to ONNX (onnxruntime) or a torch.export program (.pt2), "
                                          "with dynamic batch and time axes and a lengths input.",
        epilog="examples: rnnzoo export pianoroll-gru-20k.jsb --format onnx --check | "
               "rnnzoo export ./my-model --format torch-export --out my-model.pt2. See docs/export.md.")
    parser.add_argument("model", help="zoo name, hf-hub:org/repo[@rev], local-dir:PATH or a saved folder")
    parser.add_argument("--format", choices=("onnx", "torch-export"), default="onnx")
    parser.add_argument("--out", help="file to write (default: MODEL's name + .onnx or .pt2 in the current folder)")
    parser.add_argument("--no-lengths", action="store_true",
                        help="leave out the lengths input (every sequence is then full length)")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (>= 18; default 18)")
    parser.add_argument("--scaled", action="store_true",
                        help="forecasters: export the forward on scaled windows (inputs and outputs scaled with the "
                             "metadata's rnnzoo.preprocessing) instead of the default graph in the series' own units; "
                             "other models' graphs are their forward either way")
    parser.add_argument("--check", action="store_true",
                        help="run the ONNX file in onnxruntime and print its largest difference from PyTorch")
    return parser


def export_main(argv: list[str] | None = None) -> int:
    """Run ``rnnzoo export``; returns 0, or exits 2 with the error's message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.format != "onnx" and (args.check or args.opset is not None):
        parser.error("--check and --opset apply to --format onnx only")
    from rnnzoo.export import (DEFAULT_OPSET, ExportError, exportable_copy, export_onnx, input_names, onnx_parity,
                               save_program)
    from rnnzoo.hub import HubError

    suffix = ".onnx" if args.format == "onnx" else ".pt2"
    out = Path(args.out) if args.out else Path(Path(args.model.rstrip("/")).name.split(":")[-1] + suffix)
    try:
        model = exportable_copy(args.model)
        raw = not args.scaled
        if args.format == "onnx":
            export_onnx(model, out, with_lengths=not args.no_lengths, opset=args.opset or DEFAULT_OPSET, raw=raw)
        else:
            save_program(model, out, with_lengths=not args.no_lengths, raw=raw)
        units = "" if model.task != "forecaster" else "; in the series' own units" if raw else "; scaled"
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {model.architecture}, inputs: "
              f"{', '.join(input_names(model, not args.no_lengths, raw))}; batch and time dynamic{units})")
        if args.check:
            parity = onnx_parity(model, out, with_lengths=not args.no_lengths)
            batch, steps = parity.shape
            kind = "full-length" if args.no_lengths else "padded"
            in_units = " (in the series' units)" if model.task == "forecaster" and raw else ""
            print(f"onnxruntime vs PyTorch on a {kind} batch of {batch} x {steps} steps: max |difference| "
                  f"{parity.max_abs:.2e}{in_units}, relative to 1 + |output| {parity.max_scaled:.2e}")
    # ValueError: an unknown name, a bad folder (the registry's and hub's errors are ValueErrors).
    except (ExportError, HubError, ValueError) as err:
        parser.exit(2, f"rnnzoo export: error: {err}\n")
    return 0
