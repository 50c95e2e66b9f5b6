"""Initialisation shared by the recurrent layers.

Per gate block: input weights Xavier-uniform, recurrent weights orthogonal (Saxe et al. 2014: keeps the
recurrent Jacobian well conditioned at the start), biases zero, and for LSTMs the forget-gate bias set to
``forget_bias`` (Jozefowicz et al. 2015: a bias of 1 closes most of the LSTM-GRU gap). This is Keras's
default and the one most papers on these cells use.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def init_recurrent_(layer: nn.RNNBase, num_gates: int, forget_gate: int | None = None, forget_bias: float = 0.0) -> None:
    """Initialise every ``weight_ih*``, ``weight_hh*``, ``bias_ih*`` and ``bias_hh*`` of ``layer`` in place.

    ``forget_gate`` is the index of the forget gate's block in torch.nn's gate order (1 for LSTMs).
    Only ``bias_ih`` carries the forget bias, so the effective bias ``b_ih + b_hh`` equals it exactly.
    """
    hidden = layer.hidden_size
    for name, param in layer.named_parameters(recurse=False):
        if name.startswith("weight_ih") or name.startswith("weight_hh"):
            init = nn.init.xavier_uniform_ if name.startswith("weight_ih") else nn.init.orthogonal_
            for block in param.split(hidden, dim=0):
                init(block)
        elif name.startswith("bias_"):
            param.zero_()
            if forget_gate is not None and name.startswith("bias_ih"):
                param[forget_gate * hidden : (forget_gate + 1) * hidden] = forget_bias
