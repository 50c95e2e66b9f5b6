"""Argument checks at the entry of every recurrent layer.

Each check raises a ``TypeError``/``ValueError`` that names the argument, what was received and what was
expected, so a user sees the fix instead of a shape error from deep inside a kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def check_input(input: Tensor, input_size: int, batch_first: bool,
                weight: Tensor | None = None) -> tuple[Tensor, bool]:
    """Return the input as a batched tensor and whether it came unbatched.

    A 2-D input is one unbatched sequence ``(T, input_size)``, as torch.nn accepts it. ``weight`` (a layer
    parameter) fixes the dtype the input must have, unless autocast chooses the compute dtype.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise TypeError(
            f"input must be a floating-point tensor, got dtype {input.dtype}; "
            "convert it with input.float() (token ids need an embedding layer first)"
        )
    if input.dim() not in (2, 3):
        layout = "(batch, time, features)" if batch_first else "(time, batch, features)"
        raise ValueError(
            f"input must be 3-D {layout} or 2-D (time, features), got {input.dim()}-D shape {tuple(input.shape)}"
        )
    if input.shape[-1] != input_size:
        raise ValueError(
            f"input has {input.shape[-1]} features in its last dimension (shape {tuple(input.shape)}), "
            f"but the layer was built with input_size={input_size}"
        )
    if input.shape[-3 if input.dim() == 3 and not batch_first else -2] == 0:
        raise ValueError(f"input has 0 time steps (shape {tuple(input.shape)}); a recurrent layer needs at least "
                         f"one step per sequence: drop empty sequences before batching")
    if weight is not None and input.dtype != weight.dtype and not torch.is_autocast_enabled(input.device.type):
        raise TypeError(f"input has dtype {input.dtype} but the layer's weights are {weight.dtype}; convert one to "
                        f"the other (input.to({weight.dtype}) or layer.to({input.dtype}))")
    if input.dim() == 2:
        return input.unsqueeze(0 if batch_first else 1), True
    return input, False


def check_lengths(
    lengths: Tensor | Sequence[int] | None, batch_size: int, seq_len: int
) -> Tensor | None:
    """Validate per-sequence lengths and return them as a CPU int64 tensor (or None: all full length).

    Lengths may live on any device; they are needed on the CPU anyway by ``pack_padded_sequence``.
    """
    if lengths is None:
        return None
    if isinstance(lengths, (str, bytes)):
        raise TypeError(f"lengths must be a 1-D integer tensor or a list of ints, got the string {lengths!r}")
    if isinstance(lengths, Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got a tensor of dtype {lengths.dtype}")
        if lengths.dim() != 1:
            raise ValueError(f"lengths must be 1-D (one length per sequence), got shape {tuple(lengths.shape)}")
        lengths = lengths.detach().to("cpu", torch.int64)
    else:
        try:
            values = [int(v) for v in lengths]
        except (TypeError, ValueError) as err:
            raise TypeError(f"lengths must be a 1-D integer tensor or a list of ints, got {lengths!r}") from err
        if any(v != float(x) for v, x in zip(values, lengths)):
            raise TypeError(f"lengths must be integers, got {list(lengths)!r}")
        lengths = torch.tensor(values, dtype=torch.int64)
    if lengths.numel() != batch_size:
        raise ValueError(f"lengths has {lengths.numel()} entries but the batch holds {batch_size} sequences")
    if batch_size and (lengths.min() < 1 or lengths.max() > seq_len):
        raise ValueError(
            f"every length must lie in 1..{seq_len} (the padded sequence length), got min {int(lengths.min())} "
            f"and max {int(lengths.max())}; drop empty sequences before batching"
        )
    return lengths


def check_state(name: str, state: Tensor, expected: tuple[int, ...], like: Tensor) -> None:
    """Check an initial state tensor's shape, dtype and device against the input it comes with."""
    if not isinstance(state, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(state).__name__}")
    if tuple(state.shape) != expected:
        raise ValueError(
            f"{name} must have shape (num_layers * num_directions, batch, hidden_size) = {expected}, "
            f"got {tuple(state.shape)}"
        )
    if state.device != like.device:
        raise ValueError(f"{name} is on {state.device} but the input is on {like.device}; move it with .to()")
    if state.dtype != like.dtype:
        raise TypeError(f"{name} has dtype {state.dtype} but the input has {like.dtype}; cast one to the other")
