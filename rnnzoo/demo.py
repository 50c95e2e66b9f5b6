"""A look at the four layers: build them at a matched size, run them on one padded batch, print what came out.

Run with ``make layers-demo`` or ``python -m rnnzoo.demo`` (``make demo`` is the main job: ``rnnzoo compare`` on
the Bach chorales).
"""

from __future__ import annotations

import torch

import rnnzoo.nn as rnn
from rnnzoo.nn import native


def main() -> None:
    torch.manual_seed(0)
    batch, steps, features = 8, 50, 88  # a piano-roll sized batch: 88 keys
    x = torch.rand(batch, steps, features).round()
    lengths = torch.randint(10, steps + 1, (batch,))
    # Hidden sizes of Chung et al. 2014, Table 1: ~20k parameters each on 88-key music (their counts include the
    # 88-way output layer, which this demo leaves out), so the four layers have nearly equal budgets.
    layers = {
        "RNN (tanh)": rnn.RNN(features, 100, batch_first=True),
        "LSTM": rnn.LSTM(features, 36, batch_first=True),
        "PeepholeLSTM": rnn.PeepholeLSTM(features, 36, batch_first=True),
        "GRU": rnn.GRU(features, 46, batch_first=True),
    }
    print(f"input {tuple(x.shape)} (batch, time, features), lengths {lengths.tolist()}")
    print(f"C++ time loops: {'built' if native.AVAILABLE else 'not built (Python loops)'}\n")
    print(f"{'layer':<14}{'hidden':>7}{'params':>8}  {'output':<14}{'h_n':<12}{'gates traced'}")
    for name, layer in layers.items():
        output, state, gates = layer(x, lengths=lengths, return_gates=True)
        h_n = state[0] if isinstance(state, tuple) else state
        params = sum(p.numel() for p in layer.parameters())
        print(f"{name:<14}{layer.hidden_size:>7}{params:>8}  {str(tuple(output.shape)):<14}{str(tuple(h_n.shape)):<12}"
              f"{', '.join(gates)}")
    print("\noutputs past each length are zero:", all(
        bool((layer(x, lengths=lengths)[0][b, n:] == 0).all()) for layer in layers.values() for b, n in enumerate(lengths.tolist())
    ))


if __name__ == "__main__":
    main()
