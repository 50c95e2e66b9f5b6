"""Numeric command-line options, checked when the arguments are parsed: a value below an option's minimum is
refused there, with the allowed range, instead of quietly becoming a default (``--max-epochs 0`` was 100 epochs) or
failing later with a traceback (``--horizon -3``). Plain argparse types; no heavy import."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (allowed: {minimum} or more)") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum: allowed {minimum} or more")
        return value

    parse.__name__ = f"whole number >= {minimum}"  # argparse names the type in its messages
    return parse


def _number(text: str, accepts: Callable[[float], bool], allowed: str, give: str) -> float:
    """``text`` as a float that ``accepts`` takes; else an argparse error saying what is ``allowed``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (allowed: {allowed})") from None
    if not accepts(value):
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give {give}")
    return value


def positive_number(text: str) -> float:
    """An argparse ``type`` for a finite number > 0."""
    return _number(text, lambda v: 0 < v < float("inf"), "above 0", "a finite number above 0")


AT_LEAST_0, AT_LEAST_1 = whole_number(0), whole_number(1)


def non_negative_number(text: str) -> float:
    """An argparse ``type`` for a finite number >= 0 (0 turns an option off)."""
    return _number(text, lambda v: 0 <= v < float("inf"), "0 or above", "a finite number, 0 or above")


def unit_interval(text: str) -> float:
    """An argparse ``type`` for a number in [0, 1) (a dropout rate, an averaging decay)."""
    return _number(text, lambda v: 0 <= v < 1, "0 up to, not including, 1",
                   "a number from 0 up to, not including, 1")
