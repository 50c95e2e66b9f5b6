"""Runs every row of the bad-input corpus (tests/support/bad_input_corpus.py): each must give its clear error or its correct
result; and docs/refusals.md must be what docs/make_refusals.py generates from the corpus."""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.bad_input_corpus import CASES
from tests.support.paths import REPO

ROOT = REPO


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_corpus_case(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # anything a case writes (an MLflow store, a run folder) stays in its folder
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    if case.error is None:
        assert case.check(case.run(tmp_path)), case.outcome
    else:
        with pytest.raises(case.error, match=case.message):
            case.run(tmp_path)


def test_ids_are_unique():
    assert len({c.id for c in CASES}) == len(CASES)


def test_docs_page_is_generated_from_the_corpus():
    spec = importlib.util.spec_from_file_location("make_refusals", ROOT / "docs" / "make_refusals.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "refusals.md").read_text() == module.render(CASES), \
        "docs/refusals.md is stale: run python docs/make_refusals.py"
