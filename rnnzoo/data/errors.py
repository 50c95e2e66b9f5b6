"""The one error type the data pipeline raises for bad input: its message names the file and the fix."""


class DataError(ValueError):
    """Input data that cannot be used as it is (missing, empty, wrong format, NaN/inf, too short).

    Messages name the offending file (or array) and say what to do, so a user can fix their data without
    reading rnnzoo's source.
    """
