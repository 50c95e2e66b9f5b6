"""The ``rnnzoo`` command.

``rnnzoo fit | validate | test | predict -c RECIPE`` is LightningCLI over :class:`rnnzoo.training.TrainingModule`
and any LightningDataModule (``--data PianoRollDataModule`` or a ``class_path``), with recipes in ``recipes/``:
``rnnzoo fit -c recipes/jsb-gru-20k.yaml``. Runs log to MLflow (see :mod:`rnnzoo.tracking`), keep their best and
last checkpoints under ``<default_root_dir>/checkpoints``, and resume with ``--ckpt_path last``.

The zoo's own subcommands: ``rnnzoo list`` (architectures and pretrained weights), ``rnnzoo predict MODEL INPUT``
(a model on raw input: a CSV, a text, WAV files), ``rnnzoo push`` (a saved folder or a Lightning checkpoint to the
Hugging Face Hub), ``rnnzoo compare`` (the four cells at one parameter budget on the same data and seeds),
``rnnzoo inspect`` (a look inside the gates) and ``rnnzoo export`` (ONNX or a torch.export program).

This module imports no heavy library at import time: each subcommand imports what it needs, so ``rnnzoo --help``,
``rnnzoo list`` and ``rnnzoo compare --help`` answer without loading torch, Lightning or MLflow.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

TRAINER_COMMANDS = ("fit", "validate", "test", "predict")


def lightning_main(args: list[str] | None = None):
    """Run a LightningCLI subcommand (``fit``, ``validate``, ``test``, ``predict``)."""
    from rnnzoo.training.lightning_cli import lightning_main as run

    return run(args)


def list_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rnnzoo list", description="List the zoo's architectures and weights.")
    parser.add_argument("filter", nargs="?", default="", help="fnmatch pattern, e.g. 'pianoroll-*'")
    parser.add_argument("--pretrained", action="store_true", help="only names with trained weights")
    args = parser.parse_args(argv)
    import rnnzoo

    names = rnnzoo.list_pretrained(args.filter) if args.pretrained else rnnzoo.list_models(args.filter)
    if not names:
        what = "pretrained weights" if args.pretrained else "architectures"
        print(f"no {what} match {args.filter!r}", file=sys.stderr)
        return 1
    print("\n".join(names))
    return 0


def push_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rnnzoo push", description="Upload a model to the Hugging Face Hub.")
    parser.add_argument("source", help="a saved model folder (config.json + model.safetensors) or a .ckpt file")
    parser.add_argument("repo_id", help="the Hub repo, e.g. me/my-gru")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--revision", default=None, help="branch to push to")
    parser.add_argument("--commit-message", default="Upload rnnzoo model")
    parser.add_argument("--token", default=None, help="Hub token (default: the logged-in one or HF_TOKEN)")
    args = parser.parse_args(argv)
    import rnnzoo
    from rnnzoo.training import TrainingModule

    source = Path(args.source)
    if not source.exists():
        parser.error(f"{source} does not exist")
    with tempfile.TemporaryDirectory(prefix="rnnzoo-push-") as tmp:
        if source.is_file():
            if source.suffix != ".ckpt":
                parser.error(f"{source} is neither a saved model folder nor a Lightning .ckpt file")
            # A Lightning checkpoint is the user's own training file; its model is exported to safetensors here.
            from rnnzoo.training.checkpoints import check_checkpoint_file

            try:
                check_checkpoint_file(source)
            except ValueError as err:
                parser.exit(2, f"rnnzoo push: error: {err}\n")
            task = TrainingModule.load_from_checkpoint(source, map_location="cpu")
            source = rnnzoo.save_pretrained(task.model, tmp, repo_id=args.repo_id)
        from rnnzoo.hub import HubError

        try:
            info = rnnzoo.push_to_hub(source, args.repo_id, private=args.private or None, revision=args.revision,
                                      commit_message=args.commit_message, token=args.token)
        except HubError as err:
            parser.exit(2, f"rnnzoo push: error: {err}\n")
    print(f"pushed {args.source} to {args.repo_id} at commit {info.oid}; load it with "
          f"rnnzoo.load('hf-hub:{args.repo_id}@{info.oid}')")
    return 0


def inspect_main(argv: list[str]) -> int:
    from rnnzoo.inspect.command import inspect_main as run  # matplotlib is imported only when asked for

    return run(argv)


def compare_main(argv: list[str]) -> int:
    from rnnzoo.compare.command import compare_main as run

    return run(argv)


def predict_main(argv: list[str], own_process: bool = False) -> int:
    from rnnzoo.predict_command import predict_main as run

    return run(argv, own_process=own_process)


def export_main(argv: list[str]) -> int:
    from rnnzoo.export_command import export_main as run  # torch and the ONNX exporter load only here

    return run(argv)


def env_main(argv: list[str]) -> int:
    from rnnzoo.env_report import env_main as run

    return run(argv)


ZOO_COMMANDS = {"list": list_main, "push": push_main, "inspect": inspect_main, "compare": compare_main,
                "export": export_main, "env": env_main}


def usage() -> str:
    return (
        "usage: rnnzoo {fit,validate,test,predict,list,push,compare,inspect,export,env} ...\n\n"
        "Train, evaluate and share recurrent networks.\n\n"
        "training (LightningCLI; `rnnzoo fit --help` for every option):\n"
        "  fit        train a model: rnnzoo fit -c recipes/jsb-gru-20k.yaml [--trainer.max_epochs 5]\n"
        "  validate   evaluate on the validation split\n"
        "  test       evaluate on the test split\n"
        "  predict    run the predict step of a recipe: rnnzoo predict -c RECIPE --ckpt_path CKPT\n\n"
        "the zoo:\n"
        "  list       list architectures (--pretrained: trained weights)\n"
        "  predict    a model on raw input, in your units: rnnzoo predict forecaster-gru-20k.co2 series.csv\n"
        "             (a CSV/.npy series, a text, WAV files; rnnzoo predict MODEL --help)\n"
        "  push       upload a saved folder or a .ckpt to the Hugging Face Hub\n"
        "  compare    train the four cells at one parameter budget, same data and seeds: table, curves, JSON\n"
        "             rnnzoo compare --data jsb --budget 20k --seeds 0 1 2\n"
        "  inspect    gate heatmaps, gate statistics and gradient-vs-lag of a model (PNG + JSON)\n"
        "  export     a model as ONNX (onnxruntime) or a torch.export .pt2, batch and time dynamic:\n"
        "             rnnzoo export pianoroll-gru-20k.jsb --format onnx --check\n"
        "  env        versions, threads, CUDA, and which kernels each cell runs here\n"
    )


def _plain_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as a command's user reads it: what happened, without the Python file and line it came from."""
    return f"rnnzoo: {category.__name__}: {message}\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rnnzoo`` console script."""
    from_command_line = argv is None
    if from_command_line:  # the console script: the process is ours to format (a caller's main() call is not)
        import warnings

        warnings.formatwarning = _plain_warning
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] in ZOO_COMMANDS:
        return ZOO_COMMANDS[argv[0]](argv[1:])
    if argv[0] == "predict" and len(argv) > 1 and (not argv[1].startswith("-") or argv[1:] in (["-h"], ["--help"])):
        return predict_main(argv[1:], own_process=from_command_line)  # rnnzoo predict MODEL INPUT; -c RECIPE ... goes to LightningCLI
    if argv[0] not in TRAINER_COMMANDS:
        print(usage(), file=sys.stderr)
        print(f"rnnzoo: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    lightning_main(None if from_command_line else argv)  # LightningCLI reads sys.argv itself
    return 0


if __name__ == "__main__":
    sys.exit(main())
