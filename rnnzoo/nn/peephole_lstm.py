"""Peephole LSTM (Gers & Schmidhuber 2000; Graves 2013's form): the gates also see the cell state.

    i_t = σ(W_ii x_t + W_hi h_{t-1} + b_i + p_i ⊙ c_{t-1})
    f_t = σ(W_if x_t + W_hf h_{t-1} + b_f + p_f ⊙ c_{t-1})
    g_t = tanh(W_ig x_t + W_hg h_{t-1} + b_g)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    o_t = σ(W_io x_t + W_ho h_{t-1} + b_o + p_o ⊙ c_t)
    h_t = o_t ⊙ tanh(c_t)

p_i, p_f, p_o are diagonal (elementwise) peephole weights, stored per layer and direction as
``weight_peephole_l{k}[_reverse]`` of shape (3 * hidden_size,) in the order i, f, o.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnzoo.nn.base import DirectionRun, RecurrentLayer
from rnnzoo.nn.init import init_recurrent_
from rnnzoo.nn.lstm import LSTM_GATES, resolve_forget_bias
from rnnzoo.nn.peephole_scan import scan_direction


class PeepholeLSTM(RecurrentLayer, nn.RNNBase):
    """LSTM with diagonal peephole connections, with torch.nn.LSTM's parameters plus the peepholes.

    With all ``weight_peephole_*`` zero it computes exactly ``rnnzoo.nn.LSTM``; a torch.nn.LSTM state dict
    loads with ``strict=False`` (only the peepholes are then missing). PyTorch has no peephole LSTM
    (pytorch/pytorch#630); this one runs on a hand-written backward with C++ time loops on the CPU
    and Triton ones on CUDA (when triton is installed; see docs/performance.md).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype:
            as in ``torch.nn.LSTM``.
        forget_bias: initial forget-gate bias, 1.0 by default (Jozefowicz et al. 2015). Needs ``bias=True``.
            Weights are initialised Xavier-uniform (input) and orthogonal (recurrent) per gate; peepholes
            start at zero, so a new peephole LSTM starts as a plain LSTM and learns its peepholes.

    Gate trace names (``return_gates=True``): input, forget, candidate, output, c, h (detached).
    """

    gate_names = LSTM_GATES
    has_cell_state = True
    uses_fused_kernel = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        forget_bias: float | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device=device, dtype=dtype,
        )
        self.forget_bias = resolve_forget_bias(forget_bias, bias)
        for layer in range(num_layers):
            for suffix in ("", "_reverse") if bidirectional else ("",):
                peephole = nn.Parameter(torch.empty(3 * hidden_size, device=device, dtype=dtype))
                setattr(self, f"weight_peephole_l{layer}{suffix}", peephole)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier/orthogonal weights per gate, zero biases and peepholes, forget-gate bias ``forget_bias``."""
        init_recurrent_(self, num_gates=4, forget_gate=1, forget_bias=getattr(self, "forget_bias", 0.0))
        with torch.no_grad():
            for name, param in self.named_parameters(recurse=False):
                if name.startswith("weight_peephole"):
                    param.zero_()

    def _run_direction(self, x, h0, c0, suffix, lengths, mask, return_gates) -> DirectionRun:
        peep = getattr(self, f"weight_peephole{suffix}")
        return scan_direction(x, h0, c0, self._weights(suffix), peep, mask, return_gates)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", forget_bias={self.forget_bias}"
