"""The documentation site builds with ``mkdocs build --strict``: broken nav entries, missing pages, links to
missing files and API docstrings griffe cannot parse all fail it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mkdocs_build_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's end-of-life banner, not a build problem
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    site = tmp_path / "site"
    # The pages of the nav and their figures were rendered, and the API page holds the inspect functions.
    for page in ["index.html", "rnn-vs-lstm-vs-gru/index.html", "inspect/index.html", "api/index.html"]:
        assert (site / page).is_file(), page
    assert (site / "figures" / "gradient-lag.png").stat().st_size > 10_000
    assert "gradient_vs_lag" in (site / "api" / "index.html").read_text()
    assert not (site / "make_figures.py").exists()  # the script is the figures' source, not site content
