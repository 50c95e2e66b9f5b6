"""Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnzoo.nn.base import DirectionRun, RecurrentLayer
from rnnzoo.nn.fused import fused_direction
from rnnzoo.nn.init import init_recurrent_
from rnnzoo.nn.native import native_ops, scan_ops
from rnnzoo.nn.peephole_scan import scan_direction

LSTM_GATES = ("input", "forget", "candidate", "output", "c", "h")


def lstm_gates(x: Tensor, h_prev: Tensor, c0: Tensor, weights: list[Tensor]) -> dict[str, Tensor]:
    """Recompute an LSTM's gates for all steps at once from its known hidden states.

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    Given every h_{t-1} (T, B, H), the gates need no recurrence: two large matmuls. Only c_t is a scan.
    """
    w_ih, w_hh, *biases = weights
    b_ih, b_hh = biases or (None, None)
    pre = F.linear(x, w_ih, b_ih) + F.linear(h_prev, w_hh, b_hh)
    a_i, a_f, a_g, a_o = pre.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
    ig = i * g
    c_steps, c = [], c0
    for t in range(x.shape[0]):
        c = torch.addcmul(ig[t], f[t], c)
        c_steps.append(c)
    return {"input": i, "forget": f, "candidate": g, "output": o, "c": torch.stack(c_steps)}


class LSTM(RecurrentLayer, nn.LSTM):
    """Drop-in ``torch.nn.LSTM`` with ``lengths=``, ``return_gates=`` and a forget-gate bias.

    Parameters are torch.nn.LSTM's (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...), so a torch.nn.LSTM state
    dict loads as is. Padded batches (``lengths``) on the CPU run on rnnzoo's C++ scan (about 0.2x the time of
    torch's packed kernel, measured); full-length ones on torch's fused kernel (the scan is 1.0-1.6x it there),
    and CUDA on cuDNN.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype:
            as in ``torch.nn.LSTM`` (``proj_size`` is not supported).
        forget_bias: initial forget-gate bias of new layers, 1.0 by default (Jozefowicz et al. 2015 found a
            bias of 1 closes most of the gap between LSTM and GRU). Set 0.0 for torch.nn's behaviour. Needs
            ``bias=True``. Weights are initialised Xavier-uniform (input) and orthogonal (recurrent) per gate.

    Gate trace names (``return_gates=True``): input, forget, candidate, output, c, h.
    """

    gate_names = LSTM_GATES
    has_cell_state = True

    def __init__(self, *args, forget_bias: float | None = None, **kwargs):
        if kwargs.get("proj_size", 0):
            raise ValueError("rnnzoo.nn.LSTM does not support proj_size; use torch.nn.LSTM for projected LSTMs")
        super().__init__(*args, **kwargs)
        self.forget_bias = resolve_forget_bias(forget_bias, self.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier/orthogonal weights per gate, zero biases, forget-gate bias ``forget_bias``."""
        init_recurrent_(self, num_gates=4, forget_gate=1, forget_bias=getattr(self, "forget_bias", 0.0))

    def _prefers_scan(self, x, lengths) -> bool:
        return lengths is not None and native_ops(x) is not None and not torch.is_autocast_enabled(x.device.type)

    def _run_direction(self, x, h0, c0, suffix, lengths, mask, return_gates) -> DirectionRun:
        weights = self._weights(suffix)
        if scan_ops(x) is not None:
            # The C++ (CPU) or Triton (CUDA) scan keeps every gate for its backward anyway, so tracing them costs
            # nothing extra. On CUDA this is reached only with return_gates=True: plain calls stay on cuDNN.
            return scan_direction(x, h0, c0, weights, x.new_zeros(3 * self.hidden_size), mask, return_gates)
        states, last_h, last_c = fused_direction("LSTM", x, h0, c0, weights, self.training, lengths)
        with torch.no_grad():  # the trace is for inspection; the fused kernel's states carry the gradients
            trace = lstm_gates(x, torch.cat([h0.unsqueeze(0), states[:-1]]), c0, weights)
        trace["h"] = states.detach()
        return DirectionRun(states, last_h, last_c, trace)


def resolve_forget_bias(forget_bias: float | None, bias: bool) -> float:
    """Default the forget bias to 1.0 with biases, 0.0 without; refuse a bias that cannot be applied."""
    if forget_bias is None:
        return 1.0 if bias else 0.0
    if forget_bias and not bias:
        raise ValueError(f"forget_bias={forget_bias} needs bias=True; pass forget_bias=0.0 for a layer without biases")
    return float(forget_bias)
