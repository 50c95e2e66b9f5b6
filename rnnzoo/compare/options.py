"""Every option of a comparison in one object: what ``rnnzoo compare`` parses and :func:`~rnnzoo.compare.compare`
takes (as ``options=`` or as keywords)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

from rnnzoo.compare.errors import CompareOptionError
from rnnzoo.families import CELL_NAMES as CELLS


@dataclasses.dataclass(frozen=True)
class CompareOptions:
    """How a comparison runs; every field has the default ``rnnzoo compare`` uses when the flag is left out.

    Attributes:
        family, task_config, budget: the models (see :func:`rnnzoo.compare.models.resolve_models`); a preset
            supplies them when left out.
        cells, seeds: what to train; ``seeds`` seed model initialisation and dropout (the data split is the
            DataModule's own ``seed``, fixed across runs so every run sees the same split).
        max_epochs, max_time, patience: per-run budget (epochs, seconds) and early stopping on the task's
            validation metric (``TrainingModule.objective.monitor``); None: the preset's (those of
            docs/results.md's runs), else 50 epochs and patience 10. ``patience=0`` turns early stopping off.
        optimizer, lr, weight_decay, gradient_clip_val, model_overrides, lr_scheduler: training set-up (preset
            defaults when None / ``"preset"``; ``lr_scheduler`` as :class:`~rnnzoo.training.TrainingModule` takes it).
        ema: when given, every run keeps an exponential moving average of its weights with this decay per step
            (Lightning's ``EMAWeightAveraging``); validation, early stopping, the best checkpoint, the test and the
            saved models all use the averaged weights. None: the preset's (jsb has one), else off; 0: off.
        weight_noise: when given, each training step runs at the weights plus Gaussian noise of this standard
            deviation (:class:`~rnnzoo.training.weight_noise.WeightNoise`); the update goes to the clean weights.
            None: the preset's (jsb has one), else off; 0: off. A preset's ``dropout`` joins ``model_overrides``
            unless they hold one or ``dropout_range`` searches it.
        lr_search: when > 0, search each cell's learning rate with Optuna (:mod:`rnnzoo.compare.search`): this
            many trials in ``lr_range`` (TPE, log scale, seeded by ``search_seed``, default the first seed), each
            training the cell with the first seed for ``search_epochs`` (default ``max_epochs``) epochs, a median
            rule pruning trials that fall behind after an epoch; the rate of the best *validation* metric trains
            that cell's runs. The test split plays no part in it. Every trial is a child run of the parent run.
        search_size: also search each cell's hidden size, between ``size_range`` factors of its parameter-matched
            size (default 0.5 to 1.0: the budget becomes a ceiling, not an equal size for all cells; a factor
            above 1 lets a cell exceed the budget). Off by default: the comparison is then at equal budgets.
        dropout_range: also search each cell's ``dropout`` (the model's init argument), uniformly in
            ``[low, high]``, ``0 <= low <= high < 1``; the best trial's rate (by validation, like the learning
            rate) trains that cell's runs. None: the models' own dropout (the presets': 0), unsearched. What a rate
            drops is the task model's (see :class:`~rnnzoo.compare.search.SearchSpace`).
        study_storage, study_name: the Optuna database (default ``sqlite:///<out_dir>/optuna.db``; a shared
            database URL lets several machines add trials to the same studies) and the studies' name prefix
            (default ``<experiment_name>-<data>-<budget>``; one study per cell, ``<prefix>-<cell>``). A study
            that exists is continued: ``lr_search`` more trials, the best of all its trials chosen.
        datamodule_options: keyword arguments of a preset's DataModule (``batch_size``, ``limit``), or of the
            factory when ``data`` is one.
        out_dir: where results.md, curves.png, results.json, runs/ (checkpoints) and models/ go; None: a new
            folder ``runs/compare/<data>-<date>-<time>`` (:func:`~rnnzoo.compare.comparison.default_out_dir`).
        overwrite: replace a comparison ``out_dir`` already holds; without it such a folder is refused, so a
            second comparison never deletes or mixes with the first's checkpoints and models.
        resume: continue the interrupted comparison in ``out_dir`` (:mod:`rnnzoo.compare.resume`): runs that
            finished are kept (their results and best checkpoints), the others trained; refused unless the
            folder's comparison was started with the same data, models and settings.
        tracking_uri, experiment_name: MLflow store (see :mod:`rnnzoo.tracking`) and experiment; one parent run,
            a child run per trained run.
        threads: ``torch.set_num_threads`` during the comparison (tiny RNNs often run faster on one thread).
        jobs: train the cell x seed runs in this many worker processes (:mod:`rnnzoo.compare.parallel_runs`),
            the threads divided among them; results equal the sequential ones for the same seeds, within float
            noise. A run that fails in a worker is reported and left out; the others finish.
        ray: train the cell x seed runs as Ray tasks on the Ray cluster at this address (``"auto"``: the one
            ``RAY_ADDRESS`` names, else the one ``ray start`` started here; or ``HOST:PORT``), ``threads`` CPUs
            each (default 1), with the same results; the ``ray`` extra (:mod:`rnnzoo.compare.ray_runs`, which
            says what the nodes must share). Not with ``jobs`` > 1.
        progress_bar, deterministic: Lightning's per-run progress bars; ``Trainer(deterministic=True)``.
        save_models: save each cell's best run (by validation) with ``rnnzoo.save_pretrained`` in models/, and
            the baselines in baselines/.
        classical_baselines: time-series data also score AutoETS, AutoARIMA, AutoTheta and their median, each
            refitted with model selection at every forecast origin (see
            :mod:`rnnzoo.compare.statistical_baselines`); the naive and drift forecasts (and the seasonal naive one
            where a season is found) always.
        reselect_every: the automatic models search their form at every this many consecutive origins and only
            re-estimate its parameters at the origins between (1: a full search at every origin).
        series_options, text_level: for a user path, the time-series options
            (:class:`~rnnzoo.compare.user_data.SeriesOptions`) and the text level (``"char"`` or ``"word"``).
        quantiles: forecasting only: train every cell's forecaster with these quantile levels (pinball loss)
            instead of a point forecast, parameter-matched again at the budget (the head grows); the automatic
            statistical baselines then give the same levels (their normal forecast distributions), and a second
            verdict ranks by the pinball loss. The point metrics score the networks' medians.
        normalization: forecasting only: the forecasters' ``normalization`` instead of the preset's or the rule's
            (``"last_value"``, ``"es"``, ``"seasonal_difference"``, see
            :class:`~rnnzoo.tasks.forecaster.Forecaster`); the season is the data's, ``"seasonal_difference"``
            gets ``drift=True`` when the training range drifts (:mod:`rnnzoo.compare.trend`), ``"es"`` one
            smoothing per series. The models are then named ``sdiff-...`` / ``esrnn-...``.
        calibrate: quantile forecasters only (else ignored): build them with ``calibrated=True`` and calibrate
            each run's best checkpoint on the validation split (conformalized quantile regression,
            :func:`rnnzoo.tasks.forecaster.calibration.calibrate_intervals`) before it is tested and saved, so
            the test coverage, pinball loss and CRPS are those of the calibrated intervals; ``coverage_raw`` and
            ``pinball_raw`` keep the network's own. False (``--no-calibration``): the raw intervals only.
        ensemble: forecasting only: also rank the median of the cells' forecasts (per seed, each run's best
            checkpoint; :mod:`rnnzoo.compare.ensemble`) in the verdict, like one more cell whose cost is the sum
            of its members'; it can then be the recommendation (``ForecastEnsemble`` of the saved models).
        log: where the one-line progress messages go (default: printed, above a progress bar over the whole
            comparison when stderr is a terminal).
    """

    family: str | None = None
    task_config: dict[str, Any] | None = None
    budget: int | str | None = None
    cells: tuple[str, ...] = tuple(CELLS)
    seeds: tuple[int, ...] = (0, 1, 2)
    max_epochs: int | None = None
    max_time: float | None = None
    patience: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    weight_decay: float = 0.0
    ema: float | None = None
    weight_noise: float | None = None
    gradient_clip_val: float | None | str = "preset"
    model_overrides: dict[str, Any] | None = None
    lr_scheduler: dict[str, Any] | None | str = "preset"
    lr_search: int = 0
    lr_range: tuple[float, float] = (1e-4, 3e-2)
    search_epochs: int | None = None
    search_size: bool = False
    size_range: tuple[float, float] = (0.5, 1.0)
    dropout_range: tuple[float, float] | None = None
    study_storage: str | None = None
    study_name: str | None = None
    search_seed: int | None = None
    datamodule_options: dict[str, Any] | None = None
    out_dir: str | Path | None = None
    overwrite: bool = False
    resume: bool = False
    tracking_uri: str | None = None
    experiment_name: str = "rnnzoo-compare"
    threads: int | None = None
    jobs: int = 1
    ray: str | None = None
    progress_bar: bool = False
    deterministic: bool = False
    save_models: bool = True
    classical_baselines: bool = True
    reselect_every: int = 1
    series_options: Any = None
    text_level: str = "char"
    quantiles: Sequence[float] | None = None
    normalization: str | None = None
    calibrate: bool = True
    ensemble: bool = False
    log: Callable[[str], None] | None = None

    @classmethod
    def merged(cls, options: CompareOptions | None, overrides: dict[str, Any]) -> CompareOptions:
        """``options`` (default: all defaults) with the keyword ``overrides`` applied; an unknown keyword is
        refused with the names that exist (a mistyped option never passes silently)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            import difflib

            close = [m for name in unknown for m in difflib.get_close_matches(name, names, n=1)]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise CompareOptionError(f"compare() got unknown option(s) {unknown}{hint}; the options are the fields "
                                     f"of CompareOptions: {', '.join(sorted(names))}")
        if options is not None and not isinstance(options, cls):
            raise CompareOptionError(f"options must be a CompareOptions, got {type(options).__name__}; pass the "
                                     f"options as keywords or build CompareOptions(...)")
        return dataclasses.replace(options or cls(), **overrides)

    def check(self) -> None:
        """Refuse combinations that cannot run, before any data is read."""
        if not isinstance(self.reselect_every, int) or self.reselect_every < 1:
            raise CompareOptionError(f"reselect_every={self.reselect_every!r}: give a whole number of origins, 1 or "
                                     f"more (1: the baselines search their form at every origin)")
        if not isinstance(self.jobs, int) or self.jobs < 1:
            raise CompareOptionError(f"jobs={self.jobs!r}: give a whole number of worker processes, 1 or more")
        if self.ray is not None:
            if not isinstance(self.ray, str) or not self.ray.strip():
                raise CompareOptionError(f"ray={self.ray!r}: give the Ray cluster's address, \"auto\" or HOST:PORT")
            if self.jobs > 1:
                raise CompareOptionError(f"ray={self.ray!r} and jobs={self.jobs}: give one of them; the Ray "
                                         f"cluster decides how many runs train at once (--threads CPUs each)")
            from rnnzoo.compare.ray_runs import check_installed

            check_installed(self.ray)  # before any data is read
        if self.resume and (self.overwrite or self.lr_search or self.out_dir is None):
            raise CompareOptionError("--resume continues the comparison in the --out folder it names, as it was "
                                     "started: give --out, and neither --overwrite (which starts over) nor "
                                     "--lr-search (its studies would add trials)")
        if self.search_size and not self.lr_search:
            raise ValueError("search_size needs a search: give lr_search=N (--lr-search N) trials")
        if self.dropout_range is not None:
            from rnnzoo.compare.search import check_dropout_range

            try:
                check_dropout_range(self.dropout_range)
            except ValueError as err:
                raise CompareOptionError(str(err)) from None
            if not self.lr_search:
                raise CompareOptionError("dropout_range (--dropout-range) is searched with the learning rate: give "
                                         "lr_search=N (--lr-search N) trials as well")
            if "dropout" in (self.model_overrides or {}):
                raise CompareOptionError("dropout_range (--dropout-range) searches the dropout that "
                                         "model_overrides also sets; give one of them")
