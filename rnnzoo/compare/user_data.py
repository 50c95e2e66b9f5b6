"""``rnnzoo compare --data PATH``: the user's own files -> a DataModule, the task, the models' configuration and a
parameter budget, chosen from the data by stated rules (every one overridable).

What a path is:

* a ``.csv`` / ``.parquet`` table -> forecasting (:mod:`rnnzoo.compare.user_series` reads it);
* a folder with one subfolder of ``.wav`` files per label -> sequence classification through the log-mel front end
  (other files in it, such as a README.txt, are left out and listed in the summary's ``files_left_out``);
* a ``.txt`` file, or a folder of them -> language modelling (``level`` "char" or "word").

Budget rule (parameters per model, so that a small data set does not get a model that only memorises it): the
number of training targets — forecast values (windows x horizon x targets), labelled recordings, or tokens —
picks the budget: forecasting 5k below 20,000 values, 20k below 200,000, else 100k; classification 20k below
2,000 recordings, else 100k; text 20k below 100,000 tokens, 100k below 1M, else 1M. A budget at which the four
cells cannot all be matched within 2% (coarse steps at small sizes, or a vocabulary whose embedding and softmax
alone exceed it) moves up to the next of 5k, 10k, 20k, 50k, 100k, 1M, 5M.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnzoo.compare.presets import DataPreset
from rnnzoo.data.errors import DataError

BUDGETS = ("5k", "10k", "20k", "50k", "100k", "1m", "5m")


@dataclass
class SeriesOptions:
    """The time-series options of ``rnnzoo compare --data FILE`` (None: chosen from the data)."""

    target: list[str] | None = None
    covariates: list[str] | None = None
    series_id: str | None = None
    time_column: str | None = None
    horizon: int | None = None
    input_length: int | None = None
    season: int | None = None
    future_covariates: list[str] | None = None
    calendar: bool | None = None
    no_time_column: bool = False  # --no-time-column: do not look for a date column


def data_kind(path: str | os.PathLike) -> str:
    """``"timeseries"``, ``"speech"`` or ``"text"`` for a user path, or an error saying what is accepted."""
    path = Path(path).expanduser()
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".csv", ".parquet", ".pq"):
            return "timeseries"
        if suffix == ".txt":
            return "text"
        raise DataError(f"{path}: rnnzoo compare reads .csv/.parquet tables (forecasting), .txt files (language "
                        f"modelling) or folders of label/*.wav (classification); got a {suffix or 'suffix-less'} file")
    if path.is_dir():
        from rnnzoo.data.speech.audio_folder import label_folders

        # Label folders of recordings decide it: a README.txt beside them is a stray file, not a corpus to model.
        if label_folders(path):
            return "speech"
        if any(p.suffix.lower() == ".txt" for p in path.iterdir() if p.is_file()):
            return "text"
        return "speech"  # the audio-folder reader says what is missing when it finds no labelled WAVs
    raise DataError(f"{path}: no such file or folder")


PATIENCE_RULE = "a fifth of the epoch budget (early stopping must not cut still-improving runs)"


def patience_for(max_epochs: int) -> int:
    """Early stopping's patience for a user's data: a fifth of the epoch budget. A fixed 10 cut a GRU off at epoch
    17 whose best epoch, trained on, was 93 (issue 25); a run whose best epoch is its last is still flagged."""
    return max(5, max_epochs // 5)


def _budget_by_count(count: int, thresholds: list[tuple[int, str]], last: str) -> str:
    return next((budget for limit, budget in thresholds if count < limit), last)


def fitting_budget(task_config: dict[str, Any], budget: str) -> str:
    """``budget``, or the next of :data:`BUDGETS` up at which all four cells can be matched within 2% (small
    budgets have coarse steps: a 5k LSTM forecaster is 4,876 or 5,162 parameters; a large vocabulary's embedding
    and softmax may alone exceed a budget)."""
    from rnnzoo.compare.models import parse_budget
    from rnnzoo.models import match_hidden_sizes

    for candidate in BUDGETS[BUDGETS.index(budget):]:
        try:
            match_hidden_sizes(task_config, parse_budget(candidate))
            return candidate
        except ValueError:
            continue
    raise DataError(f"no budget up to {BUDGETS[-1]} fits {task_config}; pass --budget")


def _series_plan(path: Path, options: SeriesOptions, loader: dict[str, Any]) -> tuple[DataPreset, dict[str, Any]]:
    from rnnzoo.compare.user_series import default_input_length, describe, read_user_series
    from rnnzoo.data import TimeSeriesDataModule
    from rnnzoo.data.splits import split_counts

    series = read_user_series(path, options.target, options.covariates, options.series_id, options.time_column,
                              options.future_covariates, bool(options.calendar),
                              find_time_column=not options.no_time_column)
    season = options.season or series.season or 1
    horizon = options.horizon or (season if season > 1 else 1)
    proportions = (0.7, 0.15, 0.15)
    shortest = min(len(a) for a in series.arrays)
    train, val, test = split_counts(shortest, proportions)  # the horizon rule below implies non-empty ranges
    if min(val, test) < horizon:
        raise DataError(
            f"{path}: the shortest series has {shortest} steps, so its validation and test ranges (15% each) hold "
            f"{min(val, test)} steps, fewer than the horizon {horizon}. "
            + (f"Use --horizon {min(val, test)} or less, or a longer series" if min(val, test) >= 1
               else "Use a longer series") + f" (at least {int(horizon / 0.15) + 1} steps for horizon {horizon})")
    input_length = options.input_length or default_input_length(train, horizon, season)
    if train < input_length + horizon:
        raise DataError(f"{path}: the shortest series' training range has {train} steps, fewer than "
                        f"input_length {input_length} + horizon {horizon}; use a shorter --input-length or --horizon")
    datamodule = TimeSeriesDataModule(series.arrays, input_length=input_length, horizon=horizon, season=season,
                                      proportions=proportions, num_targets=series.num_targets,
                                      num_future=len(series.future_columns),
                                      future_columns=series.future_columns or None, calendar=series.calendar,
                                      columns=series.window_columns, time_column=series.time_column,
                                      frequency=series.frequency,
                                      **{"batch_size": 32, **loader})
    datamodule.setup("fit")
    windows = datamodule.split_sizes()["train"]
    values = windows * horizon * series.num_targets
    features = series.arrays[0].shape[1]
    task_config = {"task": "forecaster", "input_size": features, "output_size": series.num_targets,
                   "horizon": horizon, "normalization": "last_value"}
    if series.future_columns:  # only when used: the config stays as before without them
        task_config["num_future"] = len(series.future_columns)
    budget = fitting_budget(task_config, _budget_by_count(values, [(20_000, "5k"), (200_000, "20k")], "100k"))
    normalization_rule = ("last_value: the input window is shorter than season + 2, too short to difference by "
                          "the season")
    if input_length >= season + 2:
        # The forecasting suite's best normalization on mean MASE over 13 series and 4 cells (seasonal_difference
        # 1.356, es 1.382, last_value 1.493; docs/results.md), and additive, so any sign of values is fine.
        from rnnzoo.compare.forecaster_config import with_normalization

        task_config, budget = with_normalization(None, task_config, budget, "seasonal_difference", datamodule)
        budget = fitting_budget(task_config, budget)
        normalization_rule = ("the forecasting suite's best on mean MASE: seasonal_difference 1.356, es 1.382, "
                              "last_value 1.493 over 13 series; drift when most training ranges trend")
    preset = DataPreset(path.name, lambda **_: datamodule, None, task_config, budget, lr=1e-3,
                        seasonal_baseline=True, max_epochs=100, patience=patience_for(100))
    info = {**describe(series), "horizon": horizon, "input_length": input_length, "season": season,
            "training_values": values,
            "rules": {"patience": PATIENCE_RULE,
                      "season": "from --season, else the time column's frequency, else 1",
                      "horizon": "from --horizon, else one season (1 without a season)",
                      "input_length": "max(2 season, 2 horizon, 8), at most what leaves 10 training windows",
                      "budget": "5k below 20,000 training target values, 20k below 200,000, else 100k",
                      "normalization": normalization_rule}}
    return preset, info


def _speech_plan(path: Path, loader: dict[str, Any]) -> tuple[DataPreset, dict[str, Any]]:
    from rnnzoo.data import SpeechFeaturesDataModule
    from rnnzoo.data.speech.audio_folder import stray_files

    datamodule = SpeechFeaturesDataModule(path, **{"batch_size": 16, "bucket_by_length": True, **loader})
    datamodule.setup("fit")
    recordings = datamodule.split_sizes()["train"]
    task_config = {"task": "sequence_classifier", "input_size": datamodule.num_features,
                   "num_classes": datamodule.num_classes}
    budget = fitting_budget(task_config, _budget_by_count(recordings, [(2_000, "20k")], "100k"))
    preset = DataPreset(path.name, lambda **_: datamodule, None, task_config, budget, lr=1e-2,
                        max_epochs=60, patience=patience_for(60))
    info = {"classes": datamodule.preprocessing["speech"]["classes"], "split_sizes": datamodule.split_sizes(),
            "files_left_out": stray_files(path),
            "rules": {"patience": PATIENCE_RULE,
                      "budget": "20k below 2,000 training recordings, else 100k"}}
    return preset, info


def _text_plan(path: Path, level: str, loader: dict[str, Any]) -> tuple[DataPreset, dict[str, Any]]:
    from rnnzoo.compare.models import parse_budget
    from rnnzoo.data import TextDataModule

    loader = {"batch_size": 20, **loader}
    datamodule = TextDataModule(path, level=level, bptt=35, max_vocab=10_000, **loader)
    try:
        datamodule.setup("fit")
    except DataError:
        # A small text: fewer parallel rows so that validation and test still hold whole rows.
        datamodule = TextDataModule(path, level=level, bptt=35, max_vocab=10_000, **{**loader, "batch_size": 2})
        datamodule.setup("fit")
    tokens = datamodule.token_counts["train"]
    embedding = 32 if level == "char" else 64

    def config(vocab_size: int) -> dict[str, Any]:
        return {"task": "language_model", "vocab_size": vocab_size, "embedding_dim": embedding}

    wanted = _budget_by_count(tokens, [(100_000, "20k"), (1_000_000, "100k")], "1m")
    # A model with many more parameters than training tokens learns the text by heart: the budget stays at most
    # the first budget at or above the training-token count (and at least 20k, the rule's smallest). Where the
    # vocabulary's embedding and softmax alone do not fit that, the vocabulary is cut (its rarest words become
    # <unk>) until the four cells fit.
    ceiling = next((b for b in BUDGETS if parse_budget(b) >= max(tokens, 20_000)), BUDGETS[-1])
    full_vocab = len(datamodule.vocab)
    budget = fitting_budget(config(full_vocab), wanted)
    while parse_budget(budget) > parse_budget(ceiling) and len(datamodule.vocab) > 50:
        datamodule = TextDataModule(path, level=level, bptt=35, max_vocab=int(len(datamodule.vocab) * 0.7),
                                    **{**loader, "batch_size": datamodule.batch_size})
        datamodule.setup("fit")
        budget = fitting_budget(config(len(datamodule.vocab)), wanted)
    task_config = config(len(datamodule.vocab))
    preset = DataPreset(path.name, lambda **_: datamodule, None, task_config, budget, lr=3e-3,
                        gradient_clip_val=0.25, max_epochs=40, patience=patience_for(40))
    cut = "" if len(datamodule.vocab) == full_vocab else (
        f"; vocabulary cut from {full_vocab:,} to {len(datamodule.vocab):,} (rarer tokens become <unk>) so that the "
        f"cells fit it")
    info = {"level": level, "vocab_size": len(datamodule.vocab), "tokens": datamodule.token_counts,
            "rules": {"patience": PATIENCE_RULE,
                      "budget": f"20k below 100,000 training tokens, 100k below 1M, else 1M; raised to the first "
                                f"budget that fits the embedding and softmax, but never above {ceiling} (the first "
                                f"budget at or above the {tokens:,} training tokens){cut}"}}
    return preset, info


def user_data_preset(path: str | os.PathLike, *, series: SeriesOptions | None = None, level: str = "char",
                     loader: dict[str, Any] | None = None) -> tuple[DataPreset, dict[str, Any]]:
    """A :class:`~rnnzoo.compare.presets.DataPreset` for the user's ``path`` (its DataModule already set up) and
    a summary of what was read and which rule chose each setting."""
    path = Path(path).expanduser()
    kind = data_kind(path)
    loader = dict(loader or {})
    # an option counts as given when it is set: None and False (a flag left off) are its defaults
    given = [k for k, v in vars(series).items() if v is not None and v is not False] if series is not None else []
    if kind != "timeseries" and given:
        raise DataError(f"{path} is {kind} data; the time-series options {given} apply to .csv/.parquet tables only")
    if kind == "timeseries":
        preset, info = _series_plan(path, series or SeriesOptions(), loader)
    elif kind == "speech":
        preset, info = _speech_plan(path, loader)
    else:
        preset, info = _text_plan(path, level, loader)
    return preset, {"kind": kind, "path": str(path), **info}
