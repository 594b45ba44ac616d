"""Feature transforms shared by every learner: image resizing, one-hot encoding."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from .._text import shown

if TYPE_CHECKING:
    import pandas as pd


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights: output cell i averages the input cells it overlaps, by overlap length."""
    edges_out = np.linspace(0.0, n_in, n_out + 1)
    lo = np.maximum(edges_out[:-1, None], np.arange(n_in)[None, :])
    hi = np.minimum(edges_out[1:, None], np.arange(1, n_in + 1)[None, :])
    overlap = np.clip(hi - lo, 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _check_size(size, shape) -> tuple[int, int]:
    """``size`` (an int or a pair) as ``(height, width)``, each in ``1 .. 4 x`` the image's side."""
    pair = [size, size] if not isinstance(size, (list, tuple)) else list(size)
    # bool is an int in Python, and "20" from a quoted YAML value is not a size: both are mistakes.
    valid = len(pair) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
    if not valid or not all(1 <= v <= 4 * side for v, side in zip(pair, shape)):
        raise DataError(f"size must be a positive integer or a (height, width) pair of them, at most 4x the "
                        f"images' {shape[0]}x{shape[1]}; got {shown(size)}")
    return int(pair[0]), int(pair[1])


def resize_images(images: np.ndarray, size) -> np.ndarray:
    """Resize a stack of images ``(n, H, W)`` to ``size`` by area averaging (float64 out).

    Each output pixel is the overlap-weighted mean of the input pixels it covers (what OpenCV calls
    ``INTER_AREA``), so 28x28 -> 20x20 keeps total ink and introduces no ringing.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise DataError(f"resize_images expects (n, height, width), got shape {images.shape}")
    out_h, out_w = _check_size(size, images.shape[1:])
    return image_features(images, (out_h, out_w), dtype=np.float64).reshape(len(images), out_h, out_w)


#: Working memory of one chunk of :func:`image_features` (float64 input and output of the resize).
CHUNK_BYTES = 16 << 20


def image_features(images, size=None, scale: float = 1.0, dtype=np.float32) -> np.ndarray:
    """Images ``(n, H, W)`` of any numeric type as flat features ``(n, h * w)`` of ``dtype``, divided by
    ``scale`` and resized to ``size`` (``None``: as they are) by area averaging.

    ``images`` may also be a list of such stacks of one image size (the train and test files), taken in order
    without joining them first. The work goes in chunks of images straight into the output, so the memory used
    is the output plus :data:`CHUNK_BYTES`, not several float64 copies of the whole stack. The output's size is
    checked against the memory available before it is allocated.
    """
    from .._memory import check_memory

    stacks = [np.asarray(s) for s in images] if isinstance(images, (list, tuple)) else [np.asarray(images)]
    if not stacks or any(s.ndim != 3 or s.shape[1:] != stacks[0].shape[1:] for s in stacks):
        raise DataError(f"images must be (n, height, width) stacks of one size, got shapes "
                        f"{[s.shape for s in stacks][:5]}")
    n = sum(len(s) for s in stacks)
    h, w = stacks[0].shape[1:]
    out_h, out_w = (h, w) if size is None else _check_size(size, (h, w))
    itemsize = np.dtype(dtype).itemsize
    check_memory(n * out_h * out_w * itemsize, f"{n:,} images of {out_h}x{out_w} as {np.dtype(dtype).name} features",
                 "ask for a smaller size= or fewer images (subset=)")
    out = np.empty((n, out_h * out_w), dtype=dtype)
    rows = _area_matrix(h, out_h) if size is not None else None
    cols = _area_matrix(w, out_w) if size is not None else None
    chunk = max(1, CHUNK_BYTES // (8 * (h * w + out_h * out_w)))
    at = 0
    for stack in stacks:
        for start in range(0, len(stack), chunk):
            part = stack[start:start + chunk].astype(np.float64) / scale
            if rows is not None:
                part = np.einsum("ih,nhw,jw->nij", rows, part, cols, optimize=True)
            out[at:at + len(part)] = part.reshape(len(part), -1)
            at += len(part)
    return out


def one_hot(frame: pd.DataFrame, columns) -> tuple[np.ndarray, list[str]]:
    """One-hot encode ``columns`` of ``frame`` with categories in sorted order; returns (matrix, names)."""
    blocks, names = [], []
    for col in columns:
        values = frame[col].astype(str).str.strip().to_numpy()  # " red" and "red" are one category
        cats = np.unique(values)
        blocks.append((values[:, None] == cats[None, :]).astype(np.float32))
        names.extend(f"{col}={c}" for c in cats)
    if not blocks:
        return np.zeros((len(frame), 0), dtype=np.float32), []
    return np.hstack(blocks), names
