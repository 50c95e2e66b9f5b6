"""Raw text reaches a word model the way its training text was written: the PTB models normalise as Mikolov's Penn
Treebank text is (lower case, numbers as N, clitics apart, PTB's dropped punctuation dropped), and the share of
tokens read as <unk> is reported beside the perplexity."""

from __future__ import annotations

import pytest

import rnnzoo
from rnnzoo.cli import main
from rnnzoo.tasks.language_model.preprocessing import normalize_ptb

RAW = ("The company's 1,234 shares rose 5.5% in 1990, Mr. Smith said.\n"
       "It doesn't matter (to U.S. investors).\n")


@pytest.fixture(scope="module")
def ptb_model():
    return rnnzoo.load("wordlm-lstm-4600k.ptb")


def test_raw_english_is_written_as_ptb(ptb_model):
    known = ptb_model.preprocessing._vocabulary.stoi
    assert normalize_ptb(RAW, known) == ("the company 's N shares rose N % in N mr. smith said\n"
                                         "it does n't matter to u.s. investors")


def test_ptb_text_is_left_as_it_is(ptb_model):
    from rnnzoo.data.text.ptb import load_ptb_texts

    text = load_ptb_texts()["val"]  # already PTB's: normalising it again changes no token
    assert normalize_ptb(text, ptb_model.preprocessing._vocabulary.stoi).split() == text.split()


def test_perplexity_of_raw_text_reads_few_unknowns_and_says_how_many(ptb_model, tmp_path, capsys):
    raw = RAW * 3
    vocab = ptb_model.preprocessing
    unknown, total = vocab.unknown_rate(raw)
    as_typed = sum(t not in vocab._vocabulary.stoi for t in raw.split()) / len(raw.split())
    assert unknown / total < 0.1 < as_typed  # capitals, commas and digits no longer read as <unk>
    path = tmp_path / "raw.txt"
    path.write_text(raw)
    assert main(["predict", "wordlm-lstm-4600k.ptb", str(path), "--perplexity"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(f"perplexity {ptb_model.perplexity(raw):.4f} ({unknown} of {total} word tokens")
    assert "normalised as the training text (ptb)" in printed


def test_the_command_prints_warnings_without_python_paths(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "rnnzoo"
    result = subprocess.run([str(script), "predict", "wordlm-lstm-4600k.ptb", "zyzzyva qwxv market", "--perplexity"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rnnzoo: UserWarning: 2 of 4 word tokens" in result.stderr and ".py:" not in result.stderr
