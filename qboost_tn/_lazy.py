"""Packages whose public names load on first use (PEP 562), so a light import stays light."""
from __future__ import annotations

import importlib
import sys

from ._text import shown


def lazy_exports(package: str, exports: dict, prefix: str = ""):
    """``(__getattr__, __dir__)`` for ``package``: ``name`` is read from module ``prefix + exports[name]``
    the first time it is asked for, then kept in the package's namespace (later look-ups skip the hook)."""
    namespace = vars(sys.modules[package])

    def __getattr__(name):
        if name in exports:
            value = getattr(importlib.import_module(prefix + exports[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {shown(package)} has no attribute {shown(name)}")

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
