"""Local feature maps of the MPS classifier, by name: ``phi(x)`` of inputs scaled to [0, 1], shape
``x.shape + (d,)``. New maps go in :data:`FEATURE_MAPS`.

torch is imported when a map runs, not here: :class:`~qboost_tn.mps.MPSClassifier` declares its parameters
(the map names among them) without loading torch, so a config is checked and ``qboost-tn train --help`` lists
the MPS options quickly.
"""
from __future__ import annotations

import math


def _cos_sin(x):
    # Stoudenmire & Schwab's local map: a unit 2-vector per pixel, |0> for black (0), |1> for white (1).
    import torch

    return torch.stack((torch.cos(0.5 * math.pi * x), torch.sin(0.5 * math.pi * x)), dim=-1)


def _linear(x):
    # (1, x): the MPS is then a multilinear polynomial of the inputs (Novikov et al.'s exponential machines).
    import torch

    return torch.stack((torch.ones_like(x), x), dim=-1)


FEATURE_MAPS = {"cos-sin": _cos_sin, "linear": _linear}
