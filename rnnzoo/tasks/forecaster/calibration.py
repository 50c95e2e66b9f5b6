"""Calibrated prediction intervals for quantile forecasters: conformalized quantile regression (CQR, Romano,
Patterson & Candès 2019) on the validation split.

A quantile head trained with the pinball loss on a short series gives intervals that are often too narrow (its
0.1 and 0.9 quantiles fit the training range, where the network has seen the answers). CQR corrects each
symmetric pair of levels (tau, 1 - tau) with one offset per horizon step and target, learned on held-out windows:

* conformity score of a window: ``E = max(q_tau - y, y - q_{1-tau})`` (positive: y outside the interval, by that
  much; negative: inside, by that much);
* offset ``Q`` = the ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile of the n scores, ``alpha = 2 tau``;
* calibrated interval ``[q_tau - Q, q_{1-tau} + Q]`` (a negative ``Q`` narrows an interval that over-covers).

If the windows were exchangeable with a new one, the calibrated interval would cover it with probability at
least ``1 - alpha`` (marginally, over windows). Overlapping windows of one series are not exchangeable, so on
time series this is an approximation, usually a good one when the validation range resembles what follows.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

#: levels closer than this are the same level (they are stored as floats in config.json)
LEVEL_TOLERANCE = 1e-9


def symmetric_pairs(levels: list[float]) -> list[tuple[int, int]]:
    """Index pairs ``(lower, upper)`` of ``levels`` (ascending) with ``levels[lower] = tau < 0.5`` and
    ``levels[upper] = 1 - tau``: the central intervals CQR calibrates. The 0.5 level and levels without a
    partner belong to no pair."""
    pairs = []
    for lo, tau in enumerate(levels):
        if tau >= 0.5:
            break
        for hi, other in enumerate(levels):
            if abs(other - (1.0 - tau)) < LEVEL_TOLERANCE:
                pairs.append((lo, hi))
                break
    return pairs


def min_windows(alpha: float) -> int:
    """The fewest calibration windows n for which the conformal rank ``ceil((n + 1)(1 - alpha))`` is at most n,
    i.e. ``n >= 1 / alpha - 1`` (4 for an 80% interval, 9 for 90%, 19 for 95%)."""
    return max(1, math.ceil(1.0 / alpha - 1.0 - 1e-9))


def conformal_rank(n: int, alpha: float) -> int:
    """The 1-based rank ``ceil((n + 1)(1 - alpha))`` of the conformal quantile among n scores (may exceed n).

    The product is rounded to 1e-9 first: ``(n + 1)(1 - alpha)`` that is an integer in exact arithmetic (n = 9,
    alpha = 0.2 -> 8) must not become the next integer through float error (1 - 0.2 = 0.7999999999999999...
    -> 8.000000000000002 would give 9).
    """
    return math.ceil(round((n + 1) * (1.0 - alpha), 9))


def conformity_scores(lower: Tensor, upper: Tensor, target: Tensor) -> Tensor:
    """CQR's score ``max(lower - y, y - upper)`` elementwise: how far ``y`` lies outside ``[lower, upper]``
    (negative when inside: minus its distance to the nearer end)."""
    return torch.maximum(lower - target, target - upper)


def conformal_offset(scores: Tensor, alpha: float) -> Tensor:
    """The offset Q along the first axis of ``scores`` (n, ...): the ``conformal_rank(n, alpha)``-th smallest
    score, i.e. the ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile. Returns shape ``scores.shape[1:]``.

    When that rank exceeds n (fewer than :func:`min_windows` scores) the theory asks for an infinite offset;
    this function returns the largest score instead, which covers every calibration window but carries no
    finite-sample guarantee. :func:`calibrate_intervals` refuses such a split rather than rely on it.
    """
    n = scores.shape[0]
    if n == 0:
        raise ValueError("no conformity scores: calibration needs at least one window")
    rank = min(conformal_rank(n, alpha), n)
    return scores.sort(dim=0).values[rank - 1]


def _task_model(model: Any) -> Any:
    """The forecaster itself, also when given the TrainingModule that trains it."""
    inner = getattr(model, "model", None)
    return inner if isinstance(inner, torch.nn.Module) and hasattr(inner, "quantiles") else model


def _check_model(model: Any) -> list[tuple[int, int]]:
    levels = getattr(model, "quantiles", None)
    if not levels:
        kind = "Gaussian" if getattr(model, "gaussian", False) else "point"
        raise ValueError(f"calibrate_intervals needs a quantile forecaster (Forecaster(quantiles=[0.1, 0.5, 0.9], "
                         f"calibrated=True)); this is a {kind} forecaster, it has no quantile levels to widen")
    if not getattr(model, "calibrated", False):
        raise ValueError(
            "this forecaster was built without calibrated=True, so it has no interval_offsets buffer to hold the "
            "calibration. Rebuild it with the flag and copy the weights: calibrated = Forecaster(**{**model.config, "
            "'calibrated': True}); calibrated.load_state_dict(model.state_dict(), strict=False) (or train with "
            "model_overrides={'calibrated': True})")
    pairs = symmetric_pairs(list(levels))
    if not pairs:
        raise ValueError(f"quantiles={list(levels)} has no symmetric pair (tau, 1 - tau) with tau < 0.5, so no "
                         f"central interval to calibrate; train with e.g. quantiles=[0.1, 0.5, 0.9]")
    return pairs


@torch.no_grad()
def _raw_quantiles(model: Any, loader: Any) -> tuple[Tensor, Tensor]:
    """The uncalibrated quantiles (N, H, F, Q) and targets (N, H, F) of every window of ``loader``, in the
    model's scaled units. The caller zeroes the offsets first, so these are the network's own quantiles."""
    from rnnzoo.tasks.forecaster.objective import _run

    device = next(model.parameters()).device
    outputs, targets = [], []
    for batch in loader:
        batch = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        outputs.append(_run(model, batch).float().cpu())
        targets.append(batch["target"].float().cpu())
    if not outputs:
        raise ValueError("the calibration split yielded no batches; check the DataModule's validation split")
    return torch.cat(outputs), torch.cat(targets)


def calibrate_intervals(model: Any, datamodule: Any, split: str = "val") -> dict[str, Any]:
    """Calibrate a quantile forecaster's central intervals on the validation windows (CQR) and store the offsets
    in its ``interval_offsets`` buffer, in place; its forecasts, test metrics and saved files then use them.

    For each symmetric pair of levels ``(tau, 1 - tau)`` (tau < 0.5; 0.5 and unpaired levels are left alone),
    each horizon step and each target, the offset is the ``ceil((n + 1)(1 - alpha)) / n`` empirical quantile of
    the scores ``max(q_tau - y, y - q_{1-tau})`` over the n validation windows (``alpha = 2 tau``), in the
    model's scaled units; the lower level moves down and the upper up by it (negative: the interval narrows).
    The scores come from the network's own quantiles: a model calibrated before is recalibrated from scratch.

    Args:
        model: a ``Forecaster(quantiles=[...], calibrated=True)`` (or the TrainingModule holding one).
        datamodule: a forecasting DataModule (:class:`~rnnzoo.data.TimeSeriesDataModule`); its validation
            dataloader gives the windows (set up here if it is not yet).
        split: ``"val"``, the only split calibration may use: the test split must stay unseen to measure the
            calibrated intervals, and the training windows' residuals are too small (the network fitted them).

    Returns:
        ``{"split", "n_windows", "levels", "pairs": [{"levels": [tau, 1 - tau], "nominal", "rank",
        "coverage_before", "coverage_after", "offset_mean", "offset_min", "offset_max"}]}``: coverages on the
        calibration windows (all steps and targets pooled) with the raw and the calibrated interval.

    Raises:
        ValueError: no quantile head, no symmetric pair, a model built without ``calibrated=True``, another split,
            or fewer validation windows than a pair's level needs (``n >= 1 / alpha - 1``).
    """
    if split not in ("val", "validation"):
        raise ValueError(f"split={split!r}: calibrate on the validation split ('val'). The test split must stay "
                         f"unseen to measure the calibrated intervals, and training windows were fitted by the "
                         f"network (their errors are too small)")
    model = _task_model(model)
    pairs = _check_model(model)
    if hasattr(datamodule, "datasets") and not datamodule.datasets:
        datamodule.setup("fit")
    levels = list(model.quantiles)
    offsets = model.interval_offsets
    previous, training = offsets.detach().clone(), model.training
    model.eval()
    try:
        offsets.zero_()  # score the network's own quantiles, not an earlier calibration's
        raw, target = _raw_quantiles(model, datamodule.val_dataloader())
    except BaseException:
        offsets.copy_(previous)
        raise
    finally:
        model.train(training)
    n = raw.shape[0]
    for lo, hi in pairs:
        alpha = 2 * levels[lo]
        if n < min_windows(alpha):
            offsets.copy_(previous)
            raise ValueError(
                f"the validation split has {n} windows; calibrating the {levels[lo]:g}/{levels[hi]:g} interval "
                f"({1 - alpha:.0%} nominal) needs at least {min_windows(alpha)} (n >= 1/alpha - 1 with alpha = "
                f"{alpha:g}), else the conformal quantile is infinite. Use a longer validation split (the "
                f"DataModule's proportions), a smaller stride, or drop that level")
    new = torch.zeros_like(raw[0])  # (H, F, Q)
    summary = []
    for lo, hi in pairs:
        alpha = 2 * levels[lo]
        q = conformal_offset(conformity_scores(raw[..., lo], raw[..., hi], target), alpha)  # (H, F)
        new[..., lo], new[..., hi] = -q, q
    calibrated = (raw + new).sort(dim=-1).values  # exactly what forward now returns
    for lo, hi in pairs:
        alpha = 2 * levels[lo]
        before = ((raw[..., lo] <= target) & (target <= raw[..., hi])).float().mean()
        after = ((calibrated[..., lo] <= target) & (target <= calibrated[..., hi])).float().mean()
        q = new[..., hi]
        summary.append({"levels": [levels[lo], levels[hi]], "nominal": 1 - alpha, "rank": conformal_rank(n, alpha),
                        "coverage_before": float(before), "coverage_after": float(after),
                        "offset_mean": float(q.mean()), "offset_min": float(q.min()), "offset_max": float(q.max())})
    offsets.copy_(new.to(device=offsets.device, dtype=offsets.dtype))
    return {"split": "val", "n_windows": n, "levels": levels, "pairs": summary}
