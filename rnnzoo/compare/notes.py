"""The notes under a comparison's table in results.md: how it was trained, what to watch (runs still improving,
columns or files not read), and what was chosen for the user (schedules, overrides, searches, calibration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable


def results_notes(*, settings: Any, runs: list[Any], user_data: dict[str, Any] | None, data_name: str,
                  verdict: dict[str, Any], forecasting_baselines: bool, normalization: str | None, ensemble: bool,
                  median_runs: list[dict[str, Any]], ensemble_path: Path | None, searched: dict[str, Any],
                  monitor: str | None, space: Any, lr_range: tuple[float, float], seed: int, storage: str | None,
                  label: str, log: Callable[[str], None]) -> list[str]:
    """The notes, one sentence or paragraph each; a run still improving when stopped is also logged as a
    warning."""
    from rnnzoo.compare.ensemble import ENSEMBLE

    notes = [f"Training: {settings.optimizer}, gradient clip {settings.gradient_clip_val}, at most "
             f"{settings.max_epochs} epochs" + (f", early stopping patience {settings.patience}"
                                                if settings.patience else "") + "."]
    unfinished = [r for r in runs if r.best_epoch == r.epochs]
    if unfinished:  # their best epoch was their last: still improving when the epoch budget ended
        listing = ", ".join(f"{r.cell} seed {r.seed} ({r.best_epoch}/{r.epochs})" for r in unfinished)
        line = (f"Still improving when stopped (best epoch = last epoch): {listing}. Their scores may be short "
                f"of what the cell reaches; rerun with a larger --max-epochs (or --max-time).")
        log(f"warning: {line}")
        notes.append(line)
    if user_data and user_data.get("targets"):  # say which column was forecast and which were not read
        notes.append(columns_note(user_data, data_name))
    if user_data and user_data.get("files_left_out"):  # one of them may be a recording the user meant to use
        left = user_data["files_left_out"]
        notes.append(f"Files of {data_name} not read (only .wav files in label folders are): "
                     f"{', '.join(left[:10])}" + (f" and {len(left) - 10} more" if len(left) > 10 else "") + ".")
    if settings.lr_scheduler:
        notes.append(f"Learning-rate schedule: `{json.dumps(settings.lr_scheduler)}`.")
    if settings.ema:
        notes.append(f"Weights: exponential moving average with decay {settings.ema:g} per step (Lightning's "
                     f"EMAWeightAveraging); every validation, test and saved model uses the averaged weights.")
    if settings.weight_noise:
        notes.append(f"Weight noise in training: each step at the weights plus N(0, {settings.weight_noise:g}²), "
                     f"the update applied to the clean weights.")
    if settings.cell_settings:
        from rnnzoo.compare.plan import describe_cell_settings

        notes.append(f"Per cell, where the dataset's settings differ from the above (each chosen on validation): "
                     f"{describe_cell_settings(settings.cell_settings)}.")
    if settings.model_overrides:
        notes.append(f"Model overrides for every cell: `{json.dumps(settings.model_overrides)}`.")
    calibrated = [r.calibration for r in runs if r.calibration]
    if calibrated:
        pairs = ", ".join(f"{p['levels'][0]:g}/{p['levels'][1]:g}" for p in calibrated[0]["pairs"])
        notes.append(f"Intervals ({pairs}) calibrated on the {calibrated[0]['n_windows']} validation windows by "
                     f"conformalized quantile regression (Romano et al. 2019): test coverage, pinball and CRPS "
                     f"are of the calibrated intervals; coverage_raw and pinball_raw of the networks' own "
                     f"quantiles (`--no-calibration` turns it off).")
    tried = normalization or "last_value"
    suggestions = ([] if tried == "seasonal_difference" else ["`--normalization seasonal_difference`"]) + \
        ([] if ensemble else ["`--ensemble` (the median of the cells)"])
    if verdict["recommended"]["kind"] == "baseline" and forecasting_baselines and suggestions:
        notes.append(f"No network beat the statistical baseline here (normalization={tried!r}). Worth a try on "
                     f"your series: {' and '.join(suggestions)}; across 13 packaged series the median of 12 "
                     f"networks ties AutoARIMA refitted at every origin (mean MASE 1.220 against 1.225), and "
                     f"beats the baseline chosen on validation on CO2 and yearly sunspots (docs/results.md).")
    if median_runs:
        notes.append(f"{ENSEMBLE.capitalize()}: for each seed, the median of the {len(median_runs[0]['members'])} "
                     f"cells' test forecasts (each run's best checkpoint), ranked like a cell; its cost is the "
                     f"sum of its members'." + (f" Saved as the median of each cell's best seed by validation: "
                                                f"`ForecastEnsemble.from_pretrained(\"{ensemble_path}\")` "
                                                f"(rnnzoo.tasks.forecaster)." if ensemble_path else ""))
    if searched:
        trials = {cell: len(s["trials"]) for cell, s in searched.items()}
        notes.append(f"Learning rate per cell: best validation `{monitor}` of an Optuna study per cell (TPE, "
                     f"median pruning) with {', '.join(f'{c} {n}' for c, n in trials.items())} trials in "
                     f"[{lr_range[0]:g}, {lr_range[1]:g}] (log scale), {space.epochs or settings.max_epochs} "
                     f"epochs each, seed {seed}; studies `{space.study_name}-<cell>` in "
                     f"`{storage}`.")
        if space.size_range:
            notes.append(f"Hidden size searched too, between {space.size_range[0]:g} and "
                         f"{space.size_range[1]:g} times each cell's size matched at {label}: the cells "
                         + ("may differ in size (the budget is a ceiling, not an equal size); see the params "
                            "column." if space.size_range[1] <= 1 else
                            "may differ in size and exceed the budget: this is not a parameter-matched "
                            "comparison; see the params column."))
        if getattr(space, "dropout_range", None):
            chosen = ", ".join(f"{c} {s['dropout']:.3g}" for c, s in searched.items() if s.get("dropout") is not None)
            notes.append(f"Dropout searched too, uniformly in [{space.dropout_range[0]:g}, "
                         f"{space.dropout_range[1]:g}], with the learning rate; chosen: {chosen}.")
    return notes


def columns_note(user_data: dict[str, Any], data_name: str) -> str:
    """results.md's sentence on the columns of a user's table: what was forecast, read, and left out (and why)."""
    read = [f"covariates {user_data['covariates']}"] if user_data.get("covariates") else []
    read += [f"future covariates {user_data['future_covariates']}"] if user_data.get("future_covariates") else []
    left = user_data.get("columns_left_out") or []
    return (f"Columns of {data_name}: forecast {user_data['targets']}" + "".join(f"; read {r}" for r in read)
            + (f"; {'; '.join(left)}" if left else "; no other column") + ".")


def season_note(dm: Any) -> str:
    """results.md's sentence on whether the seasonal naive forecast is a baseline here, and how that was found."""
    import numpy as np

    from rnnzoo.compare.statistical_baselines import SEASON_THRESHOLD, seasonal_strength
    from rnnzoo.data.splits import chronological_split

    season = int(getattr(dm, "season", 1) or 1)
    if season < 2:
        return f"Seasonal naive forecast: not a baseline (season {season})."
    strengths = []
    for values in dm.series_values:
        train = chronological_split(len(values), dm.proportions)[0]
        first_column = np.asarray(values, dtype=np.float64).reshape(len(values), -1)[train, 0]
        strengths.append(seasonal_strength(first_column, season))
    found = max(strengths) > SEASON_THRESHOLD
    return (f"Seasonal naive forecast (m={season}): {'a baseline' if found else 'left out'}: the STL seasonal "
            f"strength of the training range is {max(strengths):.2f} " + ("(the largest over the series) "
                                                                           if len(strengths) > 1 else "")
            + f"{'above' if found else 'not above'} {SEASON_THRESHOLD} (Hyndman's rule).")
