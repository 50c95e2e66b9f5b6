"""MkDocs hook (mkdocs.yml `hooks:`): TeX in the docs becomes MathML when the site is built.

Write `$...$` for inline math and a paragraph of its own `$$...$$` for display math (`\\begin{align*}` for several
aligned lines). pymdownx.arithmatex finds the math (its smart-dollar rules: `$` followed or preceded by a space is
not math, `\\$` is a dollar, code spans stay code); latex2mathml (pure Python, no dependencies) turns the TeX into
MathML, which browsers render natively (MathML Core: Chrome/Edge 109+, Firefox, Safari). No JavaScript, fonts or
CDN are needed when a page is read. docs/stylesheets/math.css adds the table alignment MathML Core leaves to CSS.

mkdocstrings renders docstrings with the same extension list, so `$...$` in a docstring of docs/api.md becomes
math too (a lone `$`, as in `$5 or $6`, stays a dollar).
"""

from __future__ import annotations

import html
from xml.etree import ElementTree
from xml.etree.ElementTree import SubElement

from latex2mathml.converter import convert
from pymdownx.arithmatex import ArithmatexExtension, BlockArithmatexProcessor, InlineArithmatexPattern


def tex_to_mathml(tex: str, display: str) -> str:
    """One `<math>` element for ``tex`` (``display`` "inline" or "block"), the TeX kept as its annotation.

    Raises ValueError for TeX that latex2mathml turns into broken or non-rendering MathML (it writes `aligned`
    and `gathered` as a literal `&` and a MathML 3 line break), so a bad formula fails `mkdocs build` instead of
    showing garbage.
    """
    tex = tex.strip()
    mathml = convert(tex, display=display)
    try:
        ElementTree.fromstring(mathml)
    except ElementTree.ParseError as error:
        raise ValueError(f"latex2mathml wrote invalid MathML for {tex!r} ({error}); for aligned lines use "
                         "\\begin{align*} ... \\end{align*}") from None
    if "linebreak=" in mathml:
        raise ValueError(f"{tex!r} needs a line break MathML Core cannot render; use \\begin{{align*}} ... "
                         "\\end{align*} for several lines")
    head, rest = mathml.split(">", 1)
    body = rest[: -len("</math>")]
    annotation = f'<annotation encoding="application/x-tex">{html.escape(tex, quote=False)}</annotation>'
    return f"{head}><semantics><mrow>{body}</mrow>{annotation}</semantics></math>"


class _InlineMath(InlineArithmatexPattern):
    def __init__(self, pattern, config, md):
        super().__init__(pattern, config)
        self.md = md

    def handleMatch(self, m, data):
        el, start, end = super().handleMatch(m, data)
        if isinstance(el, str):  # an escaped dollar, not math
            return el, start, end
        return self.md.htmlStash.store(tex_to_mathml(el.text, "inline")), start, end


class _BlockMath(BlockArithmatexProcessor):
    def generic_output(self, parent, math):
        el = SubElement(parent, self.block_tag, {"class": "arithmatex"})
        el.text = self.parser.md.htmlStash.store(tex_to_mathml(math, "block"))


class MathMLExtension(ArithmatexExtension):
    """pymdownx.arithmatex's syntax, with MathML written in place of its MathJax/KaTeX placeholders."""

    def __init__(self, **kwargs):
        kwargs = {"generic": True, "tex_inline_wrap": ["", ""], "tex_block_wrap": ["", ""],
                  "inline_syntax": ["dollar"], "block_syntax": ["dollar"], **kwargs}
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        super().extendMarkdown(md)
        config = self.getConfigs()
        inline = md.inlinePatterns["arithmatex-inline"]
        md.inlinePatterns.register(_InlineMath(inline.pattern, config, md), "arithmatex-inline", 189.9)
        block = md.parser.blockprocessors["arithmatex-block"]
        md.parser.blockprocessors.register(_BlockMath(block.pattern.pattern, config, md), "arithmatex-block", 79.9)


def on_config(config):
    config.markdown_extensions.append(MathMLExtension())
    return config
