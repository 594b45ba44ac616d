"""The counting behind :func:`qboost_tn.eval.model_bytes`: the registry of size rules (one per model type) and
the shared rules of thumb every rule uses (bits of a float, an index, a lattice weight, a sparse vector, a tree,
a scaling). Model families register their rules here, where they define their models; what is counted is
documented in :mod:`qboost_tn.eval.size`."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .._text import shown

FLOAT = 32  # bits of a stored float
INT8 = 8
SEED = 32   # bits of a stored random seed

_REGISTRY: dict[type, Callable] = {}


def register_model_bytes(cls: type, fn: Callable) -> Callable:
    """Count models of ``cls`` (and its subclasses, unless they have their own rule) with ``fn(model) -> bits``."""
    if not isinstance(cls, type):
        raise TypeError(f"register_model_bytes: {shown(cls)} is not a class")
    _REGISTRY[cls] = fn
    return fn


def model_bits(model) -> int:
    """The exact count behind :func:`model_bytes`, in bits (parts of a model are added in bits)."""
    for cls in type(model).__mro__:
        if cls in _REGISTRY:
            return int(_REGISTRY[cls](model))
    raise TypeError(f"model_bytes: no size rule for {type(model).__name__}; add one with "
                    "qboost_tn.eval.register_model_bytes(cls, fn)")


# -- shared counting rules -------------------------------------------------------------------------------------
def index_bits(n: int) -> int:
    """Bits of an index into ``n`` positions."""
    return max(1, math.ceil(math.log2(n))) if n > 1 else 1


def level_bits(n_levels: int) -> int:
    """Bits of a value taking one of ``n_levels`` levels."""
    return index_bits(n_levels)


def vector_bits(values, bits_per_value: int = FLOAT) -> int:
    """A weight array stored densely or sparsely (count, indices, values), whichever is smaller."""
    values = np.asarray(values)
    n = values.size
    dense = n * bits_per_value
    nnz = int(np.count_nonzero(values))
    sparse = 32 + nnz * (bits_per_value + index_bits(n))
    return min(dense, sparse)


def affine_bits(lo, scale, used=None, offsets_fold=False) -> int:
    """A per-feature scaling ``(x - lo) * scale`` over the features ``used`` (default all with scale > 0).

    Costless where it is the identity (lo 0, scale 1); one pair of floats where every used feature shares its
    values; else a pair of floats per used feature. ``offsets_fold``: the scaled features only enter a linear
    score, so ``lo`` folds into the intercept and only the scales are stored.
    """
    lo, scale = np.asarray(lo, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    if offsets_fold:
        lo = np.zeros_like(scale)
    used = scale != 0 if used is None else np.asarray(used, dtype=bool) & (scale != 0)
    lo, scale = lo[used], scale[used]
    # Equal within float32 rounding is equal: inputs already scaled to [0, 1] in float32 come back with scales a
    # rounding error away from 1, which carries no learned information.
    lo_zero = np.allclose(lo, 0.0, rtol=0, atol=1e-6)
    if lo.size == 0 or (lo_zero and np.allclose(scale, 1.0, rtol=1e-6, atol=0)):
        return 0
    per_feature = 1 if offsets_fold or lo_zero else 2
    if np.allclose(lo, lo[0], rtol=1e-6, atol=1e-6) and np.allclose(scale, scale[0], rtol=1e-6, atol=0):
        return per_feature * FLOAT
    return per_feature * FLOAT * lo.size


def lattice_bits(values, n_levels: int) -> int:
    """Integer weights of ``n_levels`` levels if they are integers, else floats; sparse where that is smaller."""
    values = np.asarray(values, dtype=np.float64)
    on_lattice = np.all(values == np.round(values))
    return vector_bits(values, level_bits(n_levels) if on_lattice else FLOAT)


def tree_bits(feature, left, right, values, n_features: int) -> int:
    """One tree given as node arrays (``feature < 0`` at leaves): inner nodes feature index + threshold + two
    links; leaves one float per output, or a class index when every leaf holds a one-hot (pure) value."""
    feature = np.asarray(feature)
    values = np.asarray(values, dtype=np.float64).reshape(len(feature), -1)
    n_nodes = len(feature)
    leaf = feature < 0
    inner = int(n_nodes - leaf.sum())
    link = index_bits(n_nodes)
    bits = inner * (index_bits(n_features) + FLOAT + 2 * link)
    leaf_values = values[leaf]
    n_out = leaf_values.shape[1]
    pure = n_out > 1 and np.all(np.isclose(leaf_values.max(axis=1), leaf_values.max())) \
        and np.all(np.isclose(np.sort(leaf_values, axis=1)[:, :-1], leaf_values.min()))
    return bits + int(leaf.sum()) * (level_bits(n_out) if pure else n_out * FLOAT)
