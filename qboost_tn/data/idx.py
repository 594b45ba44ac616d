"""Reader for the IDX format of MNIST and Fashion-MNIST (``*-idx3-ubyte.gz`` images, ``*-idx1-ubyte.gz`` labels)."""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

_UBYTE = 0x08


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) of unsigned bytes into an array.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not IDX, holds a type other than unsigned bytes, or is truncated or corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt or truncated gzip stream ({exc})") from exc
    if len(raw) < 4:
        raise ValueError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or ndim == 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    if dtype != _UBYTE:
        raise ValueError(f"{path}: IDX data type 0x{dtype:02x} is not supported (only unsigned bytes, 0x08)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    body = len(raw) - header
    if body != expected:
        what = "truncated" if body < expected else "has trailing bytes"
        raise ValueError(f"{path}: IDX file {what}: header promises shape {shape} "
                         f"({expected} bytes), file holds {body}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as gzip-compressed IDX; used by tests and for caching converted data."""
    from .._io import atomic_path

    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, _UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with atomic_path(path) as tmp, gzip.open(tmp, "wb") as fh:
        fh.write(header + array.tobytes())
