"""What a fitted model costs to store: :func:`model_bytes`, one counting rule per model type.

The count is the bytes needed to store everything ``predict`` uses that was learned or drawn from data, at the
precision the model uses it:

- a spin is 1 bit; an integer weight of ``L`` layers (``L + 1`` levels) ⌈log₂(L + 1)⌉ bits; a float 4 bytes
  (every model here predicts the same at float32, whatever dtype it holds its arrays in); an int8 weight 1 byte;
- a weight vector is stored densely or as (non-zero count, indices, values), whichever is smaller, so zeros
  profit; an index costs ⌈log₂ n⌉ bits for n positions;
- a tree node is its feature index, threshold and two child links; a leaf its values (one float per output, or
  a class index when every leaf of the tree is pure); complete (heap-ordered) trees need no links;
- an SVM its support vectors (each training row once) and dual coefficients; k-NN its stored rows and labels;
- MPO and MPS cores their elements; pruned layers their non-zeros plus indices; int8 layers a byte per weight
  plus their scale;
- feature maps what they must keep: patch filters and Nyström landmarks yes, random Fourier features only their
  seed (and the bandwidth measured on data);
- per-task scales, intercepts and a model's own input scaling count (a scaling that is the identity, or one
  value shared by every feature, costs nothing or one number). The data layer's scaling (``prepare``) is the
  same for every row of a run and is not part of any model.

A new model type joins with :func:`register_model_bytes(cls, fn)`; ``fn(model) -> int`` returns *bits* (the
total is rounded up to whole bytes once). The most specific registered class in the model's MRO is used.
Built-in rules are loaded on the first count, so importing this module imports neither scikit-learn nor torch.
"""
from __future__ import annotations

import math
import sys

from .bits import model_bits, register_model_bytes

__all__ = ["model_bytes", "register_model_bytes"]


def model_bytes(model) -> int:
    """Bytes needed to store what ``model.predict`` uses that was learned or drawn from data (see the module doc).

    Raises
    ------
    TypeError
        No rule is registered for the model's type (nor any of its base classes).
    """
    _load_rules()
    return math.ceil(model_bits(model) / 8)


def _load_rules() -> None:
    """scikit-learn's rules, and torch's once torch is loaded (a torch model exists only then); the project's
    learners register theirs where they are defined."""
    from . import _size_rules  # noqa: F401

    if "torch" in sys.modules:
        from . import _size_torch  # noqa: F401
