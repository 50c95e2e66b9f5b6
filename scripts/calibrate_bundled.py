"""Calibrate the intervals of bundled quantile forecasters after training (conformalized quantile regression on
the validation split of the run that trained them), and rewrite each entry with its test metrics measured again.

Usage: python scripts/calibrate_bundled.py quantile-forecaster-gru-20k.co2 [...]

For each entry: the bundled weights go into the same model built with ``calibrated=True`` (the network's weights
unchanged); :func:`rnnzoo.tasks.forecaster.calibration.calibrate_intervals` sets its interval offsets on the
validation split of the DataModule the compare run used (its results.json, ``info.extra["compare_results"]``); the
test metrics are measured again through the Lightning test loop (``bundle_weights.measure_test_metrics``). The
entry keeps its provenance (seed, run id, training commit) and records the metrics before calibration under
``extra["uncalibrated"]``. Nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundle_weights import measure_test_metrics  # noqa: E402

import rnnzoo  # noqa: E402
from rnnzoo.compare.presets import get_preset  # noqa: E402
from rnnzoo.hub import WEIGHTS_NAME, save_pretrained, sha256_file, write_pretrained_info  # noqa: E402
from rnnzoo.mlflow_export import git_commit  # noqa: E402
from rnnzoo.registry import get_pretrained_info  # noqa: E402
from rnnzoo.tasks.forecaster import Forecaster  # noqa: E402
from rnnzoo.tasks.forecaster.calibration import calibrate_intervals  # noqa: E402
from rnnzoo.weights import WEIGHTS_DIR, write_index  # noqa: E402


def calibrate_entry(name: str) -> dict:
    """Calibrate one bundled entry in place; returns its new metrics."""
    info = get_pretrained_info(name)
    model = rnnzoo.load(name)
    if model.config.get("calibrated"):
        raise SystemExit(f"{name} is calibrated already")
    calibrated = Forecaster(**{**model.config, "calibrated": True})
    missing, unexpected = calibrated.load_state_dict(model.state_dict(), strict=False)
    if missing != ["interval_offsets"] or unexpected:
        raise SystemExit(f"{name}: unexpected keys when copying the weights: missing {missing}, extra {unexpected}")
    calibrated.preprocessing, calibrated.architecture = model.preprocessing, model.architecture
    meta = json.loads(Path(info.extra["compare_results"]).read_text())["meta"]
    preset = get_preset(meta["data"])
    data = preset.datamodule(**{**preset.datamodule_defaults, **meta["datamodule_options"]})
    data.prepare_data()
    data.setup("fit")
    summary = calibrate_intervals(calibrated, data)
    metrics = measure_test_metrics(calibrated, meta, list(info.metrics))
    folder = WEIGHTS_DIR / name
    save_pretrained(calibrated, folder)
    extra = {**info.extra, "uncalibrated": info.metrics, "calibrated_at_commit": git_commit(Path(__file__).parent),
             "calibration": {"split": summary["split"], "n_windows": summary["n_windows"],
                             "validation_coverage": [[p["coverage_before"], p["coverage_after"]]
                                                     for p in summary["pairs"]]}}
    new = dataclasses.replace(info, metrics=metrics, extra=extra, weights_sha256=sha256_file(folder / WEIGHTS_NAME))
    write_pretrained_info(calibrated, folder, new)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("entries", nargs="+")
    for name in parser.parse_args().entries:
        print(f"{name}: {calibrate_entry(name)}")
    write_index()


if __name__ == "__main__":
    main()
