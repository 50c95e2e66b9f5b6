"""The command that runs a comparison's recommended choice — network, ensemble or baseline — from its output
folder, for results.md and results.json: a verdict is only useful if it can be acted on."""

from __future__ import annotations

import shlex
from typing import Any


def use_recommended(verdict: dict[str, Any], example: str, models: dict[str, dict[str, Any]],
                    baselines: dict[str, str], ensemble: str | None) -> dict[str, str]:
    """``{"choice", "command"}`` for the recommended choice (``command`` is a shell line or a Python line), or
    ``{"choice", "note"}`` when nothing runnable was saved for it. ``example``: what the models read, as the
    placeholder after ``rnnzoo predict MODEL`` (the task model's ``predict_input_example``); ``models``:
    results.json's saved models (cell -> ``{"path"}``), ``baselines``: saved baseline folders (name -> path),
    ``ensemble``: the saved ensemble's folder."""
    rec = verdict["recommended"]
    choice = rec["choice"]
    if rec["kind"] == "baseline":
        path = baselines.get(choice)
        if path is None:
            return {"choice": choice, "note": f"the {choice} baseline is not saved for this kind of data yet; the "
                                              f"verdict's numbers are in results.json"}
        return {"choice": choice, "command": f"rnnzoo predict {shlex.quote(path)} {example}"}
    if choice in models:
        return {"choice": choice, "command": f"rnnzoo predict {shlex.quote(models[choice]['path'])} {example}"}
    if ensemble is not None:  # the median of the cells: a Python object, not a single saved model
        return {"choice": choice, "command": f"from rnnzoo.tasks.forecaster import ForecastEnsemble; "
                                             f"ForecastEnsemble.from_pretrained({ensemble!r}).forecast(history)"}
    return {"choice": choice, "note": "the models were not saved (save_models=False): rerun with them saved"}


def use_markdown(use: dict[str, str]) -> str:
    """results.md's "Use it" section."""
    body = f"```\n{use['command']}\n```" if "command" in use else use["note"] + "."
    return f"## Use it\n\nThe recommended choice, {use['choice']}:\n\n{body}\n"
