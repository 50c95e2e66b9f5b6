"""``rnnzoo predict MODEL INPUT ...``: a zoo model on raw input in the user's units, from the command line.

MODEL is anything :func:`rnnzoo.load` takes (a zoo name, ``hf-hub:org/repo``, ``local-dir:PATH``) or a saved
folder. What INPUT is depends on the model's task, and the task's model class reads it
(:meth:`~rnnzoo.tasks.TaskModel.predict_from_files`): a CSV/Parquet/.npy series for a forecaster, a text file
(or the text itself) for a language model, WAV or .npy files for a sequence classifier, nothing (sampling) or
.npy rolls for a piano-roll model. ``--out FILE`` writes the result instead of printing it.
"""

from __future__ import annotations

import argparse
import sys

from rnnzoo.options import AT_LEAST_1, positive_number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnzoo predict", description="Run a model on raw input in your own units (see each option's task).",
        epilog="examples: rnnzoo predict forecaster-gru-20k.co2 co2.csv --column co2 | "
               "rnnzoo predict wordlm-lstm-4600k.ptb 'the stock market' --max-new-tokens 20 --seed 0 | "
               "rnnzoo predict vowels-gru-20k.japanese-vowels a.npy b.npy | "
               "rnnzoo predict pianoroll-gru-20k.jsb --steps 64 --out sample.mid. "
               "With -c RECIPE in place of MODEL, rnnzoo predict is LightningCLI's predict step over a recipe's "
               "DataModule (rnnzoo predict -c RECIPE --help lists its options).")
    parser.add_argument("model", help="zoo name, hf-hub:org/repo[@rev], local-dir:PATH or a saved folder")
    parser.add_argument("inputs", nargs="*", help="input files (or, for a language model, the text itself)")
    forecast = parser.add_argument_group("forecasters")
    forecast.add_argument("--column", nargs="+", help="value column(s) of a CSV/Parquet file (default: the "
                                                      "columns the model was trained on, else every numeric one)")
    forecast.add_argument("--horizon", type=AT_LEAST_1, help="steps ahead (default: the model's)")
    forecast.add_argument("--series", default="0", help="which trained series' scaler (index or name)")
    forecast.add_argument("--quantiles", nargs="+", type=float, metavar="LEVEL",
                          help="print these quantile levels of a quantile (or Gaussian) forecaster, e.g. 0.1 0.5 0.9")
    forecast.add_argument("--future", metavar="FILE",
                          help="a model with future-known covariates: a CSV/Parquet table of the horizon's rows with "
                               "those columns (calendar columns are computed from --future-time-column's dates)")
    forecast.add_argument("--future-time-column", metavar="COLUMN",
                          help="the --future table's date column (its DatetimeIndex for calendar features)")
    text = parser.add_argument_group("language models")
    text.add_argument("--perplexity", action="store_true", help="print the perplexity of the text instead of "
                                                                "continuing it")
    text.add_argument("--max-new-tokens", type=AT_LEAST_1, default=50)
    text.add_argument("--temperature", type=positive_number, default=1.0)
    music = parser.add_argument_group("piano-roll models")
    music.add_argument("--steps", type=AT_LEAST_1, default=64, help="frames to sample")
    parser.add_argument("--seed", type=int, default=None, help="seed of a sampled output (text, music)")
    parser.add_argument("--out", help="write the result here (.csv for forecasts, .mid for music, else text)")
    return parser


def _import_pandas_for_csv(paths: list[str]) -> None:
    """Import pandas without letting it import pyarrow, when the inputs hold a CSV file and no Parquet file.

    pandas imports pyarrow (about 0.2 s of a 3 s start-up, benchmarks/predict_startup.py) only to learn whether
    it may use it; its CSV reader never does. So for this import pyarrow reads as absent. That pandas cannot read
    Parquet afterwards (its Arrow types are not registered), so this runs only in the console script's own process,
    which reads the inputs of one command: none of them Parquet. A process that already imported pandas or pyarrow
    is left alone.
    """
    names = [str(p).lower() for p in paths]
    if (not any(n.endswith(".csv") for n in names) or any(n.endswith((".parquet", ".pq")) for n in names)
            or "pandas" in sys.modules or "pyarrow" in sys.modules):
        return
    sys.modules["pyarrow"] = None  # type: ignore[assignment]  # "import pyarrow" raises ImportError
    try:
        import pandas  # noqa: F401
    finally:
        del sys.modules["pyarrow"]


def predict_main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """Run ``rnnzoo predict`` with ``argv``; print (or write) the prediction. Returns 0; bad input exits 2 with
    the error's message. ``own_process``: the console script, whose process runs this one command (it may import
    pandas without pyarrow, see :func:`_import_pandas_for_csv`); a caller's ``main([...])`` is not."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from rnnzoo.errors import RnnzooError
    from rnnzoo.factory import load

    try:
        model = load(args.model)
        if own_process:
            _import_pandas_for_csv([*args.inputs, args.future or ""])
        result = model.predict_from_files(args.inputs, args)
    except RnnzooError as err:
        parser.exit(2, f"rnnzoo predict: error: {err}\n")
    if result is not None:
        try:
            print(result)
        except BrokenPipeError:  # the reader closed the pipe (`| head`): what it wanted has been written
            import os

            # stdout points at nothing from here, so Python's flush at exit raises no second error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(predict_main())
