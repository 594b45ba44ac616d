"""Download-and-cache for data sets that are not shipped: checksum-verified, atomic, clear when offline."""
from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .._io import atomic_path

TIMEOUT_S = 60


def cache_dir() -> Path:
    """Where downloads are kept: ``$QBOOST_TN_CACHE``, else ``~/.cache/qboost-tn``."""
    return Path(os.environ.get("QBOOST_TN_CACHE", Path.home() / ".cache" / "qboost-tn"))


def md5sum(path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_url(url: str):
    # Kept as its own function so tests can replace the network with a local file.
    return urllib.request.urlopen(url, timeout=TIMEOUT_S)


def fetch(url: str, dest, md5: str | None) -> Path:
    """Return ``dest``, downloading ``url`` into it first if it is not there (or fails its checksum).

    The download goes to a temporary file beside ``dest`` and is renamed into place only after its MD5
    matches, so an interrupted or corrupted download never poisons the cache.

    Raises
    ------
    RuntimeError
        When the host cannot be reached (offline) or the download does not match ``md5``; the message
        says how to supply the file locally instead.
    """
    dest = Path(dest)
    if dest.is_file() and (md5 is None or md5sum(dest) == md5):
        return dest
    try:
        with atomic_path(dest) as tmp:
            with _open_url(url) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
            got = md5sum(tmp)
            if md5 is not None and got != md5:
                raise RuntimeError(f"download of {url} failed its checksum (md5 {got}, expected {md5}); "
                                   "nothing was cached")
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError(
            f"cannot download {url} ({getattr(exc, 'reason', exc)}). If this machine is offline, "
            f"download the file elsewhere and pass its location with path=..., or place it at {dest}"
        ) from exc
    return dest
