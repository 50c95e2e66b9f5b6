"""Milliseconds per training step of a PTB word model, every 200 steps: shows a slowdown that grows with training.

Usage: python benchmarks/lm_train_steps.py [--model wordlm-peephole-lstm-4600k] [--steps 1200] [--flush-denormal]

The PTB preset's loop without Lightning: batch 20, BPTT 20 with the state carried (detached), SGD at lr 20,
gradient norm clipped at 0.25. A per-step time that climbs while the loss does not change its course points at
subnormal floats (docs/performance.md); ``--flush-denormal`` sets ``torch.set_flush_denormal(True)`` process-wide
as the baseline to compare with. Needs the PTB data (``pip install rnnzoo[ptb]``).
"""

from __future__ import annotations

import argparse
import time

import torch

import rnnzoo
from rnnzoo.data.text import TextDataModule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="wordlm-peephole-lstm-4600k")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--every", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--flush-denormal", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(args.flush_denormal)
    model = rnnzoo.create_model(args.model)
    optimizer = torch.optim.SGD(model.parameters(), lr=20)
    data = TextDataModule("ptb", batch_size=20, bptt=20)
    data.setup("fit")
    batches = iter(data.train_dataloader())
    state = None
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        batch = next(batches)
        logits, state = model(batch["inputs"], state, return_state=True)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["targets"].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        if step % args.every == 0:
            elapsed = (time.perf_counter() - start) / args.every * 1e3
            print(f"step {step}: {elapsed:.1f} ms/step, loss {loss.item():.2f}", flush=True)
            start = time.perf_counter()


if __name__ == "__main__":
    main()
