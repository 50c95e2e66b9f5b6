"""Export a zoo model to ONNX (for onnxruntime) or to a ``torch.export`` program (.pt2), batch and time dynamic.

Both go through ``torch.export``: while it traces, every rnnzoo.nn layer runs its recurrence as a torch scan
(:mod:`rnnzoo.nn.traceable`), which the ONNX exporter (``torch.onnx.export(dynamo=True)``, torch's default) writes
as an ONNX ``Scan`` over a symbolic number of steps. The graph's inputs are the model's input (named as its
DataModule's batch key: ``roll``, ``features``, ``inputs``, ``window``) and, unless ``with_lengths=False``,
``lengths`` (int64, one per sequence, each in 1..T): outputs past a sequence's length are zero and final states
come from its own last step, as in PyTorch; then the keyword inputs the model's forward needs beside its input
(:meth:`~rnnzoo.tasks.base.TaskModel.synthetic_keywords`: a forecaster's ``future`` covariates, (B, horizon, N),
batch dynamic). The model's architecture, config and preprocessing travel in the ONNX
file's metadata (``rnnzoo.*`` keys), so the vocabulary or scaler is at hand next to the graph.

A forecaster's graph works in the series' own units (``raw=True``, the default; metadata ``rnnzoo.units =
"raw"``): its ``window`` and ``future`` are the values as ``forecast`` takes them (targets, then covariates, not
scaled) and its output is the forecast in those units, what ``model.forecast(history)`` returns for the last
``input_length`` steps (a quantile model's every level, a Gaussian's mean and std), for the model's whole
horizon. The scaling (:class:`~rnnzoo.tasks.forecaster.preprocessing.SeriesScaler`'s training statistics) is in
the graph (:class:`~rnnzoo.tasks.forecaster.raw_graph.RawUnitsForecaster`): a raw window given to the forward's
graph, which reads scaled windows, gave a forecast off in level with its season flattened, and no warning. A model with
several scalers then takes each window's ``series`` index (int64, (B,)) as its last input. ``raw=False``
(``rnnzoo export --scaled``, metadata ``rnnzoo.units = "scaled"``) exports the forward on scaled windows instead,
for a pipeline that scales with ``rnnzoo.preprocessing`` itself. Other tasks' graphs read what their forward
reads (token ids, standardised features, piano-roll bits; ``rnnzoo.units = "encoded"``).

What is not exported: the initial state ``hx`` (zeros), a language model's returned state, ``return_gates`` and
the raw-input methods of the other tasks (``generate``, ``classify`` ...), and ``forecast``'s checks and table
handling (column names, dates, calendar features computed from dates), which stay Python around the graph.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnzoo.errors import RnnzooError
from rnnzoo.tasks.base import TaskModel

DEFAULT_OPSET = 18  # the ONNX exporter's own default in torch 2.13; onnxruntime 1.32 runs up to 23
FORMATS = ("onnx", "torch-export")
_INSTALL = "pip install 'rnnzoo[onnx]' (or: pip install onnx onnxscript onnxruntime)"


class ExportError(RnnzooError, RuntimeError):
    """A model, option or environment that cannot export: the message names the problem and the fix."""


def export_onnx(
    model: TaskModel | str | os.PathLike,
    path: str | os.PathLike,
    *,
    with_lengths: bool = True,
    opset: int = DEFAULT_OPSET,
    raw: bool = True,
) -> Path:
    """Write ``model`` as an ONNX file with dynamic batch and time axes; returns the file's path.

    Args:
        model: a task model, or anything :func:`rnnzoo.load` takes (a zoo name, ``hf-hub:org/repo``,
            ``local-dir:PATH``) or a saved folder.
        path: the .onnx file to write (its folder is created).
        with_lengths: add the ``lengths`` input (int64, shape (B,)): padded batches then give PyTorch's results
            with ``lengths=``. Without it every sequence is taken as full length.
        opset: the ONNX opset (18 or newer: the exporter writes opset 18 and converts up).
        raw: a forecaster's graph reads and returns the series' own units (the scaling inside it, see the module
            docstring); False exports its forward on scaled windows. Other tasks' graphs are their forward either
            way.

    Raises:
        ExportError: onnx/onnxscript missing, a model that is not an rnnzoo task model, weights not float32, or
            an opset below 18.
    """
    try:
        import onnx  # noqa: F401  (the exporter needs both; say so here rather than deep in torch)
        import onnxscript  # noqa: F401
    except ImportError as err:
        raise ExportError(f"ONNX export needs the onnx and onnxscript packages ({err.name} is missing): {_INSTALL}") \
            from err
    if opset < 18:
        raise ExportError(f"opset={opset}: rnnzoo exports with torch's ONNX exporter, which writes opset 18 or newer "
                          f"(ONNX Scan with dynamic steps); use opset >= 18 (default {DEFAULT_OPSET})")
    model = exportable_copy(model)
    # torch.export first, on its own: given a module, torch.onnx.export falls back to other capture strategies
    # when one fails, and one of them silently drops the dynamic axes (measured); an ExportedProgram it takes as is.
    program = export_program(model, with_lengths=with_lengths, raw=raw)
    input_names = _example(model, with_lengths, raw).names
    num_outputs = len(program.graph_signature.user_outputs)
    output_names = ["output"] if num_outputs == 1 else [f"output_{i}" for i in range(num_outputs)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_exporter():
        onnx_program = torch.onnx.export(program, dynamo=True, opset_version=opset, input_names=input_names,
                                         output_names=output_names, optimize=True, verbose=False)
    _name_dynamic_axes(onnx_program.model)
    for key, value in _metadata(model, with_lengths, raw).items():
        onnx_program.model.metadata_props[key] = value
    onnx_program.save(str(path))
    return path


def export_program(model: TaskModel | str | os.PathLike, *, with_lengths: bool = True,
                   raw: bool = True) -> torch.export.ExportedProgram:
    """``torch.export`` the model's forward, or a forecaster's raw-units graph (same inputs, units and dynamic
    axes as :func:`export_onnx`); save it with ``torch.export.save(program, "model.pt2")`` and run it with
    ``torch.export.load(...).module()(x, lengths)`` (then ``future`` for a forecaster with future-known covariates,
    ``series`` for one with several scalers: the inputs in :func:`input_names` order)."""
    model = exportable_copy(model)
    whole_windows = getattr(model, "normalization", None) in ("seasonal_difference", "es")
    if with_lengths and whole_windows:
        raise ExportError(f"{getattr(model, 'architecture', type(model).__name__)!r} (normalization="
                          f"{model.normalization!r}) reads whole windows of one length, with no lengths input: "
                          f"export it with with_lengths=False (rnnzoo export --no-lengths)")
    example = _example(model, with_lengths, raw)
    # strict=False: trace the Python as it runs (the scan inside is captured either way).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)  # torch's own pytree deprecation, not the user's
        return torch.export.export(_Forward(example.target, with_lengths, example.keywords), example.args,
                                   dynamic_shapes=example.dynamic_shapes, strict=False)


def save_program(model: TaskModel | str | os.PathLike, path: str | os.PathLike, *, with_lengths: bool = True,
                 raw: bool = True) -> Path:
    """:func:`export_program`, written to ``path`` (a .pt2 file) with ``torch.export.save``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.export.save(export_program(model, with_lengths=with_lengths, raw=raw), str(path))
    return path


def input_names(model: TaskModel, with_lengths: bool = True, raw: bool = True) -> list[str]:
    """The exported graph's input names, in order: the model's input (its DataModule's batch key), ``lengths``
    unless ``with_lengths=False``, then its keyword inputs (a forecaster's ``future``, then ``series``)."""
    return _example(model, with_lengths, raw).names


def example_keywords(model: TaskModel, x: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """The keyword inputs ``model`` needs beside ``x`` (:meth:`~rnnzoo.tasks.base.TaskModel.synthetic_keywords`):
    seeded standard-normal values in the shape of the float ones (not their zeros, which would hide an input the
    graph ignored), integer ones (a hybrid's series ids) as given."""
    generator = torch.Generator().manual_seed(seed + 1)
    return {name: torch.randn(value.shape, generator=generator).to(value.dtype) if value.is_floating_point()
            else value for name, value in sorted(model.synthetic_keywords(x).items())}


def example_inputs(model: TaskModel, batch: int, steps: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A seeded padded batch of the model's kind ``(B, T, ...)`` and its lengths ``(B,)``: the first sequence full
    length, the others drawn in 1..T. Used as the export example and for parity checks."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.cat([model.synthetic_input(steps, generator) for _ in range(batch)])
    if x.is_floating_point():
        x = x + 0.1 * torch.randn(x.shape, generator=generator)  # rows differ even where synthetic_input repeats
        x = x.to(next(model.parameters()).dtype)
    lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
    lengths[0] = steps
    return x, lengths


class Parity(NamedTuple):
    """How far onnxruntime's outputs lie from PyTorch's: ``max_abs`` = max |ort - torch|, and ``max_scaled`` =
    max |ort - torch| / (1 + |torch|), which is below ``tol`` exactly when ``numpy.allclose(ort, torch, rtol=tol,
    atol=tol)`` holds: absolute for outputs below 1, relative for large ones (a word model's logits)."""

    max_abs: float
    max_scaled: float
    shape: tuple[int, int] = (0, 0)  # the (batch, steps) compared


def onnx_parity(model: TaskModel, path: str | os.PathLike, *, batch: int = 5, steps: int = 13, seed: int = 1,
                with_lengths: bool = True) -> Parity:
    """Compare onnxruntime's outputs for the ONNX file ``path`` with PyTorch's for the same whole graph on a seeded
    padded batch (by default of another batch size and length than the export example); see :class:`Parity`. A
    forecaster's raw-units graph (the file's ``rnnzoo.units`` says which) is compared with the model's forward
    wrapped in the same scaling, on windows in the series' units; differences are then in those units too."""
    try:
        import onnxruntime
    except ImportError as err:
        raise ExportError(f"running an exported model needs onnxruntime: {_INSTALL}") from err
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = session.get_modelmeta().custom_metadata_map.get("rnnzoo.units") == "raw"
    steps = max(steps, 2 * int(getattr(model, "season", 1) or 1) + 3)  # a seasonal model: windows of 2+ seasons
    target, values, names = _graph_inputs(model, batch, steps, seed, with_lengths, raw)
    got = session.run(None, {i.name: v.numpy() for i, v in zip(session.get_inputs(), values)})
    first = 2 if with_lengths else 1  # the keyword inputs' position
    lengths = values[1] if with_lengths else None
    keywords = dict(zip(names[first:], values[first:]))
    with model.inference():
        expected = target(values[0], lengths=lengths, **keywords)
    expected = expected if isinstance(expected, tuple) else (expected,)
    diffs = [(torch.from_numpy(g) - e.float()).abs() for g, e in zip(got, expected)]
    return Parity(max(float(d.max()) for d in diffs),
                  max(float((d / (1 + e.float().abs())).max()) for d, e in zip(diffs, expected)), (batch, steps))


# ------------------------------------------------------------------------------------------------ internals
class _Forward(nn.Module):
    """``target(input, lengths=..., **keywords)`` (the model, or a forecaster's raw-units wrapper) with positional
    ``(input, lengths, *keyword inputs)``, the signature the exported graph gets (``lengths`` left out with
    ``with_lengths=False``)."""

    def __init__(self, target: nn.Module, with_lengths: bool, keywords: list[str]):
        super().__init__()
        self.target, self.with_lengths, self.keywords = target, with_lengths, keywords
        self.eval()

    def forward(self, x: Tensor, *rest: Tensor):
        lengths, rest = (rest[0], rest[1:]) if self.with_lengths else (None, rest)
        return self.target(x, lengths=lengths, **dict(zip(self.keywords, rest)))


def exportable_copy(model: TaskModel | str | os.PathLike) -> TaskModel:
    """A CPU eval-mode copy of a float32 task model, or the model a name or folder loads (the caller's model is
    left as it was); an :class:`ExportError` for anything else."""
    if isinstance(model, (str, os.PathLike)):
        from rnnzoo.factory import load

        model = load(model)
    if not isinstance(model, TaskModel):
        raise ExportError(f"export takes an rnnzoo task model (rnnzoo.load / rnnzoo.create_model), got "
                          f"{type(model).__name__}; wrap a bare rnnzoo.nn layer in a task model, or call "
                          f"torch.onnx.export on it with dynamo=True (its forward routes to the exportable scan)")
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise ExportError(f"the model's weights are {sorted(map(str, dtypes))}; rnnzoo exports and checks float32 "
                          f"graphs: convert a copy with model.float() first")
    exportable = copy.deepcopy(model).cpu().eval()
    exportable.requires_grad_(False)
    return exportable


class _Example(NamedTuple):
    """What torch.export needs: the module it traces, its example inputs and their dynamic axes, the graph's input
    names and the names of the keyword inputs among them."""

    target: nn.Module
    args: tuple[Tensor, ...]
    dynamic_shapes: tuple[dict | tuple, ...]
    names: list[str]
    keywords: list[str]


def _graph_target(model: TaskModel, raw: bool) -> nn.Module:
    """The module whose calls become the graph: a forecaster in raw units (``raw``), else the model itself."""
    from rnnzoo.tasks.forecaster.model import Forecaster

    if raw and isinstance(model, Forecaster):
        from rnnzoo.tasks.forecaster.raw_graph import RawUnitsForecaster

        return RawUnitsForecaster(model).eval()
    return model


def _graph_inputs(model: TaskModel, batch: int, steps: int, seed: int, with_lengths: bool, raw: bool
                  ) -> tuple[nn.Module, list[Tensor], list[str]]:
    """The graph's module, seeded example inputs of ``batch`` x ``steps`` in its order (input, lengths, keyword
    inputs) and their names. A raw-units forecaster's window and covariates are the scaled examples unscaled
    with the scaler of each window's series (a hybrid's then stay positive in the series' units)."""
    target = _graph_target(model, raw)
    x, lengths = example_inputs(model, batch, steps, seed)
    keywords = example_keywords(model, x, seed)
    if target is model:
        names = sorted(keywords)
    else:
        names = target.keyword_names()
        if "series" in names:  # a hybrid's ids as synthetic_keywords gives them, else each scaler in turn
            keywords.setdefault("series", torch.arange(batch) % target.mean.shape[0])
        series = keywords.get("series")
        x = target.to_units(x, series)
        if "future" in keywords:
            keywords["future"] = target.to_units(keywords["future"], series, last=model.num_future)
    input_name = model.objective_class.input_key or "input"
    values = [x, *([lengths] if with_lengths else []), *(keywords[name] for name in names)]
    return target, values, [input_name, *(["lengths"] if with_lengths else []), *names]


def _example(model: TaskModel, with_lengths: bool, raw: bool) -> _Example:
    """The export example (batch 3, 7 steps: neither 0 nor 1, which torch.export would specialise on), its dynamic
    axes and names."""
    # a seasonal forecaster reads windows longer than its season (the hybrid at least one, seasonal differences
    # more than one, and the scan after the first season or the differencing at least two steps): the example is
    # two seasons long
    season = int(getattr(model, "season", 1) or 1)
    target, values, names = _graph_inputs(model, 3, max(7, 2 * season + 1), 0, with_lengths, raw)
    batch = torch.export.Dim("batch")
    seasonal = getattr(model, "normalization", None) in ("es", "seasonal_difference")
    time = torch.export.Dim("time", min=season + 2) if seasonal else torch.export.Dim("time")
    # fixed shapes but the batch for the keyword inputs (a forecaster's horizon and covariates)
    axes = [{0: batch, 1: time}, *({0: batch} for _ in values[1:])]
    # _Forward.forward(x, *rest): torch.export wants the axes of the variadic inputs as one tuple, if any
    shapes = (axes[0], tuple(axes[1:])) if len(axes) > 1 else (axes[0],)
    keywords = names[2 if with_lengths else 1:]
    return _Example(target, tuple(values), shapes, names, keywords)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Hush the exporter's notes that say nothing about the user's model (torchvision ops it skips, constant
    folding it skips); errors still surface."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*axis name.*will not be used")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _name_dynamic_axes(model) -> None:
    """Call torch.export's symbols for the input's first two axes (``s2``, ``s27`` ...) ``batch`` and ``time``
    wherever they appear in the graph's shapes (in place, on the onnx_ir model)."""
    import onnx_ir as ir

    first = model.graph.inputs[0].shape
    names = {str(dim): new for dim, new in zip(first, ("batch", "time")) if isinstance(dim, ir.SymbolicDim)}

    def rename(value) -> None:
        if value is not None and value.shape is not None and any(str(d) in names for d in value.shape):
            value.shape = ir.Shape([ir.SymbolicDim(names[str(d)]) if str(d) in names else d for d in value.shape])

    for value in (*model.graph.inputs, *model.graph.outputs):
        rename(value)
    for node in ir.traversal.RecursiveGraphIterator(model.graph):
        for value in node.outputs:
            rename(value)


def _metadata(model: TaskModel, with_lengths: bool, raw: bool) -> dict[str, str]:
    from rnnzoo.version import __version__

    target, values, names = _graph_inputs(model, 2, 7, 0, with_lengths, raw)
    units = "raw" if target is not model else "scaled" if model.task == "forecaster" else "encoded"
    inputs = "input (B, T, ...) and lengths (B,) int64, each in 1..T" if with_lengths \
        else "input (B, T, ...), every sequence full length"
    first = 2 if with_lengths else 1
    for name, value in zip(names[first:], values[first:]):
        shape = ", ".join(["B", *map(str, value.shape[1:])])
        inputs += f"; {name} ({shape})" + ("" if value.is_floating_point() else " int64")
    inputs += {"raw": "; values in the series' own units, as forecast() reads a history (targets, then covariates)",
               "scaled": "; values scaled with rnnzoo.preprocessing's mean and std",
               "encoded": "; the model's input as rnnzoo.preprocessing encodes it"}[units]
    if "series" in names:
        inputs += "; series: each window's index into rnnzoo.preprocessing's series (its scaler)"
    outputs = {"raw": "the forecast in the series' own units, the model's whole horizon (a quantile model's every "
                      "level, a Gaussian's mean and std)",
               "scaled": "the forward's output, scaled: unscale with rnnzoo.preprocessing's mean and std",
               "encoded": "the forward's output"}[units]
    preprocessing = model.preprocessing.to_config() if model.preprocessing is not None else None
    return {
        "rnnzoo.version": __version__,
        "rnnzoo.architecture": model.architecture,
        "rnnzoo.task": model.task,
        "rnnzoo.config": json.dumps(model.config),
        "rnnzoo.preprocessing": json.dumps(preprocessing),
        "rnnzoo.units": units,
        "rnnzoo.inputs": inputs,
        "rnnzoo.outputs": outputs,
    }
