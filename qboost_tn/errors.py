"""The project's one error type for user-level mistakes.

Anything a user can cause by what they pass or point at (a bad parameter, a missing or malformed file, a
config that does not validate, data with one class only) raises :class:`QBoostTNError` or a subclass, with a
message that names the problem. The command line prints such an error as one line (a traceback only under
``--debug``); anything else is a bug and keeps its traceback.

It subclasses :class:`ValueError`, so code written against scikit-learn's convention (``except ValueError``)
keeps working.
"""
from __future__ import annotations


class QBoostTNError(ValueError):
    """A user-level mistake: bad input, parameter, config or file. The message says what and where."""


class DataError(QBoostTNError):
    """A data set or data file that cannot be used as given (missing, malformed, wrong shape, one class)."""


class ModelFileError(QBoostTNError):
    """A saved model that cannot be loaded: missing, truncated, tampered or of another kind."""


class ResourceError(QBoostTNError):
    """A size a parameter or file asks for (memory, variables) that would not fit: refused before allocating."""


__all__ = ["DataError", "ModelFileError", "QBoostTNError", "ResourceError"]
