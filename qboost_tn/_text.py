"""Bounded text of user values for messages, reports and files.

A message that names a user's value must stay one readable line, whatever the value: a 10 MB string, a list
of a million items or an alias-expanded config section. :func:`shown` is the one way a message formats such
a value: a ``repr`` whose work and length are bounded (nested containers are abbreviated while the text is
built, never built whole and then cut).
"""
from __future__ import annotations

import reprlib

#: Longest text :func:`shown` returns, in characters.
LIMIT = 300

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxtuple = _REPR.maxlist = _REPR.maxarray = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 8
_REPR.maxdict = 8
_REPR.maxstring = 160
_REPR.maxlong = 60
_REPR.maxother = 160


def cut(text: str, limit: int = LIMIT) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its start and how much was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def shown(value, limit: int = LIMIT) -> str:
    """A ``repr`` of ``value`` for a message: at most about ``limit`` characters, at bounded cost."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ of a user's object must not hide the real error
        text = f"<{type(value).__name__} object>"
    return cut(text, limit)


__all__ = ["LIMIT", "cut", "shown"]
