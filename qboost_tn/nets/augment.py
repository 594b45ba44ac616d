"""Training-batch augmentation for flattened images: random translations.

A small convolutional network compressed to a few thousand parameters fits the training digits long before it
stops improving on new ones; shifting every batch by a few pixels is the cheapest regulariser that keeps the
labels true, and it leaves the validation and test images alone (:func:`qboost_tn.nets.fit` applies it to the
training batches only).
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..errors import QBoostTNError
from .._text import shown


class RandomShift:
    """Translate each flattened square image by its own random offset of up to ``max_shift`` pixels per axis.

    The border pixels are repeated into the space uncovered (``replicate`` padding), so the background stays
    what it was however the pixels are scaled. A callable ``(X, generator) -> X`` for :func:`fit`'s ``augment``.

    Parameters
    ----------
    max_shift : int, default 2
        Offsets are drawn uniformly from ``-max_shift .. max_shift`` along rows and along columns.

    Examples
    --------
    >>> import torch
    >>> X = torch.arange(16.0).reshape(1, 16)
    >>> RandomShift(0)(X, torch.Generator().manual_seed(0)).equal(X)
    True
    """

    def __init__(self, max_shift=2):
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise QBoostTNError(f"RandomShift: max_shift must be an int >= 0, got {shown(max_shift)}")
        self.max_shift = max_shift

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"

    def __call__(self, X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, features = X.shape
        side = math.isqrt(features)
        if side * side != features:
            raise QBoostTNError(f"RandomShift: needs flattened square images, got {features} features per sample")
        m = self.max_shift
        if m == 0:
            return X
        padded = F.pad(X.reshape(n, 1, side, side), (m, m, m, m), mode="replicate")[:, 0]
        # one window origin per image in the padded frame; origin m is the unshifted image
        rows, cols = torch.randint(0, 2 * m + 1, (2, n, 1), generator=generator)
        grid = torch.arange(side)
        return padded[torch.arange(n)[:, None, None], (rows + grid)[:, :, None],
                      (cols + grid)[:, None, :]].reshape(n, features)
