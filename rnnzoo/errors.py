"""The one base class of rnnzoo's errors: a command catches :class:`RnnzooError` and prints its message.

Each error also derives from the built-in it always was (``ValueError``, ``OSError``), so existing ``except``
clauses keep working. A leaf module: it imports nothing of rnnzoo.
"""


class RnnzooError(Exception):
    """Bad input, a bad file or an unreachable service, with a message that names the problem and the fix."""


class DataError(RnnzooError, ValueError):
    """Input data that cannot be used as it is (missing, empty, wrong format, NaN/inf, too short).

    Messages name the offending file (or array) and say what to do, so a user can fix their data without
    reading rnnzoo's source. Defined here, at the bottom of the import order, so that the codecs below
    ``rnnzoo.data`` raise it too; ``rnnzoo.data.errors`` re-exports it.
    """
