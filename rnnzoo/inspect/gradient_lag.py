"""Gradient versus time lag: how strongly h_t still depends on the input k steps back, ||∂h_t / ∂x_{t-k}||.

The layers' fused kernels keep intermediate states inside one op, so they are no graph nodes to ask for
∂/∂h_{t-k}. The input sequence is a graph leaf on every path (fused, packed, C++ loop, Python loop), so this
differentiates h_t with respect to the whole input x instead: one backward pass of one unit of h_t gives
∂h_t[j] / ∂x_s for every step s at once. The Jacobian rows of all H units come from H copies of the sequence in
one batch, copy j back-propagating unit j only: sequences in a batch never interact, so each copy's input
gradient is exactly its own row, and the Frobenius norm over (unit, input feature) is taken per step s.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rnnzoo.inspect.layer_input import layer_input
from rnnzoo.tasks.base import TaskModel


def target_times(length: int, max_lag: int, count: int) -> list[int]:
    """Up to ``count`` steps t, evenly spaced from ``min(max_lag, length - 1)`` to ``length - 1``.

    Starting at ``max_lag`` lets every lag up to it be measured from every chosen t; shorter sequences still
    give their last step.
    """
    first = min(max_lag, length - 1)
    return sorted({round(v) for v in torch.linspace(first, length - 1, count).tolist()})


def gradient_vs_lag(model: TaskModel, model_input: Tensor, lengths: Tensor | None = None, *,
                    max_lag: int = 30, times_per_sequence: int = 4, max_copies: int = 2048) -> dict[str, Any]:
    """Mean ||∂h_t / ∂x_{t-k}||_F over sequences and target steps t, for k = 0 .. max_lag.

    h_t is the top layer's forward-direction hidden state (the reverse direction of a bidirectional layer
    depends on the future, not on lags k > 0); x is what the recurrent layer reads (token embeddings for
    a language model). Padding is respected: t and t - k lie within each sequence's own length.

    Args:
        model: a task model in eval mode (dropout would make the Jacobian random).
        model_input: a batch of model inputs, ``(B, T, F)`` or ``(B, T)`` token ids.
        lengths: true lengths of a padded batch (None: all ``T``).
        max_lag: the largest lag k measured.
        times_per_sequence: how many target steps t per sequence (see :func:`target_times`).
        max_copies: sequence copies per backward pass (memory bound: copies x T x input size floats).

    Returns:
        ``{"lag": [0..K], "norm": mean norm per lag, "relative": norm / norm at lag 0, "count": (sequence, t)
        pairs averaged per lag, "pairs": [[b, t], ...]}``. A lag no pair reaches has norm None.
    """
    rnn = model.rnn
    hidden = rnn.hidden_size
    with torch.no_grad():
        x = layer_input(model, model_input).detach()
    batch, steps = x.shape[:2]
    lengths = torch.full((batch,), steps) if lengths is None else torch.as_tensor(lengths).cpu()
    pairs = [(b, t) for b in range(batch) for t in target_times(int(lengths[b]), max_lag, times_per_sequence)]

    sums = torch.zeros(max_lag + 1, dtype=torch.float64)
    counts = torch.zeros(max_lag + 1, dtype=torch.int64)
    # One copy per (pair, unit); chunks keep the copied batch within max_copies.
    copies = [(p, j) for p in range(len(pairs)) for j in range(hidden)]
    per_pair: dict[int, Tensor] = {}  # pair -> (T,) running sum of squared Jacobian entries per input step
    for start in range(0, len(copies), max_copies):
        chunk = copies[start:start + max_copies]
        seqs = torch.tensor([pairs[p][0] for p, _ in chunk])
        times = torch.tensor([pairs[p][1] for p, _ in chunk])
        units = torch.tensor([j for _, j in chunk])
        xs = x[seqs].clone().requires_grad_(True)
        with torch.enable_grad():
            output, _ = rnn(xs, lengths=lengths[seqs])
            picked = output[torch.arange(len(chunk)), times.to(output.device), units.to(output.device)]  # units < hidden: the forward direction
            (grad,) = torch.autograd.grad(picked.sum(), xs)
        squares = grad.double().pow(2).sum(-1).cpu()  # (copies, T): ||∂h_t[j] / ∂x_s||² per step s
        for row, (p, _) in enumerate(chunk):
            per_pair[p] = per_pair.get(p, 0) + squares[row]
    for p, (b, t) in enumerate(pairs):
        norms = per_pair[p].sqrt()  # Frobenius norm over units and features, per input step s
        for k in range(min(t, max_lag) + 1):
            sums[k] += norms[t - k]
            counts[k] += 1
    norm = [float(s / c) if c else None for s, c in zip(sums, counts)]
    base = norm[0]
    relative = [None if v is None or not base else v / base for v in norm]
    return {"lag": list(range(max_lag + 1)), "norm": norm, "relative": relative,
            "count": counts.tolist(), "pairs": [list(p) for p in pairs],
            "quantity": "mean over (sequence, t) of ||d h_t / d x_(t-k)||_F, top layer, forward direction"}
