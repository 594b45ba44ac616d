"""Atomic file output: a reader never sees a half-written file, and a failure leaves nothing behind.

Temporary files and folders are created with the ordinary modes (``0o666`` / ``0o777``, which the kernel
reduces by the umask at creation), so nothing here ever reads or changes the process umask: changing it,
even for a moment, is process-wide and races with every other thread creating files.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

_ATTEMPTS = 100


def _create_beside(path: Path, make) -> Path:
    """Create a fresh hidden ``.NAME.<random>.part`` beside ``path`` with ``make(candidate)``; return it.

    ``make`` must fail with ``FileExistsError`` when the candidate exists (``O_EXCL`` / ``mkdir``), so two
    writers never share a temporary.
    """
    for _ in range(_ATTEMPTS):
        candidate = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
        try:
            make(candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free temporary name beside {path} after {_ATTEMPTS} attempts")


def _new_file(candidate: Path) -> None:
    # Mode 0o666 as open() uses: the umask (and any default ACL of the folder) applies at creation, so the
    # finished file has exactly the mode an ordinary write would have given it.
    os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path in the target's directory; on success move it over ``path``.

    The temporary file lives beside the target so that ``os.replace`` is a same-file-system rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_beside(path, _new_file)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a hidden staging folder beside ``path``; on success rename it to ``path`` (which must not exist).

    A reader never sees a half-filled output folder, and a failure leaves nothing behind.
    """
    import shutil

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"output folder {path} already exists; choose a new --out")
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkdir's default mode 0o777 less the umask: the mode an ordinary mkdir gives the finished folder.
    staging = _create_beside(path, os.mkdir)
    try:
        yield staging
        # Claim the name with an atomic mkdir, then rename over the empty folder we own: a plain rename would
        # silently replace an empty folder another run created at ``path`` meanwhile.
        try:
            os.mkdir(path)
        except FileExistsError:
            raise FileExistsError(f"output folder {path} appeared while this run was writing; "
                                  "choose a new --out") from None
        try:
            staging.rename(path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_text(path, text: str) -> Path:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, obj) -> Path:
    return write_text(path, json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n")


def jsonable(obj):
    """``obj`` with numpy values made plain and NaN/inf made ``None`` (JSON has no NaN)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj

