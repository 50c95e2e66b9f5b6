"""``rnnzoo compare``: the command line over :func:`rnnzoo.compare.compare`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from rnnzoo.compare.presets import PRESETS
from rnnzoo.options import AT_LEAST_0, AT_LEAST_1, non_negative_number, positive_number, unit_interval


def build_parser() -> argparse.ArgumentParser:
    """The ``rnnzoo compare`` argument parser."""
    p = argparse.ArgumentParser(
        prog="rnnzoo compare",
        description="Train the four cells at one parameter budget on one dataset, several seeds each, and answer "
                    "which to use: a verdict (ranking, differences with 95%% intervals, cost, and for forecasts the "
                    "statistical baselines on the same windows) on top of results.md, curves.png and results.json; "
                    "logs to MLflow (one parent run, a child run per cell and seed).",
        epilog="your own data: rnnzoo compare --data sales.csv --target y --horizon 12 | "
               "rnnzoo compare --data recordings/ (one subfolder of .wav per label) | "
               "rnnzoo compare --data book.txt --level word")
    _data_arguments(p)
    _series_arguments(p)
    _training_arguments(p)
    _search_arguments(p)
    _output_arguments(p)
    return p


def _data_arguments(p: argparse.ArgumentParser) -> None:
    """Options: the data, the cells and seeds, the per-run budget."""
    p.add_argument("--data", required=True, metavar="NAME_OR_PATH",
                   help=f"a built-in dataset ({', '.join(sorted(PRESETS))}) or your own: a .csv/.parquet table "
                        f"(forecasting), a folder of label/*.wav (classification), a .txt file or folder (text)")
    p.add_argument("--budget", default=None, help="parameter budget, e.g. 20k (default: the dataset's)")
    p.add_argument("--cells", nargs="+", default=["rnn", "lstm", "peephole_lstm", "gru"],
                   help="cells to compare (rnn lstm peephole_lstm gru; peephole-lstm also works)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-epochs", type=AT_LEAST_1, default=None,
                   help="at most this many epochs per run (default: the dataset's; 100 for your own series)")
    p.add_argument("--max-time", type=positive_number, default=None, help="seconds of fitting per run")
    p.add_argument("--patience", type=AT_LEAST_0, default=None,
                   help="early stopping on validation after this many epochs without improvement (default: the "
                        "dataset's, 10 for your own series; 0: off)")


def _series_arguments(p: argparse.ArgumentParser) -> None:
    """Options: a user's series and forecasting options."""
    series = p.add_argument_group("your own series (--data FILE.csv or .parquet)")
    series.add_argument("--target", nargs="+", help="column(s) to forecast (default: every numeric column)")
    series.add_argument("--covariates", nargs="+", help="past covariate columns (read, not forecast)")
    series.add_argument("--future-covariates", nargs="+", metavar="COLUMN",
                        help="columns known ahead (read in the window and given for the horizon; test windows take "
                             "them from the table: rolling-origin evaluation)")
    series.add_argument("--calendar", action="store_true", default=None,
                        help="add sin/cos calendar features of --time-column (month for monthly data, weekday and "
                             "day of year for daily, hour and weekday for hourly), known ahead")
    series.add_argument("--no-classical-baselines", dest="classical_baselines", action="store_false",
                        help="score only the naive, drift and (where a season is found) seasonal naive forecasts, "
                             "not ETS and the ARIMAs (re-filtered at every validation and test origin: minutes on "
                             "long series)")
    series.add_argument("--reselect-every", type=AT_LEAST_1, default=1, metavar="K",
                        help="AutoETS, AutoARIMA and AutoTheta search their form at every K-th origin and only "
                             "re-estimate its parameters at the origins between (default 1: a full search at every "
                             "origin; 12 on CO2: 3.5x less time, see docs/performance.md)")
    series.add_argument("--series-id", help="long format: the column that tells the series apart")
    series.add_argument("--time-column", help="parsed as dates; its frequency gives the default season (default: "
                                              "the table's one column of dates, found)")
    series.add_argument("--no-time-column", action="store_true",
                        help="do not look for a date column: the rows are evenly spaced steps")
    series.add_argument("--horizon", type=AT_LEAST_1, help="steps to forecast (default: one season, else 1)")
    series.add_argument("--input-length", type=AT_LEAST_1, help="window length (default: max(2 season, 2 horizon, 8))")
    series.add_argument("--season", type=AT_LEAST_1, help="seasonal period (default: from --time-column, else 1)")
    p.add_argument("--quantiles", nargs="+", type=float, metavar="LEVEL",
                        help="forecast these quantile levels in (0, 1) (pinball loss), e.g. 0.1 0.5 0.9: adds the "
                             "pinball loss, CRPS and interval coverage, and a probabilistic verdict against ETS/ARIMA")
    p.add_argument("--normalization", choices=["last_value", "es", "seasonal_difference"], default=None,
                   help="forecasting: how the forecasters read the window (default: last_value): es, the ES-RNN-style "
                        "hybrid (positive series); seasonal_difference, seasonal differences added to the seasonal "
                        "naive forecast (with drift when the training range trends)")
    p.add_argument("--no-calibration", dest="calibrate", action="store_false",
                   help="with --quantiles: keep the networks' own intervals; by default each run's intervals are "
                        "calibrated on the validation split (conformalized quantile regression) before testing")
    p.add_argument("--ensemble", action="store_true",
                   help="forecasting: also rank the median of the cells' forecasts (per seed) in the verdict; "
                        "it costs the sum of its members")
    p.add_argument("--level", choices=["char", "word"], default="char", help="your own text: tokens")


def _training_arguments(p: argparse.ArgumentParser) -> None:
    """Options: the optimiser and the models' overrides."""
    p.add_argument("--optimizer", default=None, choices=["adam", "adamw", "rmsprop", "sgd"])
    p.add_argument("--lr", type=positive_number, default=None)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--clip", type=positive_number, default=None, help="gradient-norm clipping (default: the dataset's)")
    p.add_argument("--lr-scheduler", type=json.loads, default=argparse.SUPPRESS, metavar="JSON",
                   help='a torch.optim.lr_scheduler class and arguments, e.g. \'{"class_path": "MultiStepLR", '
                        '"init_args": {"milestones": [4, 5], "gamma": 0.5}}\' (default: the dataset\'s; null: none)')
    p.add_argument("--dropout", type=unit_interval, default=None, metavar="P",
                   help="dropout of every cell's model, in [0, 1) (default: the dataset's, else the models' own, "
                        "0; --dropout-range searches it instead)")
    p.add_argument("--ema", type=unit_interval, default=None, metavar="DECAY",
                   help="keep an exponential moving average of each run's weights (Lightning's EMAWeightAveraging, "
                        "e.g. 0.995) and validate, test and save the averaged weights (default: the dataset's, else "
                        "off; 0: off)")
    p.add_argument("--weight-noise", type=non_negative_number, default=None, metavar="SIGMA",
                   help="train each step at the weights plus Gaussian noise of this standard deviation, the update "
                        "applied to the clean weights (Graves 2011; Chung et al. 2014 used 0.075; default: the "
                        "dataset's, else off; 0: off)")
    p.add_argument("--forget-bias", type=float, default=None,
                   help="LSTM forget-gate bias at initialisation (LSTM cells only; default 1)")
    p.add_argument("--init-range", type=positive_number, default=None, metavar="R",
                   help="ptb only: every weight uniform in [-R, R] (Zaremba et al. 2014 used 0.1)")


def _search_arguments(p: argparse.ArgumentParser) -> None:
    """Options: the learning-rate and size search."""
    search = p.add_argument_group(
        "learning-rate search (Optuna: TPE, median pruning; one study per cell, validation only)")
    search.add_argument("--lr-search", type=AT_LEAST_0, default=0, metavar="N",
                        help="search each cell's learning rate with N trials (added to the cell's study, which a "
                             "rerun or another machine continues) and train its runs at the best")
    search.add_argument("--lr-range", type=float, nargs=2, default=[1e-4, 3e-2], metavar=("LOW", "HIGH"),
                        help="learning rates searched, on a log scale (default 1e-4 3e-2)")
    search.add_argument("--dropout-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="also search each cell's dropout, uniformly in [LOW, HIGH] within [0, 1) (default: "
                             "not searched, the models' own); e.g. 0.0 0.5")
    search.add_argument("--search-epochs", type=AT_LEAST_1, default=None,
                        help="epochs per trial (default: --max-epochs)")
    search.add_argument("--search-size", action="store_true",
                        help="also search each cell's hidden size within --size-range of its parameter-matched "
                             "size: the cells then differ in size (see the params column)")
    search.add_argument("--size-range", type=float, nargs=2, default=[0.5, 1.0], metavar=("LOW", "HIGH"),
                        help="hidden-size factors of the matched size (default 0.5 1.0: the budget is a ceiling; "
                             "above 1 a cell may exceed the budget)")
    search.add_argument("--study-storage", default=None, metavar="URL",
                        help="Optuna database (default: sqlite:///OUT/optuna.db); a shared database URL, e.g. "
                             "postgresql://host/db, lets several machines add trials to the same studies")
    search.add_argument("--study-name", default=None, metavar="PREFIX",
                        help="studies' name prefix, one study per cell: PREFIX-CELL (default: "
                             "EXPERIMENT-DATA-BUDGET)")
    search.add_argument("--search-seed", type=int, default=None,
                        help="TPE sampler seed (default: the first of --seeds); give each machine sharing a "
                             "study its own")


def _output_arguments(p: argparse.ArgumentParser) -> None:
    """Options: the data loader, the output folder, tracking and threads."""
    p.add_argument("--batch-size", type=AT_LEAST_1, default=None)
    p.add_argument("--limit", type=AT_LEAST_1, default=None, help="jsb only: parse only the first N chorales (quick runs)")
    p.add_argument("--out", default=None, help="output folder (default: a new runs/compare/<data>-<date>-<time>); "
                                                 "one that holds a comparison is refused unless --overwrite")
    p.add_argument("--overwrite", action="store_true", help="replace the comparison --out already holds")
    p.add_argument("--jobs", type=AT_LEAST_1, default=1, metavar="N",
                   help="train the cell x seed runs in N worker processes, the threads divided among them "
                        "(default 1: one after another)")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="train the cell x seed runs as Ray tasks on the Ray cluster at ADDRESS: auto (the one "
                        "RAY_ADDRESS names, else the one `ray start` started here) or HOST:PORT; --threads CPUs "
                        "each; needs pip install 'rnnzoo[ray]'. Other machines need a shared --out and an MLflow "
                        "tracking server (docs/training.md)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted comparison in --out: finished runs are kept, a run cut off "
                        "mid-fit continues from its last checkpoint, the rest are trained (same options as it was "
                        "started with)")
    p.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or "
                                                        "sqlite:///mlflow.db)")
    p.add_argument("--experiment", default="rnnzoo-compare")
    p.add_argument("--threads", type=AT_LEAST_0, default=1, help="torch intra-op threads (0: leave as is)")
    p.add_argument("--progress", dest="progress", action="store_true", default=None, help="Lightning progress bars")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--no-save-models", dest="save_models", action="store_false")


def compare_main(argv: list[str] | None = None) -> int:
    """Run ``rnnzoo compare`` with ``argv`` (default: ``sys.argv[1:]``); prints the table and the file paths."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from rnnzoo.compare.models import parse_budget

    if args.budget is not None:
        try:
            parse_budget(args.budget)
        except ValueError as err:
            build_parser().error(f"--budget: {err}")
    from rnnzoo.compare.comparison import compare  # after parsing: --help needs no Lightning
    from rnnzoo.errors import RnnzooError

    # Each run's own progress line says what happened; Lightning's per-Trainer notices (devices, tips, restored
    # checkpoints) would repeat for every one of the runs.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    dm_options = {}
    if args.batch_size:
        dm_options["batch_size"] = args.batch_size
    if args.limit:
        if args.data != "jsb":
            build_parser().error("--limit applies to --data jsb only")
        dm_options["limit"] = args.limit
    overrides = None
    if args.forget_bias is not None:
        if any(c.replace("-", "_") not in ("lstm", "peephole_lstm") for c in args.cells):
            build_parser().error("--forget-bias needs LSTM cells only (--cells lstm peephole_lstm)")
        overrides = {"cell_options": {"forget_bias": args.forget_bias}}
    if args.dropout is not None:
        if args.dropout_range is not None:
            build_parser().error("--dropout and --dropout-range: give one (a fixed rate, or a searched one)")
        overrides = {**(overrides or {}), "dropout": args.dropout}
    if args.init_range is not None:
        if args.data != "ptb":
            build_parser().error("--init-range applies to --data ptb only (the language models)")
        overrides = {**(overrides or {}), "init_range": args.init_range}
    from rnnzoo.compare.user_data import SeriesOptions

    series_options = SeriesOptions(args.target, args.covariates, args.series_id, args.time_column, args.horizon,
                                   args.input_length, args.season, args.future_covariates, args.calendar,
                                   args.no_time_column)
    if args.quantiles is not None:
        from rnnzoo.tasks.forecaster.model import check_levels

        try:
            check_levels(args.quantiles, "--quantiles")
        except ValueError as err:
            build_parser().error(str(err))
    if args.data in PRESETS and any(v not in (None, False) for v in vars(series_options).values()):
        build_parser().error(f"--target, --horizon and the other series options are for your own files; "
                             f"{args.data!r} is a built-in dataset with its own settings")
    if args.search_size and not args.lr_search:
        build_parser().error("--search-size needs --lr-search N (the number of trials)")
    if args.lr_search < 0:
        build_parser().error(f"--lr-search {args.lr_search}: the number of trials must be >= 0")
    try:
        results = _run(compare, args, series_options, dm_options, overrides)
    except RnnzooError as err:  # bad data or options, a study or its storage, an unusable tracking store
        build_parser().exit(2, f"rnnzoo compare: error: {err}\n")
    except ImportError as err:  # the search without Optuna installed: say how to install it
        if "optuna" not in str(err).lower():
            raise
        build_parser().exit(2, f"rnnzoo compare: error: {err}\n")
    print()
    print(open(results["files"]["results_md"]).read())
    for key, path in results["files"].items():
        print(f"{key}: {path}")
    print(f"MLflow: parent run {results['meta']['parent_run_id']} in {results['meta']['tracking_uri']}")
    return 0


def _run(compare, args, series_options, dm_options, overrides):
    from rnnzoo.compare.options import CompareOptions

    return compare(args.data, CompareOptions(
        budget=args.budget, cells=tuple(args.cells), seeds=tuple(args.seeds),
        max_epochs=args.max_epochs, max_time=args.max_time, patience=args.patience, optimizer=args.optimizer,
        lr=args.lr, weight_decay=args.weight_decay, ema=args.ema,
        weight_noise=args.weight_noise, lr_scheduler=getattr(args, "lr_scheduler", "preset"),
        gradient_clip_val="preset" if args.clip is None else args.clip, model_overrides=overrides,
        lr_search=args.lr_search, lr_range=tuple(args.lr_range), search_epochs=args.search_epochs,
        dropout_range=tuple(args.dropout_range) if args.dropout_range is not None else None,
        search_size=args.search_size, size_range=tuple(args.size_range), study_storage=args.study_storage,
        study_name=args.study_name, search_seed=args.search_seed,
        datamodule_options=dm_options, out_dir=args.out, overwrite=args.overwrite, resume=args.resume, jobs=args.jobs,
        ray=args.ray,
        tracking_uri=args.tracking_uri,
        experiment_name=args.experiment, threads=args.threads or None,
        progress_bar=bool(args.progress),  # per-run Lightning bars only on request: one bar over the comparison
        save_models=args.save_models, series_options=series_options, text_level=args.level,
        quantiles=args.quantiles, classical_baselines=args.classical_baselines,
        reselect_every=args.reselect_every, normalization=args.normalization,
        calibrate=args.calibrate, ensemble=args.ensemble,
    ))

if __name__ == "__main__":
    sys.exit(compare_main())
