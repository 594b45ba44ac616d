"""Atomic file output: a reader never sees a half-written file, and a failure leaves nothing behind."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path in the target's directory; on success move it over ``path``.

    The temporary file lives beside the target so that ``os.replace`` is a same-file-system rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600; a finished file gets the mode an ordinary open() would have given it.
        os.chmod(tmp, 0o666 & ~_umask())
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
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        yield staging
        # mkdtemp creates 0700; the finished folder gets the mode an ordinary mkdir would have given it.
        os.chmod(staging, 0o777 & ~_umask())
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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

