"""Feature transforms shared by every learner: image resizing, one-hot encoding."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError

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
                        f"images' {shape[0]}x{shape[1]}; got {size!r}")
    return int(pair[0]), int(pair[1])


def resize_images(images: np.ndarray, size) -> np.ndarray:
    """Resize a stack of images ``(n, H, W)`` to ``size`` by area averaging.

    Each output pixel is the overlap-weighted mean of the input pixels it covers (what OpenCV calls
    ``INTER_AREA``), so 28x28 -> 20x20 keeps total ink and introduces no ringing.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise DataError(f"resize_images expects (n, height, width), got shape {images.shape}")
    out_h, out_w = _check_size(size, images.shape[1:])
    rows = _area_matrix(images.shape[1], out_h)
    cols = _area_matrix(images.shape[2], out_w)
    return np.einsum("ih,nhw,jw->nij", rows, images, cols, optimize=True)


def one_hot(frame: pd.DataFrame, columns) -> tuple[np.ndarray, list[str]]:
    """One-hot encode ``columns`` of ``frame`` with categories in sorted order; returns (matrix, names)."""
    blocks, names = [], []
    for col in columns:
        values = frame[col].astype(str).to_numpy()
        cats = np.unique(values)
        blocks.append((values[:, None] == cats[None, :]).astype(np.float32))
        names.extend(f"{col}={c}" for c in cats)
    if not blocks:
        return np.zeros((len(frame), 0), dtype=np.float32), []
    return np.hstack(blocks), names
