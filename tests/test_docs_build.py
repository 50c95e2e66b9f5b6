"""The documentation site builds with ``mkdocs build --strict``: broken nav entries, missing pages, links to
missing files and API docstrings griffe cannot parse all fail it. The site is built once for the module; the
tests below read it."""

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from tests.support.paths import REPO

ROOT = REPO
MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's end-of-life banner, not a build problem
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return site


def test_mkdocs_build_strict(site):
    # The pages of the nav and their figures were rendered, and the API page holds the inspect functions.
    for page in ["index.html", "rnn-vs-lstm-vs-gru/index.html", "inspect/index.html", "api/index.html"]:
        assert (site / page).is_file(), page
    assert (site / "figures" / "gradient-lag.png").stat().st_size > 10_000
    assert "gradient_vs_lag" in (site / "api" / "index.html").read_text()
    assert not (site / "make_figures.py").exists()  # the script is the figures' source, not site content
    assert not (site / "hooks").exists()  # the MathML hook builds the site; it is not part of it


def math_elements(page: Path) -> list[tuple[ElementTree.Element, str]]:
    """Every <math> element of a built page, parsed (so well-formed), with the TeX of its annotation."""
    found = []
    for markup in re.findall(r"<math\b.*?</math>", page.read_text(), flags=re.S):
        element = ElementTree.fromstring(markup)
        annotation = element.find(f".//{MATHML_NS}annotation")
        found.append((element, "" if annotation is None else annotation.text))
    return found


def test_cell_equations_render_as_mathml(site):
    """docs/layers.md's TeX became MathML at build time (docs/hooks/mathml.py): display blocks for the four
    cells' step equations, each with the terms the code computes; no TeX is left for a script to typeset."""
    page = site / "layers" / "index.html"
    maths = math_elements(page)
    blocks = [tex for element, tex in maths if element.get("display") == "block"]
    assert len(blocks) == 4, blocks  # RNN, LSTM, peephole LSTM, GRU
    rnn, lstm, peephole, gru = (" ".join(tex.split()) for tex in blocks)
    assert r"h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})" in rnn
    assert r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t" in lstm and r"p_i" not in lstm
    # peepholes: c_{t-1} into the input and forget gates, the new c_t into the output gate
    assert r"b_{hi} + p_i \odot c_{t-1})" in peephole and r"b_{hf} + p_f \odot c_{t-1})" in peephole
    assert r"b_{ho} + p_o \odot c_t)" in peephole
    # torch's GRU: the reset gate multiplies the recurrent product, after the matmul
    assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in gru
    assert r"h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}" in gru
    for element, _ in maths:  # the aligned lines are a MathML table, not a literal '&'
        assert not any(mi.text == "&" for mi in element.iter(f"{MATHML_NS}mi"))
    text = html.unescape(re.sub(r"<math\b.*?</math>|<code>.*?</code>", "", page.read_text(), flags=re.S))
    assert "$" not in text and r"\odot" not in text
    assert len(math_elements(site / "rnn-vs-lstm-vs-gru" / "index.html")) >= 10  # its cell table's equations


def test_math_needs_no_cdn(site):
    """No built page loads a script from another host, nor any math typesetter: math is MathML in the page."""
    for page in site.rglob("*.html"):
        content = page.read_text()
        scripts = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]*)\"", content)
        assert not [src for src in scripts if re.match(r"(https?:)?//", src)], (page, scripts)
        assert not re.search(r"mathjax|katex", " ".join(scripts), flags=re.I), (page, scripts)
        # stylesheets from other hosts: only the theme's web font (Roboto), none for math
        sheets = re.findall(r"<link\b[^>]*\bhref=\"((?:https?:)?//[^\"]*)\"", content)
        fonts = ("https://fonts.googleapis.com/", "https://fonts.gstatic.com")
        assert all(href.startswith(fonts) for href in sheets), (page, sheets)
    assert "math.css" in (site / "layers" / "index.html").read_text()
    assert (site / "stylesheets" / "math.css").is_file()


def test_tex_that_would_render_badly_fails_the_build():
    """latex2mathml writes `aligned` as a literal '&' and a line break MathML Core ignores: the hook refuses it
    (so `mkdocs build` fails) and points to align*, which becomes a MathML table."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_mathml_hook", ROOT / "docs" / "hooks" / "mathml.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    with pytest.raises(ValueError, match=r"align\*"):
        hook.tex_to_mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", "block")
    mathml = hook.tex_to_mathml(r"\begin{align*} a &= b \\ c &= d \end{align*}", "block")
    element = ElementTree.fromstring(mathml)
    assert len(element.findall(f".//{MATHML_NS}mtr")) == 2
    assert element.find(f".//{MATHML_NS}annotation").text.startswith(r"\begin{align*}")
