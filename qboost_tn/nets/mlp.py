"""Building ReLU multi-layer perceptrons with a seeded initialisation."""
from __future__ import annotations

from torch import nn

from .._memory import check_memory, number
from .._text import shown
from ..errors import QBoostTNError
from ._random import as_generator, drawing_from


def make_mlp(n_features, hidden=(256, 256), n_outputs=1, dropout=0.0, seed=0) -> nn.Sequential:
    """ReLU MLP ``n_features - hidden... - n_outputs`` with outputs as logits (the hands-on's 62-256-256-1).

    Parameters
    ----------
    n_features, n_outputs : int
    hidden : sequence of int
        Hidden layer widths.
    dropout : float in [0, 1), default 0
        Dropout after every hidden activation. The activation slot then holds ``Sequential(ReLU, Dropout)``,
        so the linear layers keep their names ``"0", "2", "4", ...`` with or without dropout.
    seed : int or torch.Generator
        Source of the initial weights (``nn.Linear``'s own rule, drawn from this generator; the global RNG is
        left as it was).
    """
    if not 0.0 <= float(dropout) < 1.0:
        raise QBoostTNError(f"make_mlp: dropout must lie in [0, 1), got {dropout}")
    sizes = [int(n_features), *map(int, hidden), int(n_outputs)]
    if min(sizes) < 1:
        raise QBoostTNError(f"make_mlp: every layer size must be >= 1, got {shown(sizes)}")
    # Weights, biases, their gradients and AdamW's two moments: five float32 copies of every parameter.
    n_params = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    check_memory(5 * 4 * n_params, f"make_mlp with hidden sizes {' x '.join(map(number, sizes[1:-1]))[:80]} "
                                   f"({number(n_params)} parameters, trained)", "lower the hidden sizes")
    layers = []
    with drawing_from(as_generator(seed)):
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.Sequential(nn.ReLU(), nn.Dropout(dropout)) if dropout else nn.ReLU())
    return nn.Sequential(*layers)
