"""The forward contract shared by rnnzoo's four recurrent layers.

Every layer is a ``torch.nn.RNNBase`` subclass, so parameter names and layouts are torch.nn's and a torch.nn
state dict loads as is. On top of torch.nn's ``forward(input, hx)`` this adds ``lengths=`` for padded batches
and ``return_gates=`` for a look inside the cell. Two execution paths exist:

* the fused path: torch.nn's own kernels (cuDNN on CUDA), with packed sequences for ``lengths``;
* the per-direction path: each layer and direction separately in a canonical form (time-major, each sequence
  left-aligned, a reverse direction run on each sequence reversed within its own length). Cells without a
  fused torch kernel (the peephole LSTM) and every ``return_gates=True`` call take it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnzoo.nn.checks import check_input, check_lengths, check_state
from rnnzoo.nn.padding import reverse_padded, step_mask

State = Tensor | tuple[Tensor, Tensor]


class DirectionRun:
    """What one layer in one direction produced, in canonical form.

    ``states`` holds h for every step (T, B, H); it is only read at steps before each sequence's length.
    ``trace`` maps gate and state names to (T, B, H) tensors, filled only when gates were asked for.
    """

    __slots__ = ("states", "last_h", "last_c", "trace")

    def __init__(self, states: Tensor, last_h: Tensor, last_c: Tensor | None, trace: dict[str, Tensor]):
        self.states, self.last_h, self.last_c, self.trace = states, last_h, last_c, trace


class RecurrentLayer:
    """Mixin placed before a ``torch.nn.RNNBase`` subclass; implements the rnnzoo forward contract.

    Subclasses set ``gate_names`` (the keys of the gate trace, in order), ``has_cell_state`` and
    ``uses_fused_kernel``, and implement :meth:`_run_direction`.
    """

    gate_names: tuple[str, ...] = ()
    has_cell_state: bool = False
    uses_fused_kernel: bool = True

    def forward(
        self,
        input: Tensor,
        hx: State | None = None,
        *,
        lengths: Tensor | Sequence[int] | None = None,
        return_gates: bool = False,
    ):
        """Run the layer over a batch of sequences.

        Args:
            input: ``(T, B, input_size)``, or ``(B, T, input_size)`` with ``batch_first=True``, or one
                unbatched sequence ``(T, input_size)``.
            hx: initial state ``(num_layers * num_directions, B, hidden_size)``; for LSTMs a tuple
                ``(h_0, c_0)``. Zeros when omitted.
            lengths: true length of each sequence in a padded batch (1-D integer tensor on any device, or a
                list). Outputs past a sequence's length are zero and final states come from its own last step.
            return_gates: also return every step's gate activations and states.

        Returns:
            ``(output, h_n)`` (``(output, (h_n, c_n))`` for LSTMs) like torch.nn, and with ``return_gates=True``
            a third item: a dict from gate/state name (see ``gate_names``) to a tensor of shape
            ``(num_layers * num_directions, T, B, hidden_size)`` (``(..., B, T, ...)`` with ``batch_first``),
            indexed like ``h_n`` (layer 0 forward, layer 0 reverse, layer 1 forward, ...), zero past each length.
            The trace is detached: it is there to look at, and the output carries the gradients.
        """
        if torch.compiler.is_exporting():
            # torch.export / torch.onnx.export: the C++ scans and packed sequences do not trace, and the checks
            # below read values; the same equations run as a torch scan with dynamic batch and time.
            if return_gates:
                raise ValueError("return_gates=True cannot be exported (the gate trace is for looking inside a "
                                 "model in PyTorch); export the forward without it")
            from rnnzoo.nn.traceable import traceable_forward

            return traceable_forward(self, input, hx, lengths=lengths)
        x, unbatched = check_input(input, self.input_size, self.batch_first, next(self.parameters(), None))
        time_dim, batch_dim = (1, 0) if self.batch_first else (0, 1)
        seq_len, batch_size = x.shape[time_dim], x.shape[batch_dim]
        if unbatched and lengths is not None:
            raise ValueError("lengths= needs a batched input; an unbatched (T, features) input has one full-length sequence")
        lengths = check_lengths(lengths, batch_size, seq_len)
        if lengths is not None and bool((lengths == seq_len).all()):
            lengths = None  # nothing is padded: the plain kernels are exact and faster
        hx = self._check_hx(hx, x, batch_size, unbatched)

        if return_gates or not self.uses_fused_kernel or self._prefers_scan(x, lengths):
            output, state, gates = self._forward_by_direction(x, hx, lengths, return_gates)
        else:
            output, state = self._forward_fused(x, hx, lengths)
            gates = None

        if unbatched:
            output = output.squeeze(batch_dim)
            state = tuple(s.squeeze(1) for s in state) if isinstance(state, tuple) else state.squeeze(1)
            if gates is not None:
                gates = {name: g.squeeze(batch_dim + 1) for name, g in gates.items()}
        return (output, state, gates) if return_gates else (output, state)

    def _prefers_scan(self, x: Tensor, lengths: Tensor | None) -> bool:
        """Whether rnnzoo's own time loops beat torch's fused kernel for this call (measured per cell; see
        docs/performance.md). False by default: the fused kernel (cuDNN on CUDA) runs."""
        return False

    # ----------------------------------------------------------------------------------------------------------
    def _check_hx(self, hx: State | None, x: Tensor, batch_size: int, unbatched: bool) -> State | None:
        if hx is None:
            return None
        num_states = self.num_layers * (2 if self.bidirectional else 1)
        expected = (num_states, self.hidden_size) if unbatched else (num_states, batch_size, self.hidden_size)
        if self.has_cell_state:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(
                    f"hx for {type(self).__name__} must be a tuple (h_0, c_0), got {type(hx).__name__}"
                )
            check_state("hx[0] (h_0)", hx[0], expected, x)
            check_state("hx[1] (c_0)", hx[1], expected, x)
            return (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if unbatched else tuple(hx)
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"hx for {type(self).__name__} must be one tensor h_0, got a {type(hx).__name__}")
        check_state("hx", hx, expected, x)
        return hx.unsqueeze(1) if unbatched else hx

    def _forward_fused(self, x: Tensor, hx: State | None, lengths: Tensor | None) -> tuple[Tensor, State]:
        torch_forward = super().forward  # the torch.nn module's forward, next in the MRO
        if lengths is None:
            return torch_forward(x, hx)
        packed = pack_padded_sequence(x, lengths, batch_first=self.batch_first, enforce_sorted=False)
        packed_output, state = torch_forward(packed, hx)
        total = x.shape[1 if self.batch_first else 0]
        output, _ = pad_packed_sequence(packed_output, batch_first=self.batch_first, total_length=total)
        return output, state

    def _forward_by_direction(
        self, x: Tensor, hx: State | None, lengths: Tensor | None, return_gates: bool
    ) -> tuple[Tensor, State, dict[str, Tensor] | None]:
        layer_input = x.transpose(0, 1) if self.batch_first else x
        seq_len, batch_size = layer_input.shape[:2]
        num_dirs = 2 if self.bidirectional else 1
        if hx is None:
            zeros = layer_input.new_zeros(self.num_layers * num_dirs, batch_size, self.hidden_size)
            hx = (zeros, zeros) if self.has_cell_state else zeros
        h0, c0 = hx if self.has_cell_state else (hx, None)
        mask = None if lengths is None else step_mask(lengths, seq_len, layer_input)
        if mask is not None:
            # Zero the padding before the time loops: whatever it holds (NaN, inf from a careless pad) must not
            # reach the steps past each length, whose outputs are masked out but whose gradients flow into the
            # weights (0 * NaN is NaN). torch.where's gradient there is exactly zero.
            layer_input = torch.where(mask.bool(), layer_input, 0.0)

        last_h, last_c, traces = [], [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_dirs):
                k = layer * num_dirs + direction
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                canonical = reverse_padded(layer_input, lengths) if direction else layer_input
                run = self._run_direction(
                    canonical, h0[k], None if c0 is None else c0[k], suffix, lengths, mask, return_gates
                )
                states, trace = run.states, run.trace
                if mask is not None:
                    states = states * mask
                    trace = {name: value * mask for name, value in trace.items()}
                if direction:
                    states = reverse_padded(states, lengths)
                    trace = {name: reverse_padded(value, lengths) for name, value in trace.items()}
                outputs.append(states)
                last_h.append(run.last_h)
                last_c.append(run.last_c)
                traces.append(trace)
            layer_output = torch.cat(outputs, dim=-1) if num_dirs == 2 else outputs[0]
            is_last = layer == self.num_layers - 1
            layer_input = layer_output if is_last else F.dropout(layer_output, self.dropout, self.training)

        output = layer_output.transpose(0, 1) if self.batch_first else layer_output
        h_n = torch.stack(last_h)
        state = (h_n, torch.stack(last_c)) if self.has_cell_state else h_n
        gates = None
        if return_gates:
            gates = {name: torch.stack([trace[name] for trace in traces]) for name in self.gate_names}
            if self.batch_first:
                gates = {name: value.transpose(1, 2) for name, value in gates.items()}
        return output, state, gates

    def _weights(self, suffix: str) -> list[Tensor]:
        """torch.nn's flat weight list for one layer and direction: [w_ih, w_hh] (+ [b_ih, b_hh] with bias)."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        return [getattr(self, name + suffix) for name in names]

    def _run_direction(
        self,
        x: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        suffix: str,
        lengths: Tensor | None,
        mask: Tensor | None,
        return_gates: bool,
    ) -> DirectionRun:
        """Run one layer and direction over a canonical (T, B, I) input; see :class:`DirectionRun`."""
        raise NotImplementedError
