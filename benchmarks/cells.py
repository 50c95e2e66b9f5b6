"""Forward and forward+backward time of each rnnzoo layer against torch.nn, measured in the same run.

Usage: python benchmarks/cells.py [--hidden 128 512] [--repeats 15] [--threads 2] [--device cpu|cuda]
       python benchmarks/cells.py --zoo-sizes --lengths --batch 16     (issue 16's set-up: the 20k pianoroll
       family's hidden sizes, each cell its own; padded batches with lengths, torch.nn through pack_padded_sequence)

Every configuration is timed once per round and the rounds are interleaved, so drifts of the machine (other
processes, clock changes) hit all configurations alike; medians over rounds are reported. The first call of each
freshly built layer is timed separately (it includes any lazy set-up). Ratios come last:
  * vs nn.LSTM:  time / time of the fused torch.nn.LSTM of the same size (the issue's yardstick);
  * vs same:     rnnzoo fast path / the same torch.nn layer, and ``gates`` / the same rnnzoo layer without gates.
On CUDA with triton installed the peephole LSTM and the gate rows run on the Triton scans (rnnzoo/nn/triton_scan.py);
the ``(Python loop)`` rows run the same layers with ``RNNZOO_DISABLE_TRITON=1``, the path they replace.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import torch

import rnnzoo.nn as rnn
from rnnzoo.nn import native
from rnnzoo.nn.base import RecurrentLayer


def build(kind: str, input_size: int, hidden: int, device: str):
    makers = {
        "nn.LSTM": lambda: torch.nn.LSTM(input_size, hidden),
        "nn.GRU": lambda: torch.nn.GRU(input_size, hidden),
        "nn.RNN": lambda: torch.nn.RNN(input_size, hidden),
        "LSTM": lambda: rnn.LSTM(input_size, hidden),
        "GRU": lambda: rnn.GRU(input_size, hidden),
        "RNN": lambda: rnn.RNN(input_size, hidden),
        "PeepholeLSTM": lambda: rnn.PeepholeLSTM(input_size, hidden),
    }
    return makers[kind.removesuffix(" (Python loop)").removesuffix(" gates")]().to(device)


@contextlib.contextmanager
def python_loop_if(kind: str):
    """Run a ``(Python loop)`` row with the Triton scans off (the variable is read at each call)."""
    if not kind.endswith("(Python loop)"):
        yield
        return
    os.environ["RNNZOO_DISABLE_TRITON"] = "1"
    try:
        yield
    finally:
        del os.environ["RNNZOO_DISABLE_TRITON"]


def forward(layer, x, gates: bool, lengths):
    """The layer's output; torch.nn layers read a padded batch with lengths through pack_padded_sequence."""
    if lengths is None:
        return layer(x, return_gates=True)[0] if gates else layer(x)[0]
    if isinstance(layer, RecurrentLayer):
        return layer(x, lengths=lengths, return_gates=True)[0] if gates else layer(x, lengths=lengths)[0]
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    return torch.nn.utils.rnn.pad_packed_sequence(layer(packed)[0], total_length=x.shape[0])[0]


def step(layer, x, gates: bool, backward: bool, sync, lengths=None, kind: str = "") -> float:
    start = time.perf_counter()
    with torch.set_grad_enabled(backward), python_loop_if(kind):
        out = forward(layer, x, gates, lengths)
        if backward:
            out.sum().backward()
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--input", type=int, default=88)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--lengths", action="store_true", help="padded batches: lengths uniform in [T/2, T]")
    parser.add_argument("--zoo-sizes", action="store_true",
                        help="each cell at its pianoroll-*-20k hidden size (one table; ratios also vs PeepholeLSTM)")
    args = parser.parse_args()
    if args.zoo_sizes:
        return zoo_sizes(args)
    torch.set_num_threads(args.threads)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    kinds = ["nn.LSTM", "nn.GRU", "nn.RNN", "LSTM", "GRU", "RNN", "PeepholeLSTM",
             "LSTM gates", "GRU gates", "RNN gates", "PeepholeLSTM gates"]
    triton_on = args.device == "cuda" and native.triton_ops(torch.zeros(1, device=args.device)) is not None
    if triton_on:
        kinds += ["PeepholeLSTM (Python loop)", "LSTM gates (Python loop)", "GRU gates (Python loop)"]
    same = {"LSTM": "nn.LSTM", "GRU": "nn.GRU", "RNN": "nn.RNN"}
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
          f"C++ kernels {'on' if native.AVAILABLE else 'off'}, Triton scans {'on' if triton_on else 'off'}; B={args.batch} T={args.steps} I={args.input}; "
          f"{args.repeats} interleaved rounds, medians")

    for hidden in args.hidden:
        torch.manual_seed(0)
        x = torch.randn(args.steps, args.batch, args.input, device=args.device)
        layers, first = {}, {}
        for kind in kinds:
            layers[kind] = build(kind, args.input, hidden, args.device)
            gates = "gates" in kind
            first[kind] = step(layers[kind], x, gates, True, sync, kind=kind)
            step(layers[kind], x, gates, True, sync, kind=kind)  # warm-up
        times = {(k, mode): [] for k in kinds for mode in ("fwd", "fwd+bwd")}
        for _ in range(args.repeats):
            for kind in kinds:
                for mode in ("fwd", "fwd+bwd"):
                    times[kind, mode].append(step(layers[kind], x, "gates" in kind, mode == "fwd+bwd", sync, kind=kind))
        med = {key: statistics.median(v) for key, v in times.items()}

        print(f"\nH={hidden}")
        print(f"{'layer':<28}{'first call s':>13}{'fwd ms':>9}{'fwd+bwd ms':>12}"
              f"{'fwd vs nn.LSTM':>16}{'f+b vs nn.LSTM':>16}{'f+b vs same':>13}")
        for kind in kinds:
            base = kind.removesuffix(" gates") if kind.endswith("gates") else same.get(kind)
            if kind.endswith("(Python loop)"):
                base = kind.removesuffix(" (Python loop)")  # vs same: Python loop / Triton
            vs_same = f"{med[kind, 'fwd+bwd'] / med[base, 'fwd+bwd']:.3f}" if base else ""
            print(f"{kind:<28}{first[kind]:>13.3f}{med[kind, 'fwd'] * 1e3:>9.2f}{med[kind, 'fwd+bwd'] * 1e3:>12.2f}"
                  f"{med[kind, 'fwd'] / med['nn.LSTM', 'fwd']:>16.3f}"
                  f"{med[kind, 'fwd+bwd'] / med['nn.LSTM', 'fwd+bwd']:>16.3f}{vs_same:>13}")


def zoo_sizes(args) -> None:
    """One table at the 20k pianoroll family's sizes: each rnnzoo cell against the same torch.nn cell (packed when
    ``--lengths``) and against rnnzoo's PeepholeLSTM, forward + backward, interleaved medians."""
    from rnnzoo.families import FAMILIES

    torch.set_num_threads(args.threads)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    sizes = FAMILIES["pianoroll"].sizes
    hidden = {"RNN": sizes["rnn"], "LSTM": sizes["lstm"], "GRU": sizes["gru"], "PeepholeLSTM": sizes["peephole_lstm"]}
    kinds = ["nn.RNN", "nn.LSTM", "nn.GRU", "RNN", "LSTM", "GRU", "PeepholeLSTM"]
    torch.manual_seed(0)
    x = torch.randn(args.steps, args.batch, args.input, device=args.device)
    lengths = torch.randint(args.steps // 2, args.steps + 1, (args.batch,)) if args.lengths else None
    layers = {k: build(k, args.input, hidden[k.removeprefix("nn.")], args.device) for k in kinds}
    for kind in kinds:
        step(layers[kind], x, False, True, sync, lengths)  # warm-up
    times = {k: [] for k in kinds}
    for _ in range(args.repeats):
        for kind in kinds:
            times[kind].append(step(layers[kind], x, False, True, sync, lengths))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, C++ kernels "
          f"{native.ORIGIN}; pianoroll-*-20k sizes {hidden}; B={args.batch} T={args.steps} I={args.input}, "
          f"lengths {'uniform in [T/2, T]' if args.lengths else 'none'}; {args.repeats} interleaved rounds, medians")
    print(f"{'layer':<14}{'hidden':>7}{'fwd+bwd ms':>12}{'vs torch.nn same cell':>23}{'vs rnnzoo PeepholeLSTM':>24}")
    for kind in kinds:
        same = f"{med[kind] / med['nn.' + kind]:.3f}" if not kind.startswith("nn.") and kind != "PeepholeLSTM" else ""
        print(f"{kind:<14}{hidden[kind.removeprefix('nn.')]:>7}{med[kind] * 1e3:>12.2f}{same:>23}"
              f"{med[kind] / med['PeepholeLSTM']:>24.3f}")


if __name__ == "__main__":
    main()
