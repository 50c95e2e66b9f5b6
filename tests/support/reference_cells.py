"""Independent references for the tests: each sequence run alone, step by step, under plain autograd.

Nothing here shares code with rnnzoo.nn: a padded batch is handled by slicing every sequence to its own
length, and the reverse direction by flipping that slice, so the tests compare two different constructions.
"""

from __future__ import annotations

import torch
from torch import Tensor


def peephole_cell(x_t, h, c, w_ih, w_hh, b, p):
    """One peephole LSTM step, Gers & Schmidhuber 2000 / Graves 2013 (gate order i, f, g, o)."""
    hidden = h.shape[-1]
    a = x_t @ w_ih.T + h @ w_hh.T + b
    a_i, a_f, a_g, a_o = a.split(hidden, dim=-1)
    p_i, p_f, p_o = p.split(hidden)
    i = torch.sigmoid(a_i + p_i * c)
    f = torch.sigmoid(a_f + p_f * c)
    g = torch.tanh(a_g)
    c = f * c + i * g
    o = torch.sigmoid(a_o + p_o * c)
    return o * torch.tanh(c), c


def peephole_reference(layer, x: Tensor, lengths: list[int], h0: Tensor, c0: Tensor):
    """Run ``layer``'s parameters through :func:`peephole_cell` one sequence at a time (time-major x)."""
    num_dirs = 2 if layer.bidirectional else 1
    seq_len, batch, _ = x.shape
    outputs, h_n, c_n = [], [], []
    for b in range(batch):
        n = lengths[b]
        layer_in = x[:n, b]
        finals_h, finals_c = [], []
        for k in range(layer.num_layers):
            dir_outs = []
            for d in range(num_dirs):
                sfx = f"_l{k}" + ("_reverse" if d else "")
                w_ih, w_hh = getattr(layer, "weight_ih" + sfx), getattr(layer, "weight_hh" + sfx)
                bias = getattr(layer, "bias_ih" + sfx) + getattr(layer, "bias_hh" + sfx)
                p = getattr(layer, "weight_peephole" + sfx)
                seq = layer_in.flip(0) if d else layer_in
                h, c = h0[k * num_dirs + d, b], c0[k * num_dirs + d, b]
                steps = []
                for t in range(n):
                    h, c = peephole_cell(seq[t], h, c, w_ih, w_hh, bias, p)
                    steps.append(h)
                out = torch.stack(steps)
                dir_outs.append(out.flip(0) if d else out)
                finals_h.append(h)
                finals_c.append(c)
            layer_in = torch.cat(dir_outs, dim=-1)
        padded = torch.cat([layer_in, layer_in.new_zeros(seq_len - n, layer_in.shape[-1])])
        outputs.append(padded)
        h_n.append(torch.stack(finals_h))
        c_n.append(torch.stack(finals_c))
    return torch.stack(outputs, dim=1), torch.stack(h_n, dim=1), torch.stack(c_n, dim=1)
