"""Reference forecasts scored on the same test windows as the networks, in the same units and metrics."""

from __future__ import annotations

import torch


def seasonal_naive_scores(datamodule, season: int) -> dict[str, float]:
    """MAE, RMSE and MASE of the seasonal naive forecast ``y[t + h] = y[t + h - m * ceil((h + 1) / m)]`` (the
    last observed value of the same season) over the test split of a set-up
    :class:`~rnnzoo.data.TimeSeriesDataModule`.

    The MASE denominator is the DataModule's (the training range's seasonal naive MAE), so a MASE here is
    directly comparable with the networks' ``test/mase``.
    """
    abs_err = sq_err = scaled = 0.0
    count = 0
    for batch in datamodule.test_dataloader():
        window, target = batch["window"], batch["target"]  # (B, L, F), (B, H, F), scaled
        length, horizon = window.shape[1], target.shape[1]
        if length < season:
            raise ValueError(f"input_length {length} is shorter than the season {season}")
        index = torch.tensor([length - season + (h % season) for h in range(horizon)])
        loc, scale = batch["loc"].unsqueeze(1), batch["scale"].unsqueeze(1)
        pred = window[:, index] * scale + loc
        true = target * scale + loc
        err = (pred - true).abs()
        abs_err += float(err.double().sum())
        sq_err += float((err.double() ** 2).sum())
        scaled += float((err / batch["mase_scale"].unsqueeze(1)).double().sum())
        count += err.numel()
    return {"mae": abs_err / count, "rmse": (sq_err / count) ** 0.5, "mase": scaled / count}
