"""Download-and-cache for data sets that are not shipped: checksum-verified, atomic, clear when offline."""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .._io import atomic_path
from .._text import cut
from ..errors import DataError

TIMEOUT_S = 60


def cache_dir() -> Path:
    """Where downloads are kept: ``$QBOOST_TN_CACHE``, else ``~/.cache/qboost-tn``.

    An empty ``QBOOST_TN_CACHE`` counts as unset (as for ``XDG_CACHE_HOME``), never as the current folder.
    """
    value = os.environ.get("QBOOST_TN_CACHE", "")
    return Path(value).expanduser() if value.strip() else Path.home() / ".cache" / "qboost-tn"


def _usable_folder(folder: Path) -> None:
    """Create ``folder`` if needed; raise :class:`DataError` naming it when it cannot hold downloads."""
    hint = "set QBOOST_TN_CACHE to a writable folder, or pass the data's path=..."
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise DataError(f"download cache: a file stands where a folder must be (path={blocker}); {hint}") from None
    except OSError as exc:
        raise DataError(f"download cache: cannot create the folder: {exc.strerror or exc} (path={folder}); "
                        f"{hint}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"download cache: the folder is not writable (path={folder}); {hint}")


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
    DataError
        One line naming what failed and ``path=``: a cache folder that is missing and cannot be made, not a
        folder, or read-only; a host that cannot be reached (offline); a download that does not match ``md5``
        or cannot be written. The message says how to supply the file locally instead.
    """
    dest = Path(dest)
    if dest.is_file() and (md5 is None or md5sum(dest) == md5):
        return dest
    _usable_folder(dest.parent)
    try:
        with atomic_path(dest) as tmp:
            try:
                with _open_url(url) as response, open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError,
                    ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise DataError(f"cannot download {url}: {cut(reason)} (path={dest}). If this machine is offline, "
                                "download the file elsewhere and pass its location with path=..., or place it "
                                "at that path") from None
            got = md5sum(tmp)
            if md5 is not None and got != md5:
                raise DataError(f"download of {url} failed its checksum (md5 {got}, expected {md5}); nothing was "
                                f"cached (path={dest})")
    except OSError as exc:  # the cache, not the network: disk full, folder removed meanwhile
        raise DataError(f"cannot write the download: {exc.strerror or exc} (path={dest})") from None
    return dest
