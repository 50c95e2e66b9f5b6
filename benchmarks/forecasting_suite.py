"""The forecasting suite: many small real series that ship inside installable packages (statsmodels' datasets, and
pmdarima's when it is installed), every method on the same rolling-origin test windows of each series.

Methods: the naive, drift and seasonal naive forecasts, and statsforecast's AutoETS, AutoARIMA and AutoTheta with
their median, refitted with model selection at every validation and test origin (rnnzoo.compare.statistical_baselines),
and each of the four cells in the plain forecaster (``normalization="last_value"``)
the ES-RNN-style hybrid (``normalization="es"``) and the seasonal-difference forecaster
(``normalization="seasonal_difference"``, drift by :mod:`rnnzoo.compare.trend`'s rule), trained by
``rnnzoo.compare.compare`` on a TimeSeriesDataModule per series (one model per series, as the statistical models
are); and the median ensembles of those networks (all of them, and each family's four cells;
:class:`~rnnzoo.tasks.forecaster.ensemble.ForecastEnsemble` on the saved models). The networks' test MASE is
compare's, the baselines' is statistical_baselines', the ensembles' is computed here from the saved models'
forecasts at every test origin; all on the windows the DataModule cuts (70/15/15 chronological split, stride 1, one
window per forecast origin in the test range). ``--quantiles 0.1 0.5 0.9`` trains quantile networks (their
intervals calibrated on validation by compare) and adds their interval coverage.

Reported: per-series MASE (methods as columns), the mean MASE and the mean rank per method (rank 1 = lowest MASE
on a series, ties share the average rank), as suite.md and suite.json in ``--out``.

The hybrid is multiplicative and needs positive values: a series with a value <= 0 is shifted, for every method
alike, by ``1 - min(series)`` (MASE, the seasonal naive, the additive ETS, the ARIMA with a constant and the plain
forecaster's window-relative levels and the seasonal differences are all unchanged by a shift, so only the hybrid
sees a difference).

    python benchmarks/forecasting_suite.py --budget 10k --seeds 0 --max-epochs 40 --patience 10 --threads 1 \
        --out runs/forecasting-suite
    python benchmarks/forecasting_suite.py --series nile lynx --cells gru --max-epochs 1   # a quick look
    python benchmarks/forecasting_suite.py --jobs 4 ...   # each series' runs in 4 worker processes (compare --jobs)
    python benchmarks/forecasting_suite.py --ray auto --tracking-uri http://HEAD:5000 --out /shared/suite ...
        # each series' runs as Ray tasks on a Ray cluster (compare --ray; docs/training.md)
    python benchmarks/forecasting_suite.py --networks-from docs/results/forecasting-suite-10k-three/suite.json \
        --out runs/forecasting-suite-auto    # new baselines beside an earlier run's networks (same windows)

Besides the mean MASE and rank, suite.md compares per series the network chosen on validation, and the median
ensemble (fixed in advance), with the baseline chosen on validation (95% circular block bootstrap over test windows;
no claim below 30 windows).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: family key -> (label in the tables, the forecaster's normalisation)
FAMILIES = {"forecaster": ("plain", "last_value"), "esrnn": ("hybrid", "es"),
            "sdiff": ("sdiff", "seasonal_difference")}
#: the statistical methods ranked (rnnzoo.compare.statistical_baselines; the automatic ones refitted at every origin)
BASELINES = ("naive", "drift", "seasonal naive", "AutoETS", "AutoARIMA", "AutoTheta", "statistical median")
PROPORTIONS = (0.7, 0.15, 0.15)  # chronological train / validation / test shares of every series


@dataclass(frozen=True)
class SeriesSpec:
    """One series of the suite: where it comes from and how it is forecast."""

    name: str
    package: str  # "statsmodels" | "pmdarima"
    frequency: str  # "yearly" | "quarterly" | "monthly"
    season: int  # the seasonal period m (seasonal naive, MASE's scale, ETS/ARIMA season, the hybrid's season)
    horizon: int
    description: str
    seasonally_adjusted: bool = False


def _statsmodels(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import statsmodels.api as sm

        ds = sm.datasets
        if name == "co2":
            from rnnzoo.data.timeseries.builtin_series import load_builtin_series
            return load_builtin_series("co2")[:, 0]
        if name == "sunspots":
            return ds.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
        if name == "nile":
            return ds.nile.load_pandas().data["volume"].to_numpy()
        if name == "elnino":  # one row per year, a column per month
            return ds.elnino.load_pandas().data.iloc[:, 1:13].to_numpy().reshape(-1)
        return ds.macrodata.load_pandas().data[name].to_numpy()  # realgdp, cpi, unemp, tbilrate
    return load


def _pmdarima(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import pmdarima.datasets

        values = np.asarray(getattr(pmdarima.datasets, f"load_{name}")(), dtype=np.float64)
        return values[~np.isnan(values)] if name == "ausbeer" else values  # ausbeer ends with one NaN
    return load


# M4's horizons (yearly 6, quarterly 8, monthly 18) where the 15% test range leaves at least ~10 windows, else a
# season. Seasonally adjusted series (the US macro data) get m = 1: there is no season left to model.
SUITE = [
    SeriesSpec("co2", "statsmodels", "monthly", 12, 18, "Mauna Loa CO2 (ppm), monthly means of the weekly data, "
               "1958-03..2001-12"),
    SeriesSpec("elnino", "statsmodels", "monthly", 12, 18, "El Nino sea surface temperature (deg C), 1950-2010"),
    SeriesSpec("airpassengers", "pmdarima", "monthly", 12, 12, "international airline passengers (thousands), "
               "1949-1960 (Box & Jenkins)"),
    SeriesSpec("wineind", "pmdarima", "monthly", 12, 12, "Australian wine sales by winemakers (litres), 1980-1994"),
    SeriesSpec("realgdp", "statsmodels", "quarterly", 1, 8, "US real GDP (billions of 2005 dollars, SAAR), "
               "1959Q1-2009Q3", True),
    SeriesSpec("cpi", "statsmodels", "quarterly", 1, 8, "US consumer price index, 1959Q1-2009Q3", True),
    SeriesSpec("unemp", "statsmodels", "quarterly", 1, 8, "US unemployment rate (%), 1959Q1-2009Q3", True),
    SeriesSpec("tbilrate", "statsmodels", "quarterly", 1, 8, "US 3-month Treasury bill rate (%), 1959Q1-2009Q3",
               True),
    SeriesSpec("ausbeer", "pmdarima", "quarterly", 4, 8, "Australian beer production (megalitres), 1956Q1-2008Q2"),
    SeriesSpec("woolyrnq", "pmdarima", "quarterly", 4, 8, "Australian woollen yarn production (tonnes), "
               "1965Q1-1994Q3"),
    SeriesSpec("sunspots", "statsmodels", "yearly", 11, 6, "yearly sunspot number (Wolf), 1700-2008"),
    SeriesSpec("lynx", "pmdarima", "yearly", 10, 6, "Canadian lynx trappings, 1821-1934"),
    SeriesSpec("nile", "statsmodels", "yearly", 1, 6, "Nile flow at Aswan (10^8 m^3), 1871-1970"),
]
SPECS = {s.name: s for s in SUITE}


def load_values(spec: SeriesSpec) -> np.ndarray:
    """The series as float64 ``(T,)``, chronological."""
    loader = _statsmodels(spec.name) if spec.package == "statsmodels" else _pmdarima(spec.name)
    return np.asarray(loader(), dtype=np.float64)


def positive_shift(values: np.ndarray) -> float:
    """The constant every method's copy of the series is shifted by: 0 for a positive series, else
    ``1 - min`` (the hybrid divides by levels and seasons)."""
    low = float(np.min(values))
    return 0.0 if low > 0 else 1.0 - low


def mean_ranks(table: dict[str, dict[str, float]]) -> dict[str, float]:
    """``{series: {method: mase}}`` -> each method's rank averaged over the series (1 = lowest MASE on a series;
    tied methods share the average of the ranks they span). Every series must score every method."""
    from scipy.stats import rankdata

    methods = list(next(iter(table.values())))
    totals = dict.fromkeys(methods, 0.0)
    for series, scores in table.items():
        missing = set(methods) ^ set(scores)
        if missing:
            raise ValueError(f"{series}: methods {sorted(missing)} are not scored on every series; rank on a full "
                             f"table")
        ranks = rankdata([scores[m] for m in methods], method="average")
        for m, r in zip(methods, ranks):
            totals[m] += float(r)
    return {m: totals[m] / len(table) for m in methods}


def _baseline_label(name: str) -> str:
    """The suite's column for a statistical_baselines method ("seasonal naive (m=12)" -> "seasonal naive")."""
    return "seasonal naive" if name.startswith("seasonal naive") else name


def run_series(spec: SeriesSpec, values: np.ndarray, *, out: Path, budget: str, cells: tuple[str, ...],
               seeds: tuple[int, ...], families: tuple[str, ...], max_epochs: int, patience: int, lr: float,
               quantiles: list[float] | None = None,
               batch_size: int, threads: int, classical: bool, tracking_uri: str,
               reuse: dict[str, Any] | None = None, networks: dict[str, Any] | None = None,
               jobs: int = 1, ray: str | None = None, reselect_every: int = 1,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every method on one series' test windows: ``{"mase": {method: test MASE}, "items": {method: per-window
    MASE sums}, "val": {method: validation MAE (networks: their best epoch's)}, "setup": ...}``. ``reuse``: this
    series' entry of an earlier suite.json whose baselines are taken instead of fitted again; ``networks``: one
    whose networks (and their ensembles) are taken instead of trained again (its windows must be these). ``jobs``
    and ``ray``: compare's, where each series' networks train (and ``jobs`` processes fit the baselines).
    ``reselect_every``: compare's, how often the automatic baselines search their form."""
    from rnnzoo.compare import compare
    from rnnzoo.compare.statistical_baselines import statistical_baselines
    from rnnzoo.compare.trend import drifts
    from rnnzoo.compare.user_data import fitting_budget
    from rnnzoo.compare.user_series import default_input_length
    from rnnzoo.data import TimeSeriesDataModule
    from rnnzoo.data.splits import chronological_split

    shift = positive_shift(values)
    series = (values + shift).astype(np.float32)
    proportions = PROPORTIONS
    train, _, _ = chronological_split(len(series), proportions)
    input_length = max(default_input_length(train.stop, spec.horizon, spec.season), spec.season)
    dm = TimeSeriesDataModule(series, input_length=input_length, horizon=spec.horizon, season=spec.season,
                              proportions=proportions, batch_size=batch_size)
    dm.setup("fit")
    result: dict[str, Any] = {"mase": {}, "items": {}, "val": {}, "models": {}}
    quantiles = sorted(quantiles) if quantiles else None
    budgets: dict[str, str] = {}
    for family in families if networks is None else ():
        label, normalization = FAMILIES[family]
        config = {"task": "forecaster", "input_size": 1, "horizon": spec.horizon, "normalization": normalization}
        if quantiles:  # the quantile head (the budget rule below sizes it: the head is Q times wider)
            config["quantiles"] = list(quantiles)
        if normalization == "es":
            config.update(season=spec.season, num_series=1)
        if normalization == "seasonal_difference":  # drift by the training range's trend (rnnzoo.compare.trend)
            config.update(season=spec.season, drift=drifts(series[train], spec.season))
        # the budget, or the next one up at which all four cells match within 2% (5k cannot at horizons 8-18)
        used_budget = fitting_budget(config, budget)
        budgets[family] = used_budget
        started = time.perf_counter()
        res = compare(dm, task_config=config, budget=used_budget, cells=cells, seeds=seeds, max_epochs=max_epochs,
                      patience=patience, lr=lr, out_dir=out / spec.name / family, tracking_uri=tracking_uri,
                      experiment_name="rnnzoo-forecasting-suite", threads=threads, classical_baselines=False,
                      jobs=jobs, ray=ray, log=lambda line: None)
        for cell in cells:
            runs = [r for r in res["runs"] if r["cell"] == cell]
            method = f"{label} {cell}"
            result["mase"][method] = float(np.mean([r["test"]["mase"] for r in runs]))  # mean over seeds
            result["val"][method] = float(np.mean([r["best_val"] for r in runs]))
            result["items"][method] = runs[0]["items"]["mase"]  # the first seed's per-window sums
            result["models"][method] = res["models"].get(cell, {}).get("path")
            if quantiles:  # interval coverage (lowest..highest level) and pinball loss, mean over seeds
                for key in ("coverage", "pinball"):
                    result.setdefault(key, {})[method] = float(np.mean([r["test"][key] for r in runs]))
        log(f"  {spec.name} {label}: " + ", ".join(f"{c} {result['mase'][f'{label} {c}']:.3f}" for c in cells)
            + f" ({time.perf_counter() - started:.0f} s)")
    if len(result["models"]) > 1:
        _ensembles(result, series, proportions, spec, [FAMILIES[f][0] for f in families], log)
    started = time.perf_counter()
    setup = {"horizon": spec.horizon, "season": spec.season, "input_length": input_length, "shift": shift,
             "test_windows": dm.split_sizes()["test"], "length": len(values)}
    if networks is not None:  # an earlier suite's networks and ensembles on these very windows
        differs = {k: (v, networks["setup"].get(k)) for k, v in setup.items() if networks["setup"].get(k) != v}
        if differs:
            raise ValueError(f"{spec.name}: --networks-from was run on other windows {differs}; rerun them")
        old_baselines = {"seasonal naive", "ETS", "AutoARIMA", *BASELINES}
        for key in ("mase", "items", "val", "models", "coverage", "pinball"):
            kept = {m: v for m, v in networks.get(key, {}).items() if m not in old_baselines}
            if kept:
                result[key] = kept
        budgets = networks["setup"].get("budgets", {})
    if reuse is not None:  # a previous suite's baselines on these very windows (they are deterministic)
        differs = {k: (v, reuse["setup"].get(k)) for k, v in setup.items() if reuse["setup"].get(k) != v}
        if differs:
            raise ValueError(f"{spec.name}: --baselines-from was run on other windows {differs}; rerun them")
        baselines = {}
        for label in BASELINES:
            if label in reuse["mase"]:
                result["mase"][label], result["items"][label] = reuse["mase"][label], reuse["items"][label]
    else:
        baselines = statistical_baselines(dm.series_values, dm.proportions, dm.input_length, dm.horizon,
                                          dm.stride, dm.season, classical=classical, workers=jobs,
                                          reselect_every=reselect_every,
                                          seasonal_naive=True)  # the suite ranks it on every series
    for name, b in baselines.items():
        label = _baseline_label(name)
        result["mase"][label] = b["scores"]["mase"]
        result["items"][label] = b["items"]["mase"]
        result["val"][label] = b["val_scores"]["mae"]  # chosen on validation like the networks
        result["val_items"] = {**result.get("val_items", {}), label: b["val_items"]["mase"]}
    log(f"  {spec.name} baselines: " + ", ".join(f"{m} {result['mase'][m]:.3f}" for m in BASELINES
                                                 if m in result["mase"]) + f" ({time.perf_counter() - started:.0f} s)")
    result["setup"] = {**asdict(spec), "length": len(values), "shift": shift, "input_length": input_length,
                       "budgets": budgets, "test_windows": dm.split_sizes()["test"], "train_windows": dm.split_sizes()["train"],
                       "chosen": reuse["setup"].get("chosen", {}) if reuse is not None else
                       {_baseline_label(n): b["chosen"][0] for n, b in baselines.items() if "chosen" in b}}
    return result


def _ensembles(result: dict[str, Any], series: np.ndarray, proportions, spec: SeriesSpec, labels: list[str],
               log: Callable[[str], None]) -> None:
    """Add the median-of-forecasts ensembles (:class:`~rnnzoo.tasks.forecaster.ensemble.ForecastEnsemble`) of
    every network of the run ("ensemble"), and of each family's four cells ("<family> ensemble") when there are
    several families, scored on the same test windows as everything else: forecasts from the saved models on the
    raw history up to each origin, MASE against the training range's seasonal naive MAE."""
    import rnnzoo
    from rnnzoo.data.splits import chronological_split
    from rnnzoo.data.timeseries.windows import seasonal_naive_mae
    from rnnzoo.tasks.forecaster.ensemble import ForecastEnsemble

    train, _, test = chronological_split(len(series), proportions)
    scale = float(seasonal_naive_mae(series[train].reshape(-1, 1).astype(np.float64), spec.season)[0])
    origins = range(test.start, len(series) - spec.horizon + 1)
    histories = [series[:o] for o in origins]
    truths = np.stack([series[o:o + spec.horizon] for o in origins]).astype(np.float64)
    methods = [m for m, path in result["models"].items() if path]
    groups = {"ensemble": methods}
    if len(labels) > 1:
        groups.update({f"{label} ensemble": [m for m in methods if m.startswith(f"{label} ")] for label in labels})
    loaded = {m: rnnzoo.load(f"local-dir:{result['models'][m]}") for m in methods}
    for name, members in groups.items():
        if len(members) < 2:
            continue
        forecasts = ForecastEnsemble([loaded[m] for m in members]).forecast(histories).astype(np.float64)
        errors = np.abs(forecasts.reshape(truths.shape) - truths) / scale  # (windows, horizon)
        result["mase"][name] = float(errors.mean())
        result["items"][name] = {"num": errors.sum(1).tolist(), "den": [float(spec.horizon)] * len(errors)}
    log(f"  {spec.name} ensembles: " + ", ".join(f"{n} {result['mase'][n]:.3f}" for n in groups
                                                 if n in result["mase"]))


def summarise(per_series: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-series MASE table, mean MASE and mean rank per method, and the zoo's best method against ETS/ARIMA."""
    table = {name: r["mase"] for name, r in per_series.items()}
    methods = list(next(iter(table.values())))
    mean_mase = {m: float(np.mean([table[s][m] for s in table])) for m in methods}
    ranks = mean_ranks(table)
    networks = [m for m in methods if m not in BASELINES]
    best = min(networks, key=lambda m: mean_mase[m]) if networks else None
    # A zoo forecaster chosen without the test windows: per series, the network with the best validation MAE.
    # (the ensembles have no validation score of their own: they are not candidates)
    val_pick = {s: min((m for m in networks if m in per_series[s]["val"]), key=lambda m: per_series[s]["val"][m])
                for s in table} if networks else {}
    picked = {s: table[s][m] for s, m in val_pick.items()}
    # The statistical method chosen the same way: per series, the baseline with the best validation MAE.
    baselines = [m for m in methods if m in BASELINES]
    base_pick = {s: min((m for m in baselines if m in per_series[s]["val"]), key=lambda m: per_series[s]["val"][m])
                 for s in table if any(m in per_series[s]["val"] for m in baselines)}
    # per series: the network chosen on validation against the baseline chosen on validation, and the ensemble
    # (a method fixed in advance, so no choice to make) against it; the difference's 95% block-bootstrap interval
    # over the test windows (blocks of one horizon: overlapping windows share targets)
    duels = {}
    for s in base_pick:
        for challenger in (val_pick.get(s), "ensemble" if "ensemble" in table[s] else None):
            if challenger:
                duels.setdefault(s, {})[challenger if challenger == "ensemble" else "network"] = _duel(
                    per_series[s], challenger, base_pick[s])
    coverage = None
    if all("coverage" in r for r in per_series.values()):
        covered = [m for m in networks if all(m in r["coverage"] for r in per_series.values())]  # quantile networks: mean over series, and pooled over
        # every test value (series weighted by their test windows x horizon)
        weights = {s: r["setup"]["test_windows"] * r["setup"]["horizon"] for s, r in per_series.items()}
        coverage = {m: {"mean": float(np.mean([per_series[s]["coverage"][m] for s in table])),
                        "pooled": float(sum(per_series[s]["coverage"][m] * weights[s] for s in table)
                                        / sum(weights.values()))}
                    for m in covered}
    return {"table": table, "methods": methods, "mean_mase": mean_mase, "mean_rank": ranks, "best_network": best,
            "coverage": coverage,
            "validation_pick": {"per_series": val_pick,
                                "mean_mase": float(np.mean(list(picked.values()))) if picked else None},
            "baseline_pick": {"per_series": base_pick,
                              "mean_mase": float(np.mean([table[s][m] for s, m in base_pick.items()]))
                              if base_pick else None},
            "duels": duels}


def _duel(result: dict[str, Any], challenger: str, baseline: str) -> dict[str, Any]:
    """Test MASE of ``challenger`` minus ``baseline`` on one series, its 95% circular block-bootstrap interval
    over the test windows (block = the horizon: windows of stride 1 overlapping by H - 1 share targets), and the
    outcome: "wins"/"loses" where the interval excludes 0, else "tie"; "few windows" below the verdict's
    MIN_ITEMS test windows, where no claim is made (a block as long as the series resamples nothing)."""
    from rnnzoo.compare.verdict import MIN_ITEMS, paired_difference

    diff = paired_difference([result["items"][challenger]], [result["items"][baseline]], lambda n, d: n / d,
                             block=int(result["setup"]["horizon"]))
    low, high = diff["ci95"]
    return {"method": challenger, "baseline": baseline, "difference": diff["difference"], "ci95": diff["ci95"],
            "outcome": "few windows" if diff["items"] < MIN_ITEMS else "wins" if high < 0 else "loses" if low > 0
            else "tie"}


def markdown(summary: dict[str, Any], per_series: dict[str, dict[str, Any]], header: str) -> str:
    methods = summary["methods"]
    lines = [header, "", "| series | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for name, scores in summary["table"].items():
        low = min(scores.values())
        cells = [f"**{scores[m]:.3f}**" if scores[m] == low else f"{scores[m]:.3f}" for m in methods]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **mean MASE** | " + " | ".join(f"{summary['mean_mase'][m]:.3f}" for m in methods) + " |")
    lines.append("| **mean rank** | " + " | ".join(f"{summary['mean_rank'][m]:.2f}" for m in methods) + " |")
    if summary.get("coverage"):
        networks = list(summary["coverage"])
        lines += ["", "Interval coverage of the networks (share of test values inside their lowest..highest "
                      "quantile; mean over seeds):", "", "| series | " + " | ".join(networks) + " |",
                  "|---|" + "---|" * len(networks)]
        for name, r in per_series.items():
            lines.append(f"| {name} | " + " | ".join(f"{r['coverage'][m]:.3f}" for m in networks) + " |")
        for key in ("mean", "pooled"):
            lines.append(f"| **{key}** | " + " | ".join(f"{summary['coverage'][m][key]:.3f}" for m in networks) + " |")
    lines += ["", "Series set-up (m: season; H: horizon; L: input length; W: test windows):", "",
              "| series | frequency | m | H | L | W | length | shift |", "|---|---|---|---|---|---|---|---|"]
    for name, r in per_series.items():
        s = r["setup"]
        lines.append(f"| {name} | {s['frequency']} | {s['season']} | {s['horizon']} | {s['input_length']} | "
                     f"{s['test_windows']} | {s['length']} | {s['shift']:g} |")
    if summary["best_network"]:
        best = summary["best_network"]
        lines += ["", f"Best zoo forecaster by mean MASE: **{best}** ({summary['mean_mase'][best]:.3f}, mean rank "
                      f"{summary['mean_rank'][best]:.2f}); " + ", ".join(
                          f"{m} {summary['mean_mase'][m]:.3f} (rank {summary['mean_rank'][m]:.2f})"
                          for m in ("AutoETS", "AutoARIMA", "AutoTheta", "statistical median")
                          if m in summary["mean_mase"]) + ".",
                  f"Network chosen per series by validation MAE (no test data): mean MASE "
                  f"{summary['validation_pick']['mean_mase']:.3f}."]
    if summary.get("duels"):
        lines += ["", f"By validation choice, per series: the network with the best validation MAE and the median "
                      f"ensemble of all networks (fixed in advance) against the statistical method with the best "
                      f"validation MAE (mean test MASE of that choice: "
                      f"{summary['baseline_pick']['mean_mase']:.3f}). Test MASE difference (negative: the network "
                      f"side is better) with its 95% circular block-bootstrap interval (blocks of one horizon):", "",
                  "| series | baseline chosen | network chosen | network - baseline | ensemble - baseline |",
                  "|---|---|---|---|---|"]
        tally = {"network": {}, "ensemble": {}}
        for name, duel in summary["duels"].items():
            cells = []
            for side in ("network", "ensemble"):
                d = duel.get(side)
                if d is None:
                    cells.append("–")
                    continue
                tally[side][d["outcome"]] = tally[side].get(d["outcome"], 0) + 1
                cells.append(f"{d['difference']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] {d['outcome']}")
            base = next(iter(duel.values()))["baseline"]
            lines.append(f"| {name} | {base} | {duel.get('network', {}).get('method', '–')} | " + " | ".join(cells)
                         + " |")
        for side, counts in tally.items():
            if counts:
                lines.append("")
                lines.append(f"The {'network chosen this way' if side == 'network' else 'median ensemble'} wins "
                             f"on {counts.get('wins', 0)}, ties on {counts.get('tie', 0)} and loses on "
                             f"{counts.get('loses', 0)} of the {sum(counts.values()) - counts.get('few windows', 0)} "
                             f"series with at least 30 test windows; {counts.get('few windows', 0)} series have fewer, "
                             f"where no claim is made. One seed: the intervals resample windows, not training runs.")
    return "\n".join(lines) + "\n"


def run_suite(specs: list[SeriesSpec], *, out: Path, budget: str = "10k", cells=("rnn", "lstm", "peephole_lstm", "gru"),
              seeds=(0,), families=("forecaster", "esrnn"), max_epochs: int = 40, patience: int = 10,
              lr: float = 3e-3, batch_size: int = 16, threads: int = 1, classical: bool = True,
              baselines_from: Path | None = None, quantiles: list[float] | None = None,
              networks_from: Path | None = None, jobs: int = 1, ray: str | None = None,
              reselect_every: int = 1, tracking_uri: str | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every method on every series in ``specs``; write suite.md and suite.json in ``out``.
    ``baselines_from``: an earlier suite.json whose statistical baselines are reused (not fitted again);
    ``networks_from``: one whose networks and ensembles are reused (not trained again). ``jobs``, ``ray``: where
    the runs train (compare's options of those names); ``reselect_every``: how often the automatic baselines
    search their form (compare's ``--reselect-every``); ``tracking_uri``: the MLflow store (default
    ``out/mlflow.db``; a tracking server when Ray nodes are on other machines)."""
    earlier = json.loads(Path(baselines_from).read_text())["series"] if baselines_from else {}
    trained = json.loads(Path(networks_from).read_text()) if networks_from else None
    if trained is not None:  # the settings that made those networks are the suite's settings
        budget, cells, seeds, families = (trained["settings"][k] for k in ("budget", "cells", "seeds", "families"))
        max_epochs, patience, lr, batch_size, threads = (trained["settings"][k] for k in (
            "max_epochs", "patience", "lr", "batch_size", "threads"))
    out.mkdir(parents=True, exist_ok=True)
    tracking_uri = tracking_uri or f"sqlite:///{(out / 'mlflow.db').resolve()}"
    started = time.perf_counter()
    per_series = {}
    for spec in specs:
        try:
            values = load_values(spec)
        except ImportError as err:
            log(f"skipping {spec.name}: {err} (pip install pmdarima for its datasets)")
            continue
        log(f"{spec.name}: {len(values)} {spec.frequency} values, m={spec.season}, horizon {spec.horizon}")
        per_series[spec.name] = run_series(spec, values, out=out, budget=budget, cells=tuple(cells),
                                           seeds=tuple(seeds), families=tuple(families), max_epochs=max_epochs,
                                           patience=patience, lr=lr, batch_size=batch_size, threads=threads,
                                           classical=classical, tracking_uri=tracking_uri,
                                           reuse=earlier.get(spec.name) if baselines_from else None,
                                           networks=trained["series"][spec.name] if trained else None,
                                           quantiles=quantiles, jobs=jobs, ray=ray,
                                           reselect_every=reselect_every, log=log)
        # written after every series, so that a long run can be read (and resumed from the log) as it goes
        summary = summarise(per_series)
        seconds = time.perf_counter() - started
        settings = {"budget": budget, "cells": list(cells), "seeds": list(seeds), "families": list(families),
                    "max_epochs": max_epochs, "patience": patience, "lr": lr, "batch_size": batch_size,
                    "threads": threads, "classical": classical, "reselect_every": reselect_every,
                    "quantiles": quantiles,
                    "baselines_from": str(baselines_from) if baselines_from else None,
                    "networks_from": str(networks_from) if networks_from else None}
        write_suite(out, per_series, summary, settings, seconds)
    return json.loads((out / "suite.json").read_text())


def write_suite(out: Path, per_series: dict[str, Any], summary: dict[str, Any], settings: dict[str, Any],
                seconds: float, remark: str = "") -> None:
    """suite.md (the tables under a header saying how they were made) and suite.json in ``out``."""
    header = (f"Forecasting suite: {len(per_series)} series, test MASE (lower is better; bold: the lowest on the "
              f"series). Budget {settings['budget']}, seeds {settings['seeds']}, at most {settings['max_epochs']} "
              f"epochs (patience {settings['patience']}), Adam lr {settings['lr']:g}, batch {settings['batch_size']}, "
              f"{settings['threads']} thread(s); {seconds / 60:.1f} min{remark}.")
    (out / "suite.md").write_text(markdown(summary, per_series, header))
    (out / "suite.json").write_text(json.dumps({"settings": settings, "seconds": seconds, **summary,
                                                "series": per_series}, indent=1, default=str) + "\n")


def add_ensembles(path: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Score the ensembles of an earlier suite run from its saved models (its suite.json's ``models`` paths), and
    write its suite.md and suite.json again with them."""
    saved = json.loads(Path(path).read_text())
    labels = [FAMILIES[f][0] for f in saved["settings"]["families"]]
    per_series = saved["series"]
    for name, result in per_series.items():
        spec = SPECS[name]
        series = (load_values(spec) + result["setup"]["shift"]).astype(np.float32)
        _ensembles(result, series, PROPORTIONS, spec, labels, log)
    summary = summarise(per_series)
    write_suite(Path(path).parent, per_series, summary, saved["settings"], saved["seconds"],
                remark=", ensembles added afterwards")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", nargs="+", default=[s.name for s in SUITE], choices=list(SPECS))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "peephole_lstm", "gru"])
    parser.add_argument("--budget", default="10k")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--max-epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="as rnnzoo compare --jobs: each series' runs (and its baselines) in N worker processes")
    parser.add_argument("--reselect-every", type=int, default=1, metavar="K",
                        help="as rnnzoo compare --reselect-every: the automatic baselines search their form at every "
                             "K-th origin (default 1: every origin)")
    parser.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="as rnnzoo compare --ray: each series' runs as Ray tasks on the cluster at ADDRESS "
                             "(auto or HOST:PORT)")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow tracking URI (default: sqlite:///OUT/mlflow.db; a server's http:// URL when "
                             "Ray nodes are on other machines)")
    parser.add_argument("--no-classical", action="store_true",
                        help="naive, drift and seasonal naive only (no AutoETS, AutoARIMA, AutoTheta)")
    parser.add_argument("--baselines-from", type=Path, default=None,
                        help="an earlier suite.json: reuse its statistical baselines' scores on the same windows")
    parser.add_argument("--networks-from", type=Path, default=None, metavar="SUITE_JSON",
                        help="an earlier suite.json: reuse its networks' and ensembles' scores on the same windows "
                             "(and its training settings); only the statistical baselines are fitted")
    parser.add_argument("--quantiles", nargs="+", type=float, default=None, metavar="LEVEL",
                        help="train quantile forecasters at these levels (e.g. 0.1 0.5 0.9): adds each network's "
                             "interval coverage (lowest..highest level) and pinball loss per series")
    parser.add_argument("--out", type=Path, default=Path("runs/forecasting-suite"))
    parser.add_argument("--add-ensembles", type=Path, default=None, metavar="SUITE_JSON",
                        help="score the median ensembles of an earlier run's saved models and rewrite its tables")
    args = parser.parse_args(argv)
    if args.add_ensembles:
        add_ensembles(args.add_ensembles)
        print((args.add_ensembles.parent / "suite.md").read_text())
        return
    result = run_suite([SPECS[n] for n in args.series], out=args.out, budget=args.budget, cells=args.cells,
                       seeds=args.seeds, families=args.families, max_epochs=args.max_epochs, patience=args.patience,
                       lr=args.lr, batch_size=args.batch_size, threads=args.threads,
                       classical=not args.no_classical, baselines_from=args.baselines_from,
                       quantiles=args.quantiles, networks_from=args.networks_from, jobs=args.jobs, ray=args.ray,
                       reselect_every=args.reselect_every, tracking_uri=args.tracking_uri)
    print((args.out / "suite.md").read_text())
    print(f"{result['seconds'] / 60:.1f} min; {args.out / 'suite.json'}")


if __name__ == "__main__":
    main()
