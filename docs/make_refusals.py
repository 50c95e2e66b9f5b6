"""Write docs/refusals.md from the bad-input corpus (tests/support/bad_input_corpus.py): python docs/make_refusals.py"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = """# What rnnzoo refuses, and why

Every row is a mistake a new user was seen to make, run by the test suite on every change
(`tests/support/bad_input_corpus.py`, `tests/test_bad_input_corpus.py`); this page is generated from that table by
`python docs/make_refusals.py`. An **error** names the problem and the fix (the pattern its message matches is
quoted); a **result** is a correct answer where rnnzoo used to be silently wrong.

Choices made on the way, and why:

- **Padding is zeroed before the time loops.** Values past a sequence's length never reach its outputs, but a
  NaN there used to reach the weight gradients (0 x NaN is NaN). Zeroing with `torch.where` keeps them out.
- **Numbers are read as spreadsheets write them** (`rnnzoo/codecs/numbers.py`): thousands separators and decimal
  commas in the one notation every cell of a column fits; cells that two notations read differently (`"1,234"`)
  are an error asking which. A column that is numbers but for some cells is refused naming the cell, never left
  out. Columns that count time (dates, years, a row number) are never picked as the values to forecast.
- **Value checks run after the cast to float32**, the dtype the model computes in: 1e39 is an error, not NaN.
- **Numeric options are checked when parsed**: below their minimum they are refused with the allowed range.
- **Every network call has a bound**: Hub reads and writes wait at most `RNNZOO_HUB_TIMEOUT` seconds (6) for a
  connection or the next bytes; the MLflow probe makes one real write with a 5 s timeout and no retries, and
  MLflow's own retries are bounded (`MLFLOW_HTTP_REQUEST_MAX_RETRIES` 3, timeout 30 s) unless the user set them.
- **A comparison never replaces another**: without `--out` each gets a new folder; an `--out` holding a
  comparison is refused unless `--overwrite`. SIGINT/SIGTERM end its MLflow runs as KILLED, and a RUNNING run a
  killed process left behind for the same folder is marked FAILED at the next start.
- **Saves go through a staging folder.** A save that fails part-way leaves an existing model whole.
- **A new SQLite MLflow store is created under a file lock** (`mlflow.db.lock`): concurrent first runs raced in
  MLflow's schema migration and could leave the store broken; a store a crash left half-migrated is reported
  with what to do. **The experiment is found or created race-free**: runs started together that all find no
  experiment all create it, and MLflow refuses all but the first (CI failed on this once); the others now use
  the one created. A deleted experiment of the same name is an error with the `mlflow experiments restore` command.
- **A tracking server is probed on its API, not only /health**, so a broken server fails in a second instead of
  after minutes of client retries.
- **`rnnzoo test`/`validate` need `--ckpt_path`**: metrics of an untrained model are not a result.
- **A resumed fit continues its MLflow run** (recorded beside the checkpoints in `mlflow_run.json`), so the
  killed run does not stay RUNNING beside a new one and the metric history is one. (MLflowLogger logs in the
  background: a metric queued in the instant of a SIGKILL can be lost; `synchronous: true` in the logger's
  init_args trades speed for that.)

"""


def render(cases) -> str:
    lines = [HEADER.rstrip("\n"), ""]
    area = None
    for case in cases:
        if case.area != area:
            area = case.area
            lines += ["", f"## {area[0].upper()}{area[1:]}", "", "| input | rnnzoo's answer |", "|---|---|"]
        if case.error is None:
            answer = f"result: {case.outcome}"
        else:
            names = case.error if isinstance(case.error, tuple) else (case.error,)
            answer = case.outcome or f"{' / '.join(e.__name__ for e in names)} matching `{case.message}`"
            answer = ("error: " + answer) if not answer.startswith("exit") else answer
        lines.append(f"| {case.what} | {answer.replace('|', '¦')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # the repository root: tests.support is a package there
    from tests.support.bad_input_corpus import CASES

    (ROOT / "docs" / "refusals.md").write_text(render(CASES))
    print(f"wrote docs/refusals.md ({len(CASES)} cases)")
