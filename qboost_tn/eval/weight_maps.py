"""Weight maps, the per-class view every learner gives of its inputs: one value per feature, drawn as an image."""
from __future__ import annotations

import math

import numpy as np


def reshape_maps(maps, image_shape=None):
    """(n_tasks, P) maps reshaped to ``image_shape``, to a square when P is one, else left flat."""
    P = maps.shape[1]
    if image_shape is None:
        side = math.isqrt(P)
        image_shape = (side, side) if side * side == P else None
    if image_shape is None:
        return maps
    if int(np.prod(image_shape)) != P:
        raise ValueError(f"weight_maps: image_shape {tuple(image_shape)} does not hold {P} weights")
    return maps.reshape(len(maps), *image_shape)
