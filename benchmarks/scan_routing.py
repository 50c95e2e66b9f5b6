"""Where the CPU rule for RNN, LSTM and GRU comes from: forward + backward time of rnnzoo's C++ scan against torch's
fused kernel (packed for lengths) for the same layer, T=100, 88 inputs, interleaved, medians.

    python benchmarks/scan_routing.py [--repeats 5] [--threads 2] [--cells RNN LSTM GRU]

Prints ``scan / fused`` per configuration; rnnzoo.nn routes a call to the scan where this ratio is below 1
(docs/layers.md, "Where each call runs").
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import rnnzoo.nn as rnn

CONFIGS = [(34, 16, True), (41, 16, True), (34, 16, False), (128, 64, False), (256, 64, False), (512, 64, False),
           (128, 64, True), (512, 64, True)]  # (hidden, batch, with lengths)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cells", nargs="+", default=["RNN", "LSTM", "GRU"], choices=["RNN", "LSTM", "GRU"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for cls in (getattr(rnn, name) for name in args.cells):
        for hidden, batch, with_lengths in CONFIGS:
            torch.manual_seed(0)
            layer, x = cls(88, hidden), torch.randn(100, batch, 88)
            lengths = torch.randint(50, 101, (batch,)) if with_lengths else None
            if lengths is not None:
                lengths[0] = 100  # one full-length sequence, so the batch is really padded to T

            def fused():
                layer._forward_fused(x, None, lengths)[0].sum().backward()

            def scan():
                layer._forward_by_direction(x, None, lengths, False)[0].sum().backward()

            fused(), scan()  # warm-up
            a, b = [], []
            for _ in range(args.repeats):
                a.append(timed(fused))
                b.append(timed(scan))
            fa, sb = statistics.median(a), statistics.median(b)
            print(f"{cls.__name__:<5} H={hidden:<4} B={batch:<3} {'lengths' if with_lengths else 'full   '}  fused "
                  f"{fa * 1e3:8.1f} ms  scan {sb * 1e3:8.1f} ms  scan/fused {sb / fa:.2f}")


if __name__ == "__main__":
    main()
