"""The one "would it fit?" check for sizes a user's number decides, made before anything is allocated.

A parameter such as ``max_bond``, ``n_components`` or ``n_estimators`` (or a model file's declared shapes)
can ask for more memory than the machine has; allocating it ends in a raw ``MemoryError`` at best and in the
kernel killing the process at worst. Code that is about to allocate something a user's number sizes works out
the bytes from the shapes and calls :func:`check_memory` first, which refuses with one line
(:class:`~qboost_tn.errors.ResourceError`) naming what would need how much.

The limit
---------
By default one such allocation may take :data:`MEMORY_FRACTION` (half) of the memory *available* when the
check runs (``MemAvailable`` on Linux: free memory plus what the kernel can reclaim), so a job fits beside what
else runs on the machine. The environment variable ``QBOOST_TN_MEMORY_LIMIT`` sets a fixed limit instead,
in bytes or with a unit (``"8GiB"``, ``"500MB"``, ``"2G"``); a limit above what is available is then the
user's choice.
"""
from __future__ import annotations

import os
import re

from .errors import QBoostTNError, ResourceError
from ._text import shown

#: Fraction of the available memory one checked allocation may take (when no fixed limit is set).
MEMORY_FRACTION = 0.5
#: Environment variable holding a fixed limit in bytes (units allowed), overriding the fraction.
LIMIT_ENV = "QBOOST_TN_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1 << 10, "m": 1000**2, "mb": 1000**2, "mib": 1 << 20,
          "g": 1000**3, "gb": 1000**3, "gib": 1 << 30, "t": 1000**4, "tb": 1000**4, "tib": 1 << 40}


def available_bytes() -> int:
    """Memory the system can give a process now, in bytes."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # psutil is optional: Linux's own figure, then POSIX free pages
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def parse_bytes(text: str) -> int:
    """``"8GiB"``, ``"500 MB"``, ``"1e9"`` -> bytes; a QBoostTNError for anything else."""
    text = str(text)
    match = len(text) <= 64 and re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS or float(match.group(1)) * _UNITS[unit] < 1:
        raise QBoostTNError(f"{LIMIT_ENV}={shown(text)} is not a size: give bytes, or a number with a unit "
                            "such as 8GiB or 500MB")
    return int(float(match.group(1)) * _UNITS[unit])


def memory_limit() -> int:
    """Bytes one checked allocation may take now (see the module docstring)."""
    fixed = os.environ.get(LIMIT_ENV)
    if fixed:
        return parse_bytes(fixed)
    return int(MEMORY_FRACTION * available_bytes())


def number(n) -> str:
    """An integer a user gave (or one derived from it), for a message: ``1,000,000``, or its size in bits when
    it is too large to print (a config may hold a number of thousands of digits)."""
    n = int(n)
    return f"{n:,}" if abs(n) < 10**15 else f"~2^{n.bit_length()}"


def format_bytes(n: float) -> str:
    """``1.5 GiB``, ``12.0 MiB``, ``300 bytes``."""
    if n >= 1 << 70:
        return f"~2^{int(n).bit_length()} bytes"
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def check_memory(nbytes, what: str, hint: str = "") -> None:
    """Refuse with :class:`ResourceError` when ``nbytes`` (an estimate from shapes) exceeds :func:`memory_limit`.

    ``what`` names the thing and the user's number that sizes it (``"MPSClassifier(max_bond=100000): the
    cores"``); ``hint`` says what to do instead. Call it before allocating.
    """
    nbytes = int(nbytes)
    limit = memory_limit()
    if nbytes > limit:
        source = f"{LIMIT_ENV}" if os.environ.get(LIMIT_ENV) else f"{MEMORY_FRACTION:g} of the memory available now"
        raise ResourceError(f"{what} would need {format_bytes(nbytes)} of memory, more than the limit of "
                            f"{format_bytes(limit)} ({source}){'; ' + hint if hint else ''}")


__all__ = ["LIMIT_ENV", "MEMORY_FRACTION", "available_bytes", "check_memory", "format_bytes", "memory_limit",
           "number", "parse_bytes"]
