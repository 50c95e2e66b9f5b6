"""Baselines saved as models: what a comparison measured the networks against, kept in its output folder
(``<out>/baselines/<name>/``) with what it needs to run again, so that a verdict that recommends one can be acted on:
``rnnzoo predict <out>/baselines/<name> FILE`` or ``rnnzoo.load("<out>/baselines/<name>")``.

A baseline folder holds ``baseline.json`` (what the baseline is and how it reads input: the networks' preprocessing)
and a ``README.md`` card, and for fitted baselines a ``baseline.safetensors`` of their numbers (class frequencies,
logistic-regression weights, bigram counts, note frequencies). Statistical forecasters have none: they are refitted
on the history they are given, as they were at every forecast origin of the comparison.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rnnzoo.baselines.errors import BaselineError

#: the file that makes a folder a saved baseline
BASELINE_FILE = "baseline.json"
FORMAT = "rnnzoo-baseline/1"
__all__ = ["BASELINE_FILE", "BaselineError", "baseline_folder_name", "is_baseline", "load_baseline", "save_baseline"]


def baseline_folder_name(name: str) -> str:
    """A folder name for the baseline ``name``: ``"seasonal naive (m=12)"`` -> ``seasonal-naive-m12``."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", name.lower().replace("=", ""))).strip("-")


def is_baseline(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a saved baseline."""
    return (Path(path).expanduser() / BASELINE_FILE).is_file()


def save_baseline(folder: str | Path, spec: dict[str, Any], card: str) -> Path:
    """Write ``spec`` (with its ``kind``) as the folder's baseline.json and ``card`` as its README.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BASELINE_FILE).write_text(json.dumps({"format": FORMAT, **spec}, indent=1) + "\n")
    (folder / "README.md").write_text(card)
    return folder


def load_baseline(folder: str | Path) -> Any:
    """The baseline saved in ``folder``, ready to predict (see :mod:`rnnzoo.baselines.forecast`)."""
    path = Path(folder).expanduser() / BASELINE_FILE
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise BaselineError(f"{folder} holds no {BASELINE_FILE}; give a folder a comparison wrote under "
                            f"<out>/baselines/") from None
    except json.JSONDecodeError as err:
        raise BaselineError(f"{path} is not JSON ({err}); it was changed by hand or cut short: run the comparison "
                            f"again to write it") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise BaselineError(f"{path} is not an rnnzoo baseline of format {FORMAT!r} (found "
                            f"{spec.get('format') if isinstance(spec, dict) else type(spec).__name__!r})")
    if spec.get("kind") == "forecast":
        from rnnzoo.baselines.forecast import StatisticalForecaster

        return StatisticalForecaster.from_spec(spec)
    if spec.get("kind") == "classify":
        from rnnzoo.baselines.classify import BaselineClassifier

        return BaselineClassifier.from_folder(path.parent, spec)
    if spec.get("kind") == "count-lm":
        from rnnzoo.baselines.count_lm import CountLanguageModel

        return CountLanguageModel.from_folder(path.parent, spec)
    if spec.get("kind") == "note-frequencies":
        from rnnzoo.baselines.note_frequencies import NoteFrequencies

        return NoteFrequencies.from_folder(path.parent, spec)
    raise BaselineError(f"{path}: a baseline of kind {spec.get('kind')!r}, which this rnnzoo cannot run "
                        f"(it runs 'forecast', 'classify', 'count-lm' and 'note-frequencies'); upgrade rnnzoo")
