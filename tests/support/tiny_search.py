"""One tiny searched comparison for the Optuna tests: co2 at an 8k budget, the gru, one seed, one-epoch runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_search(out: Path, store: str, storage: str, study: str, **options: Any) -> dict:
    """``compare("co2", ...)`` with the search's study in ``storage`` under the prefix ``study``, MLflow in
    ``store``; ``options`` add to or replace the defaults (one thread, deterministic, no statistical baselines, no
    saved models, nothing printed)."""
    from rnnzoo.compare import compare

    defaults = dict(budget="8k", cells=("gru",), seeds=(0,), max_epochs=1, study_storage=storage, study_name=study,
                    out_dir=out, tracking_uri=store, threads=1, deterministic=True, classical_baselines=False,
                    save_models=False, log=lambda line: None)
    return compare("co2", **{**defaults, **options})
