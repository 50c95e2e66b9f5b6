"""Several trained forecasters as one: the median (or mean) of their forecasts, in the series' own units.

Combining forecasts is the oldest reliable gain in forecasting (Bates & Granger 1969; the M3 and M4 competitions,
where Smyl's ES-RNN itself was an ensemble): the members' errors are partly independent, so their median is
usually better than the typical member and rarely much worse than the best. The members may differ in cell,
normalisation and input length (each reads as much of the history as it was trained on); they must forecast the
same targets, at least as far ahead as asked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.tasks.base import PreprocessingError

COMBINE = ("median", "mean")
#: the file that makes a folder an ensemble: how to combine, and the members' subfolders in order
ENSEMBLE_FILE = "ensemble.json"


class ForecastEnsemble:
    """``ForecastEnsemble([model_a, model_b, ...]).forecast(history)``: one forecast from many forecasters.

    Args:
        members: trained :class:`~rnnzoo.tasks.forecaster.Forecaster` models with their preprocessing (what
            ``rnnzoo.load`` returns), or names/paths ``rnnzoo.load`` takes.
        combine: ``"median"`` (default: robust to one member gone wrong) or ``"mean"`` of the members' forecasts
            at each step; with ``quantiles=`` each level is combined the same way (quantile averaging, which keeps
            the levels ordered).
        strict: refuse members that disagree on their series, target columns, frequency or season.
    """

    def __init__(self, members: Sequence[Any], combine: str = "median", *, strict: bool = True):
        if combine not in COMBINE:
            raise ValueError(f"combine={combine!r}: choose one of {', '.join(COMBINE)}")
        if len(members) < 1:
            raise ValueError("an ensemble needs at least one member forecaster")
        loaded = []
        for member in members:
            if isinstance(member, str):
                from rnnzoo.factory import load

                member = load(member)
            if getattr(member, "task", None) != "forecaster" or not hasattr(member, "forecast"):
                raise ValueError(f"every member must be a forecaster (rnnzoo's Forecaster with its preprocessing); "
                                 f"got {type(member).__name__} ({getattr(member, 'task', None)!r})")
            loaded.append(member)
        outputs = {m.output_size for m in loaded}
        if len(outputs) != 1:
            raise ValueError(f"the members forecast different numbers of targets ({sorted(outputs)}); an ensemble "
                             f"combines forecasts of the same targets")
        if strict:
            _check_members_agree(loaded)
        self.members, self.combine = loaded, combine
        self.horizon = min(m.horizon for m in loaded)  # the furthest every member reaches
        self.input_length = max(m.require_preprocessing("forecast()").input_length for m in loaded)

    def __len__(self) -> int:
        return len(self.members)

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write the ensemble to ``folder``: each member with ``rnnzoo.save_pretrained`` in ``member-<k>/``
        (config.json, safetensors weights, card) and :data:`ENSEMBLE_FILE` saying how to combine them."""
        from rnnzoo.hub import save_pretrained

        folder = Path(folder)
        names = []
        for k, member in enumerate(self.members):
            save_pretrained(member, folder / f"member-{k}", preprocessing=member.preprocessing)
            names.append(f"member-{k}")
        spec = {"combine": self.combine, "members": names,
                "architectures": [getattr(m, "architecture", type(m).__name__) for m in self.members]}
        (folder / ENSEMBLE_FILE).write_text(json.dumps(spec, indent=1) + "\n")
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike) -> "ForecastEnsemble":
        """An ensemble written by :meth:`save_pretrained` (each member loaded like ``rnnzoo.load("local-dir:...")``:
        safetensors, strict keys)."""
        from rnnzoo.factory import load

        folder = Path(folder)
        spec_path = folder / ENSEMBLE_FILE
        if not spec_path.is_file():
            raise FileNotFoundError(f"{folder} has no {ENSEMBLE_FILE}: it is not a saved ForecastEnsemble (a single "
                                    f"model loads with rnnzoo.load('local-dir:{folder}'))")
        try:
            spec = json.loads(spec_path.read_text())
            members = spec["members"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
            raise PreprocessingError(f"{spec_path} is not an ensemble description ({type(err).__name__}: {err}); "
                                     f"it should be the JSON ForecastEnsemble.save_pretrained writes, with "
                                     f"'members' and 'combine': save the ensemble again") from None
        members = [load(f"local-dir:{folder / name}") for name in members]
        return cls(members, combine=spec.get("combine", "median"))

    def forecast(self, history: Any, horizon: int | None = None, *, series: int | str = 0,
                 quantiles: Sequence[float] | None = None) -> np.ndarray:
        """The combined forecast of the next ``horizon`` steps (default: the shortest member horizon).

        ``history``, ``series`` and ``quantiles`` as :meth:`Forecaster.forecast` takes them (one history or a
        list; the history must be as long as the longest member input length); returns the same shapes. A
        ``gaussian=True`` member contributes its mean (and its quantiles when asked). Members with future-known
        covariates are not supported here.
        """
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise PreprocessingError(f"horizon={horizon}: the members reach 1 to {self.horizon} steps ahead (the "
                                     f"shortest member horizon)")
        forecasts = []
        for member in self.members:
            out = member.forecast(history, horizon, series=series, quantiles=quantiles)
            forecasts.append(out[0] if isinstance(out, tuple) else out)  # a Gaussian member: its mean
        stacked = np.stack([np.asarray(f) for f in forecasts])  # (members, ...)
        combined = np.median(stacked, axis=0) if self.combine == "median" else stacked.mean(axis=0)
        first = forecasts[0]
        if hasattr(first, "iloc"):  # a dated history gave dated forecasts: keep their dates and names
            first = first.copy()
            first.iloc[:] = combined
            return first
        return combined


def _check_members_agree(members: Sequence[Any]) -> None:
    """Refuse members trained on different series: another series, target, frequency or season (a median of a
    monthly CO2 model and a yearly sunspots model is a number about nothing). Horizons may differ: the ensemble
    forecasts the steps every member reaches."""
    def facts(member) -> dict[str, Any]:
        scaler = member.require_preprocessing("an ensemble")
        return {"series": list(scaler.series), "targets": list(scaler.columns[:member.output_size])
                if scaler.columns else None, "frequency": scaler.frequency, "season": scaler.season,
                }

    described = [facts(m) for m in members]
    for key in described[0]:
        values = [d[key] for d in described]
        if any(v != values[0] for v in values[1:]):
            listing = "; ".join(f"member {k} ({getattr(m, 'architecture', '?')}): {v}"
                                for k, (m, v) in enumerate(zip(members, values)))
            raise PreprocessingError(f"the members disagree on {key}: {listing}. An ensemble combines forecasts of the same "
                             f"series; pass strict=False only if you know they forecast the same thing")

