"""The comparison's own refusal: an option that does not fit the data or the output folder."""

from __future__ import annotations

from rnnzoo.errors import RnnzooError


class CompareOptionError(RnnzooError, ValueError):
    """An option that does not fit the data (e.g. ``--quantiles`` for music): the command exits 2 with it."""
