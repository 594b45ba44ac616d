"""The one rule every project estimator's ``__init__`` follows (scikit-learn's): store each argument, unchanged,
under its own name, and do nothing else (validation belongs to ``fit``)."""
from __future__ import annotations


def store_params(estimator, arguments: dict) -> None:
    """Set ``estimator.<name> = value`` for each argument ``__init__`` received.

    Called as ``store_params(self, locals())`` first thing in ``__init__``, where ``locals()`` holds exactly
    the arguments (and ``self``); ``get_params`` and ``clone`` read the same names back from the signature, so
    a parameter cannot be declared and then forgotten.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):  # __class__: the cell a method using super() carries
            setattr(estimator, name, value)
