"""How much memory this machine can still give, to refuse before allocating what cannot fit."""
from __future__ import annotations

import os

from .errors import QBoostTNError


def available_bytes() -> int | None:
    """Memory a new allocation can use without swapping (Linux ``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def check_fits(n_bytes: int, what: str, hint: str = "", error=QBoostTNError) -> None:
    """Raise ``error`` naming ``what`` when ``n_bytes`` exceed the memory available now."""
    available = available_bytes()
    if available is not None and n_bytes > available:
        raise error(f"{what} would take {_gib(n_bytes)} of memory, but only {_gib(available)} is available"
                    + (f"; {hint}" if hint else ""))


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


__all__ = ["available_bytes", "check_fits"]
