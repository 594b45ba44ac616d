"""LeNet-5 (LeCun et al., 1998) for flattened square grey-scale images, with a seeded initialisation."""
from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from ..errors import QBoostTNError
from ._random import as_generator, drawing_from

LENET5_LAYERS = ("conv1", "conv2", "fc1", "fc2", "fc3")


def lenet5(n_pixels=784, n_classes=10, seed=0) -> nn.Sequential:
    """LeNet-5 with ReLU and max pooling, taking flattened images as the other networks do.

    ``conv1`` (6 maps, 5x5, padding 2) - pool - ``conv2`` (16 maps, 5x5) - pool - ``fc1`` (120) - ``fc2`` (84)
    - ``fc3`` (``n_classes`` logits). On 28x28 MNIST: 61,706 parameters, ``fc1`` holding 78 % of them.

    Parameters
    ----------
    n_pixels : int, default 784
        Features per sample, a square number ``s * s`` with ``s >= 12`` (the first layer unflattens them).
    n_classes : int, default 10
    seed : int or torch.Generator
        Source of the initial weights (each layer's own PyTorch rule; the global RNG is left as it was).

    Returns
    -------
    nn.Sequential
        Named layers; the compressible ones are :data:`LENET5_LAYERS`.

    Examples
    --------
    >>> net = lenet5()
    >>> sum(p.numel() for p in net.parameters()), net.fc1.in_features
    (61706, 400)
    """
    side = math.isqrt(int(n_pixels))
    if side * side != int(n_pixels) or side < 12:
        raise QBoostTNError(f"lenet5: n_pixels must be a square s*s with s >= 12 (flattened images), "
                            f"got {n_pixels}")
    if int(n_classes) < 2:
        raise QBoostTNError(f"lenet5: n_classes must be >= 2, got {n_classes}")
    # conv1 keeps the size (padding 2), each pool halves it (floor), conv2 (5x5, no padding) takes 4.
    flat = 16 * ((side // 2 - 4) // 2) ** 2
    with drawing_from(as_generator(seed)):
        layers = OrderedDict([
            ("image", nn.Unflatten(1, (1, side, side))),
            ("conv1", nn.Conv2d(1, 6, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 16, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(flat, 120)), ("relu3", nn.ReLU()),
            ("fc2", nn.Linear(120, 84)), ("relu4", nn.ReLU()),
            ("fc3", nn.Linear(84, int(n_classes))),
        ])
    return nn.Sequential(layers)
