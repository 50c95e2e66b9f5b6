"""ONNX export of the bundled zoo models: export time, onnxruntime-vs-PyTorch parity, and batch-1 latency.

    python benchmarks/onnx_export.py [--models 'pianoroll-*'] [--steps 64] [--repeats 30] [--threads 1]

For each bundled model (``rnnzoo list --pretrained``, filtered by ``--models``): export with
``rnnzoo.export_onnx`` (lengths as an input, batch and time dynamic), then

* parity: the largest absolute difference between onnxruntime's outputs and PyTorch's, and the largest
  difference relative to 1 + |output| (``rnnzoo.export.Parity``), on seeded padded batches of other shapes than
  the export example (batch 5 x 13 steps and batch 2 x 40 steps, with lengths);
* latency: one sequence of ``--steps`` steps (batch 1, no padding), medians of ``--repeats`` interleaved calls,
  PyTorch eager (``torch.inference_mode``, the ordinary routing: C++ scans / fused kernels) against the
  onnxruntime session (CPUExecutionProvider), both limited to ``--threads`` threads. Prints ``ort / torch``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

import rnnzoo
from rnnzoo.export import example_inputs, export_onnx, onnx_parity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="*", help="fnmatch filter over the bundled models")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import onnxruntime

    torch.set_num_threads(args.threads)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = args.threads
    print(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, {args.threads} thread(s), "
          f"latency at batch 1 x {args.steps} steps")
    print(f"{'model':40} {'export s':>8} {'max abs diff':>12} {'max scaled':>10} {'torch ms':>9} {'ort ms':>8} "
          f"{'ort/torch':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in rnnzoo.list_pretrained(args.models):
            model = rnnzoo.load(name).eval()
            start = time.perf_counter()
            path = export_onnx(model, Path(tmp) / f"{name}.onnx")
            export_s = time.perf_counter() - start
            checks = [onnx_parity(model, path, batch=5, steps=13, seed=1),
                      onnx_parity(model, path, batch=2, steps=40, seed=2)]
            max_abs, max_scaled = max(c.max_abs for c in checks), max(c.max_scaled for c in checks)

            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            x, lengths = example_inputs(model, batch=1, steps=args.steps, seed=3)
            feeds = dict(zip([i.name for i in session.get_inputs()], [x.numpy(), lengths.numpy()]))

            def run_torch():
                with torch.inference_mode():
                    model(x, lengths=lengths)

            def run_ort():
                session.run(None, feeds)

            times: dict[str, list[float]] = {"torch": [], "ort": []}
            run_torch(), run_ort()  # warm-up
            for _ in range(args.repeats):
                for key, fn in (("torch", run_torch), ("ort", run_ort)):
                    start = time.perf_counter()
                    fn()
                    times[key].append(time.perf_counter() - start)
            t_torch, t_ort = (1e3 * statistics.median(times[k]) for k in ("torch", "ort"))
            print(f"{name:40} {export_s:8.1f} {max_abs:12.2e} {max_scaled:10.2e} {t_torch:9.2f} {t_ort:8.2f} "
                  f"{t_ort / t_torch:9.2f}", flush=True)


if __name__ == "__main__":
    main()
