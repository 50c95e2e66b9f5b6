"""One layer and one direction of torch's own fused kernels (the ones torch.nn.RNN/LSTM/GRU call).

The gate-tracing path runs every layer and direction separately, so it needs the kernel for a single
layer and direction on a canonical (time-major, left-aligned) input. torch.nn exposes that kernel only
through its multi-layer modules, so this calls it the way those modules do, through ``torch._VF``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_KERNELS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}


def fused_direction(
    mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, weights: list[Tensor], training: bool, lengths: Tensor | None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Run one layer in one direction over ``x`` (T, B, I); return h of every step (T, B, H, zero past each
    length) and the final h and c (B, H; c is None but for LSTMs), taken at each sequence's own last step.

    ``weights`` is ``[w_ih, w_hh]`` or ``[w_ih, w_hh, b_ih, b_hh]`` in torch.nn's layout; ``h0``/``c0`` are (B, H).
    """
    kernel = _KERNELS[mode]
    has_biases = len(weights) == 4
    states = [h0, c0] if mode == "LSTM" else [h0]
    if lengths is None:
        hx = tuple(s.unsqueeze(0) for s in states) if mode == "LSTM" else h0.unsqueeze(0)
        # Arguments: input, hx, weights, has_biases, num_layers, dropout, train, bidirectional, batch_first.
        output, *finals = kernel(x, hx, weights, has_biases, 1, 0.0, training, False, False)
        finals = [f.squeeze(0) for f in finals]
    else:
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        order = packed.sorted_indices.to(x.device)
        sorted_states = [s.index_select(0, order).unsqueeze(0) for s in states]
        hx = tuple(sorted_states) if mode == "LSTM" else sorted_states[0]
        # Packed form: data, batch_sizes, hx, weights, has_biases, num_layers, dropout, train, bidirectional.
        data, *finals = kernel(packed.data, packed.batch_sizes, hx, weights, has_biases, 1, 0.0, training, False)
        output, _ = pad_packed_sequence(
            PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
            total_length=x.shape[0],
        )
        unsort = packed.unsorted_indices.to(x.device)
        finals = [f.squeeze(0).index_select(0, unsort) for f in finals]
    return output, finals[0], finals[1] if mode == "LSTM" else None
