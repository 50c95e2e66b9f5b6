"""Verdicts on user data no test ships (issue 25's "done when"): write each as a user would hold it, from what
installed packages bundle, and run `rnnzoo compare` on it with its defaults, each into its own folder.

- a non-seasonal random walk: Microsoft's monthly closing price 1986-2017 (pmdarima's msft, last close per month)
- a seasonal monthly series: El Niño sea surface temperatures 1950-2010 (statsmodels' elnino, months as rows)
- a text of ~25k words: the first 25,000 words of Python's own help topics (pydoc_data.topics, English prose)
- a folder of real recordings: people saying letters in 20 languages (Debian's klettres-data, 30 clips per
  language; built by `OUT=<out>/data/recordings MAX_PER_CLASS=30 scripts/recordings/build.sh`, GPL-2+, not shipped)

    python scripts/user_data_verdicts.py --out runs/user-data   # then read <out>/<name>/results.md
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def write_msft(folder: Path) -> Path:
    import pmdarima.datasets

    daily = pmdarima.datasets.load_msft()
    daily["Date"] = daily["Date"].astype("datetime64[ns]")
    monthly = daily.set_index("Date")["Close"].resample("MS").last().dropna()
    path = folder / "msft_monthly.csv"
    monthly.rename("close").rename_axis("month").reset_index().to_csv(path, index=False)
    return path


def write_elnino(folder: Path) -> Path:
    import pandas as pd
    import statsmodels.api as sm

    wide = sm.datasets.elnino.load_pandas().data  # YEAR, JAN .. DEC
    long = wide.melt(id_vars="YEAR", var_name="month_name", value_name="sst")
    long["month"] = pd.to_datetime(long["YEAR"].astype(int).astype(str) + "-" + long["month_name"], format="%Y-%b")
    path = folder / "elnino_sst.csv"
    long.sort_values("month")[["month", "sst"]].to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def write_text(folder: Path, words: int = 25_000) -> Path:
    from pydoc_data.topics import topics

    text = " ".join(topics[key] for key in sorted(topics))
    path = folder / "python_help.txt"
    tokens = text.split()
    lines = [" ".join(tokens[i:i + 15]) for i in range(0, min(words, len(tokens)), 15)]
    path.write_text("\n".join(lines) + "\n")
    return path


def recordings(folder: Path) -> Path:
    path = folder / "recordings"
    if not path.is_dir():
        raise SystemExit(f"{path} is missing: build it first with OUT={path} MAX_PER_CLASS=30 "
                         f"scripts/recordings/build.sh")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/user-data"))
    parser.add_argument("--only", nargs="+", choices=["msft", "elnino", "text", "recordings"],
                        default=["msft", "elnino", "text", "recordings"])
    args = parser.parse_args(argv)
    data = args.out / "data"
    data.mkdir(parents=True, exist_ok=True)
    jobs = {"msft": (write_msft, []), "elnino": (write_elnino, []), "text": (write_text, ["--level", "word"]),
            "recordings": (recordings, [])}
    for name in args.only:
        write, extra = jobs[name]
        path = write(data)
        command = [sys.executable, "-m", "rnnzoo.cli", "compare", "--data", str(path), "--out", str(args.out / name),
                   "--tracking-uri", f"sqlite:///{(args.out / 'mlflow.db').resolve()}", *extra]
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
