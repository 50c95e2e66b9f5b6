"""What subnormal floats cost the C++ scans, measured in the same run.

Usage: python benchmarks/denormals.py [--steps 20] [--batch 20] [--hidden 197] [--repeats 15] [--threads 2]

Each scan (peephole LSTM, GRU; forward + backward) runs on two inputs of the same shape:
  * ordinary:   pre-activations ~ N(0, 1);
  * subnormal:  pre-activations in [-100, -88], where σ(a) is a float32 subnormal (below 1.18e-38), as in the
                saturated gates of a language model trained at a high learning rate.
and the ratio subnormal / ordinary is printed for the C++ scan (which flushes subnormals to zero while it runs)
and for the Python reference loop of the same scan (plain torch ops in IEEE mode: what flushing avoids).
Goal: C++ scan ratio <= 1.15. Rounds are interleaved and medians reported, so machine drift hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from rnnzoo.nn import gru_scan, native, peephole_scan


def peephole_args(xproj: torch.Tensor, hidden: int):
    g = torch.Generator().manual_seed(1)
    w_hh = torch.randn(4 * hidden, hidden, generator=g) / hidden**0.5
    peep = torch.randn(3 * hidden, generator=g) * 0.1
    batch = xproj.shape[1]
    return [xproj, w_hh, peep, torch.zeros(batch, hidden), torch.zeros(batch, hidden)]


def gru_args(xproj: torch.Tensor, hidden: int):
    g = torch.Generator().manual_seed(1)
    w_hh = torch.randn(3 * hidden, hidden, generator=g) / hidden**0.5
    b_hh = torch.zeros(3 * hidden)
    return [xproj, w_hh, b_hh, torch.zeros(xproj.shape[1], hidden)]


def run_once(cell: str, xproj: torch.Tensor, hidden: int) -> float:
    make, scan = (peephole_args, peephole_scan.peephole_scan) if cell == "peephole" else (gru_args, gru_scan.gru_scan)
    args = [t.clone().requires_grad_() for t in make(xproj, hidden)]
    start = time.perf_counter()
    hs = scan(*args, None)[0]
    hs.sum().backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=197)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(False)
    g = torch.Generator().manual_seed(0)
    inputs = {}
    for cell, gates in (("peephole", 4), ("gru", 3)):
        shape = (args.steps, args.batch, gates * args.hidden)
        inputs[cell, "ordinary"] = torch.randn(*shape, generator=g)
        inputs[cell, "subnormal"] = -88 - 12 * torch.rand(*shape, generator=g)
    impls = ["C++ scan", "Python loop"] if native.AVAILABLE else ["Python loop"]
    if not native.AVAILABLE:
        print("rnnzoo._C is not built: only the Python loops are measured")
    times: dict[tuple[str, str, str], list[float]] = {}
    for round_ in range(args.repeats + 1):  # round 0 warms up
        for impl in impls:
            for (cell, kind), xproj in inputs.items():
                if impl == "Python loop":
                    os.environ["RNNZOO_DISABLE_NATIVE"] = "1"
                else:
                    os.environ.pop("RNNZOO_DISABLE_NATIVE", None)
                elapsed = run_once(cell, xproj, args.hidden)
                if round_:
                    times.setdefault((impl, cell, kind), []).append(elapsed)
    print(f"T={args.steps} B={args.batch} H={args.hidden}, {args.threads} threads, median of {args.repeats} rounds")
    print(f"{'implementation':<12} {'cell':<9} {'ordinary ms':>12} {'subnormal ms':>13} {'ratio':>7}")
    for impl in impls:
        for cell in ("peephole", "gru"):
            ordinary = statistics.median(times[impl, cell, "ordinary"]) * 1e3
            subnormal = statistics.median(times[impl, cell, "subnormal"]) * 1e3
            print(f"{impl:<12} {cell:<9} {ordinary:>12.2f} {subnormal:>13.2f} {subnormal / ordinary:>7.2f}")


if __name__ == "__main__":
    main()
