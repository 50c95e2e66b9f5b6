"""The one error type the data pipeline raises for bad input: its message names the file and the fix.

It is :class:`rnnzoo.errors.DataError` (defined below the data layer so that :mod:`rnnzoo.codecs` raises it too).
"""

from rnnzoo.errors import DataError

__all__ = ["DataError"]
