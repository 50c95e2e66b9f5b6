"""Vanilla (Elman) recurrent network: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), relu as an option."""

from __future__ import annotations

import torch
from torch import nn

from rnnzoo.nn.base import DirectionRun, RecurrentLayer
from rnnzoo.nn.fused import fused_direction
from rnnzoo.nn.init import init_recurrent_
from rnnzoo.nn.native import native_ops
from rnnzoo.nn.rnn_scan import rnn_scan_direction


class RNN(RecurrentLayer, nn.RNN):
    """Drop-in ``torch.nn.RNN`` (``nonlinearity="tanh"`` or ``"relu"``) with ``lengths=`` and ``return_gates=``.

    Parameters are torch.nn.RNN's, so a torch.nn.RNN state dict loads as is. On the CPU it runs on rnnzoo's C++
    scan where that was measured faster than torch's kernel (see ``_prefers_scan`` and docs/performance.md); on
    CUDA on cuDNN. Weights are initialised Xavier-uniform (input) and orthogonal (recurrent), biases zero.
    A vanilla RNN has no gates: its trace (``return_gates=True``) holds only h.
    """

    gate_names = ("h",)

    def reset_parameters(self) -> None:
        """Xavier/orthogonal weights, zero biases."""
        init_recurrent_(self, num_gates=1)

    def _prefers_scan(self, x, lengths) -> bool:
        return native_ops(x) is not None and not torch.is_autocast_enabled(x.device.type)

    def _run_direction(self, x, h0, c0, suffix, lengths, mask, return_gates) -> DirectionRun:
        weights = self._weights(suffix)
        if native_ops(x) is not None:
            return rnn_scan_direction(x, h0, weights, mask, self.nonlinearity == "relu", return_gates)
        states, last_h, _ = fused_direction(self.mode, x, h0, None, weights, self.training, lengths)
        return DirectionRun(states, last_h, None, {"h": states.detach()} if return_gates else {})
