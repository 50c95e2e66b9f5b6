"""The four layers' forward as a graph that ``torch.export`` (and so ``torch.onnx.export``) can capture.

The ordinary forward routes to code a graph exporter cannot follow: rnnzoo's C++ scans (``torch.ops.rnnzoo.*``
behind an autograd Function), torch's fused kernels behind packed sequences (whose sort by length is
data-dependent), and Python loops over ``range(T)`` that would unroll into a graph fixed to one length.
While exporting (``torch.compiler.is_exporting()``) :class:`~rnnzoo.nn.base.RecurrentLayer` calls
:func:`traceable_forward` instead: the same equations as one ``torch`` scan per layer and direction
(``torch._higher_order_ops.scan``), which ``torch.export`` keeps as a loop over a symbolic number of steps and the
ONNX exporter writes as an ONNX ``Scan``: batch and time stay dynamic, and the peephole cell is a decomposition
into matmuls and pointwise ops. ``lengths`` become a step mask inside the scan (a sequence's state is held past
its length, so the last step holds its final state, as in the C++ scans), and the reverse direction runs on each
sequence reversed within its own length (:func:`~rnnzoo.nn.padding.reverse_padded`, a gather).

Nothing here is data-dependent in Python: no ``.item()``, no branch on a value, so one exported graph serves every
batch size, length and padding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch._higher_order_ops.scan import scan

from rnnzoo.nn.padding import reverse_padded

Carry = tuple[Tensor, ...]


def traceable_forward(layer, input: Tensor, hx=None, *, lengths: Tensor | Sequence[int] | None = None):
    """``layer(input, hx, lengths=lengths)`` for an rnnzoo.nn layer, as exportable ops; returns what the layer
    returns: ``(output, h_n)`` or ``(output, (h_n, c_n))``. Lengths are not validated (no data-dependent check can
    be exported): each must lie in 1..T, as the ordinary forward checks."""
    unbatched = input.dim() == 2
    x = input.unsqueeze(0 if layer.batch_first else 1) if unbatched else input
    x = x.transpose(0, 1) if layer.batch_first else x  # (T, B, I)
    seq_len, batch = x.shape[0], x.shape[1]
    num_dirs = 2 if layer.bidirectional else 1
    has_c = layer.has_cell_state
    if hx is None:
        zeros = x.new_zeros(layer.num_layers * num_dirs, batch, layer.hidden_size)
        h0, c0 = zeros, (torch.zeros_like(zeros) if has_c else None)  # scan refuses carries that alias
    else:
        h0, c0 = hx if has_c else (hx, None)
        if unbatched:
            h0, c0 = h0.unsqueeze(1), None if c0 is None else c0.unsqueeze(1)
    mask = None
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=x.device).long()
        mask = (torch.arange(seq_len, device=x.device).unsqueeze(1) < lengths.unsqueeze(0)).unsqueeze(-1)  # (T,B,1)
        x = torch.where(mask, x, 0.0)  # padding may hold anything; it must not reach a step (0 * NaN is NaN)

    step = _step_function(layer)
    layer_input, last_h, last_c = x, [], []
    for index in range(layer.num_layers):
        outputs = []
        for direction in range(num_dirs):
            k = index * num_dirs + direction
            suffix = f"_l{index}" + ("_reverse" if direction else "")
            canonical = reverse_padded(layer_input, lengths) if direction else layer_input
            states, h_n, c_n = _scan_direction(layer, step, canonical, h0[k], None if c0 is None else c0[k],
                                               suffix, mask)
            if mask is not None:
                states = torch.where(mask, states, 0.0)  # outputs past each length are zero
            outputs.append(reverse_padded(states, lengths) if direction else states)
            last_h.append(h_n)
            last_c.append(c_n)
        layer_output = torch.cat(outputs, dim=-1) if num_dirs == 2 else outputs[0]  # (T, B, D*H)
        is_last = index == layer.num_layers - 1
        layer_input = layer_output if is_last else F.dropout(layer_output, layer.dropout, layer.training)

    output = layer_output.transpose(0, 1) if layer.batch_first else layer_output
    state = (torch.stack(last_h), torch.stack(last_c)) if has_c else torch.stack(last_h)  # (L*D, B, H)
    if unbatched:
        output = output.squeeze(0 if layer.batch_first else 1)
        state = tuple(s.squeeze(1) for s in state) if has_c else state.squeeze(1)
    return output, state


def _scan_direction(layer, step: Callable, x: Tensor, h0: Tensor, c0: Tensor | None, suffix: str,
                    mask: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer and direction over a canonical (T, B, I) input: h of every step (T, B, H) and the final h, c."""
    w_ih, w_hh = getattr(layer, "weight_ih" + suffix), getattr(layer, "weight_hh" + suffix)
    b_ih = getattr(layer, "bias_ih" + suffix) if layer.bias else None
    b_hh = getattr(layer, "bias_hh" + suffix) if layer.bias else None
    peep = getattr(layer, "weight_peephole" + suffix, None)
    xproj = F.linear(x, w_ih, b_ih)  # every step's input share at once: (T, B, G*H)
    if mask is None:
        mask = torch.ones_like(x[..., :1], dtype=torch.bool)  # (T, B, 1): a where() on all-true costs little
    # Fresh carries: a view into the stacked (L*D, B, H) state would hand the scan its base, whose offset (k*B*H)
    # torch.export then specialises the batch size on (measured: a bidirectional layer lost its dynamic batch).
    carry = (h0.clone(), c0.clone()) if c0 is not None else (h0.clone(),)

    def combine(carry: Carry, xs: tuple[Tensor, Tensor]) -> tuple[Carry, Tensor]:
        a, m = xs  # (B, G*H), (B, 1)
        new = step(carry, a, w_hh, b_hh, peep)
        new = tuple(torch.where(m, n, old) for n, old in zip(new, carry))  # held past the length
        # scan's outputs may not alias its carry: the per-step output is a copy of h.
        return new, new[0].clone()

    final, states = scan(combine, carry, (xproj, mask))
    return states, final[0], final[1] if c0 is not None else None


# ---------------------------------------------------------------------------------------------- cell steps
# Each takes the carry, the step's input share a = W_ih x_t + b_ih (B, G*H), W_hh, b_hh and (LSTMs) the peephole
# weights, and returns the new carry. Gate orders are torch.nn's.

def _lstm_step(carry: Carry, a: Tensor, w_hh: Tensor, b_hh: Tensor | None, peep: Tensor | None) -> Carry:
    """i, f = σ(a + W_hh h + b_hh (+ p ⊙ c_{t-1})); g = tanh(·); c = f ⊙ c + i ⊙ g; o = σ(· (+ p_o ⊙ c_t));
    h = o ⊙ tanh(c). Without ``peep`` it is torch.nn.LSTM's cell."""
    h, c = carry
    a_i, a_f, a_g, a_o = (a + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)  # 4 x (B, H)
    if peep is not None:
        p_i, p_f, p_o = peep.chunk(3)  # 3 x (H,)
        a_i, a_f = a_i + p_i * c, a_f + p_f * c
    i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
    c_new = f * c + i * g  # (B, H)
    o = torch.sigmoid(a_o + p_o * c_new) if peep is not None else torch.sigmoid(a_o)
    return o * torch.tanh(c_new), c_new


def _gru_step(carry: Carry, a: Tensor, w_hh: Tensor, b_hh: Tensor | None, peep: Tensor | None) -> Carry:
    """r, z = σ(a + W_hh h + b_hh); n = tanh(a_n + r ⊙ (W_hn h + b_hn)); h = (1 - z) ⊙ n + z ⊙ h."""
    (h,) = carry
    a_r, a_z, a_n = a.chunk(3, dim=-1)
    g_r, g_z, g_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)  # 3 x (B, H)
    r, z = torch.sigmoid(a_r + g_r), torch.sigmoid(a_z + g_z)
    n = torch.tanh(a_n + r * g_n)
    return (n + z * (h - n),)


def _rnn_step(activation: Callable[[Tensor], Tensor]):
    def step(carry: Carry, a: Tensor, w_hh: Tensor, b_hh: Tensor | None, peep: Tensor | None) -> Carry:
        """h = act(a + W_hh h + b_hh)."""
        (h,) = carry
        return (activation(a + F.linear(h, w_hh, b_hh)),)

    return step


_STEPS: dict[str, Callable] = {
    "LSTM": _lstm_step,  # the peephole LSTM too: its layer carries weight_peephole_*
    "GRU": _gru_step,
    "RNN_TANH": _rnn_step(torch.tanh),
    "RNN_RELU": _rnn_step(torch.relu),
}


def _step_function(layer) -> Callable:
    if layer.mode not in _STEPS:
        raise ValueError(f"no exportable step for a {type(layer).__name__} (mode {layer.mode!r}); the exportable "
                         f"ones are {sorted(_STEPS)}: add its step to rnnzoo/nn/traceable.py")
    return _STEPS[layer.mode]
