"""Seeding through a ``torch.Generator`` for code that draws from torch's global generator.

Module constructors (``nn.Linear.reset_parameters``, any layer's own init) and ``nn.Dropout`` draw from the
global generator and take no ``generator`` argument. :func:`drawing_from` runs such code with a private
generator's state swapped into the global one and swaps it back afterwards, so every layer keeps its own
initialisation rule, the draws are reproducible from the generator, and the caller's global RNG state is the
same after the block as before (``torch.random.fork_rng``).
"""
from __future__ import annotations

import contextlib
import numbers

import torch

from ..errors import QBoostTNError
from .._text import shown


def as_generator(seed) -> torch.Generator:
    """A ``torch.Generator`` from an int seed (a new one) or a Generator (used as is, so draws continue it)."""
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2 ** 63:
        raise QBoostTNError(f"seed must be an int in [0, 2**63) or a torch.Generator, got {shown(seed)}")
    return torch.Generator().manual_seed(int(seed))


@contextlib.contextmanager
def drawing_from(generator: torch.Generator):
    """Inside the block, torch's global generator continues ``generator``'s stream; outside it is untouched.

    On exit ``generator`` is advanced past the draws made inside, so consecutive blocks do not repeat them.
    """
    with torch.random.fork_rng(devices=[]):
        torch.set_rng_state(generator.get_state())
        try:
            yield generator
        finally:
            generator.set_state(torch.get_rng_state())
