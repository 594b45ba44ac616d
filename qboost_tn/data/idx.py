"""Reader for the IDX format of MNIST and Fashion-MNIST (``*-idx3-ubyte.gz`` images, ``*-idx1-ubyte.gz`` labels).

The reader streams: it reads the header, checks the size it declares against :data:`MAX_BYTES` (and, for an
uncompressed file, against the file's length), then decompresses exactly that many bytes plus one to detect
trailing data. A gzip bomb - a small file that inflates to gigabytes - is therefore refused after at most
``declared + 1`` bytes, never decompressed whole.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .._memory import check_memory
from ..errors import DataError

_UBYTE = 0x08
#: Largest payload accepted, in bytes (the full MNIST training images hold 47 MB).
MAX_BYTES = 1 << 30
_CHUNK = 1 << 20


def _read_exactly(fh, n: int, path: Path, what: str) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise DataError(f"{path}: truncated {what} ({len(data)} of {n} bytes)")
    return data


def _read_header(fh, path: Path) -> tuple[int, ...]:
    head = fh.read(4)
    if len(head) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(head)} bytes)")
    zero, dtype, ndim = struct.unpack(">HBB", head)
    if zero != 0 or ndim == 0:
        raise DataError(f"{path}: not an IDX file (bad magic number {head.hex()})")
    if dtype != _UBYTE:
        raise DataError(f"{path}: IDX data type 0x{dtype:02x} is not supported (only unsigned bytes, 0x08)")
    return struct.unpack(f">{ndim}I", _read_exactly(fh, 4 * ndim, path, "IDX header"))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) of unsigned bytes into an array.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataError
        If the file is not IDX, holds a type other than unsigned bytes, declares more than :data:`MAX_BYTES`,
        or is truncated, corrupt or longer than its header says.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    compressed = path.suffix == ".gz"
    try:
        with (gzip.open if compressed else open)(path, "rb") as fh:
            shape = _read_header(fh, path)
            expected = math.prod(shape)
            header = 4 + 4 * len(shape)
            # Zero-length dimensions make an empty array, but numpy still refuses shapes whose other
            # dimensions multiply past its size limit: bound those too.
            if max(expected, math.prod(d for d in shape if d)) > MAX_BYTES:
                raise DataError(f"{path}: IDX header declares shape {shape} ({expected:,} bytes), more than the "
                                f"{MAX_BYTES:,} bytes this reader accepts; the file is corrupt or not a data set")
            if not compressed and path.stat().st_size != header + expected:
                body = path.stat().st_size - header
                what = "truncated" if body < expected else "has trailing bytes"
                raise DataError(f"{path}: IDX file {what}: header promises shape {shape} ({expected} bytes), "
                                f"file holds {body}")
            check_memory(expected, f"{path}: the IDX data of shape {shape}")
            # np.empty only reserves address space: a truncated file never touches the pages it lacks.
            out = np.empty(expected, dtype=np.uint8)
            view, filled = memoryview(out), 0
            while filled < expected:
                got = fh.readinto(view[filled:filled + _CHUNK])
                if not got:
                    raise DataError(f"{path}: IDX file truncated: header promises shape {shape} "
                                    f"({expected} bytes), file holds {filled}")
                filled += got
            if fh.read(1):
                raise DataError(f"{path}: IDX file has trailing bytes after the {expected} its header promises "
                                f"(shape {shape})")
    except (OSError, EOFError, zlib.error) as exc:
        what = "corrupt or truncated gzip stream" if compressed else "cannot be read"
        raise DataError(f"{path}: {what} ({exc})") from exc
    return out.reshape(shape)


def write_idx(path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as gzip-compressed IDX; used by tests and for caching converted data."""
    from .._io import atomic_path

    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, _UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with atomic_path(path) as tmp, gzip.open(tmp, "wb") as fh:
        fh.write(header + array.tobytes())
