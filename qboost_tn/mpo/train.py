"""Training MPO networks: from scratch (:func:`mpo_network`), fine-tuning the cores, and the route from a trained
dense network to an MPO one (:func:`compress_fine_tune`). Generic training lives in :mod:`qboost_tn.nets`."""
from __future__ import annotations

import copy

import pandas as pd

from ..errors import QBoostTNError
from ..nets import as_generator, drawing_from, fit
from .compress import compress, replace_module, resolve_layers
from .layer import MPOLinear


def mpo_network(model, layers=None, max_bond=8, n_cores=4, pattern="balanced", shapes=None, seed=0):
    """A copy of ``model`` whose named ``nn.Linear`` layers are randomly initialised :class:`MPOLinear`.

    For training MPO networks from scratch; the MPO layer's own initialisation keeps ``nn.Linear``'s weight
    variance and draws from ``seed`` (an int or ``torch.Generator``; the global RNG is untouched).
    ``shapes`` maps layer names to explicit ``(in_modes, out_modes)`` as in :func:`compress`.
    """
    names = resolve_layers(model, layers)
    shapes = dict(shapes or {})
    unknown = sorted(set(shapes) - set(names))
    if unknown:
        raise QBoostTNError(f"shapes given for {unknown}, which are not among the layers replaced ({names})")
    model = copy.deepcopy(model)
    with drawing_from(as_generator(seed)):
        for name in names:
            linear = model.get_submodule(name)
            ins, outs = shapes.get(name, (None, None))
            replace_module(model, name, MPOLinear(linear.in_features, linear.out_features, max_bond=max_bond,
                                                  n_cores=n_cores, in_modes=ins, out_modes=outs, pattern=pattern,
                                                  bias=linear.bias is not None))
    return model


def core_parameters(model) -> list:
    """The cores of every :class:`MPOLinear` in ``model`` (for fine-tuning the cores only)."""
    return [p for m in model.modules() if isinstance(m, MPOLinear) for p in m.cores]


def fine_tune(model, data, cores_only=False, **fit_args) -> pd.DataFrame:
    """:func:`qboost_tn.nets.fit` a compressed model further: all parameters, or only the MPO cores (biases and
    the uncompressed layers frozen)."""
    params = core_parameters(model) if cores_only else None
    if cores_only and not params:
        raise QBoostTNError("fine_tune: cores_only=True but the model has no MPOLinear layer")
    return fit(model, data, params=params, **{"desc": "fine-tune", **fit_args})


def truncation_steps(start, max_bond, factor=2) -> list[int]:
    """Bond dimensions of a gradual truncation: ``start, start/factor, ...`` down to ``max_bond`` (inclusive)."""
    steps, chi = [], int(start)
    while chi > max_bond:
        steps.append(chi)
        chi //= factor
    return steps + [int(max_bond)]


def compress_fine_tune(dense, data, layers=None, max_bond=None, budget=None, steps=(), step_epochs=5,
                       distill=0.0, temperature=2.0, cores_only=False, **fit_args):
    """Compress a trained dense network into MPO layers and fine-tune it: the compress-then-fine-tune route.

    Parameters
    ----------
    dense : nn.Module
        The trained network (not changed).
    data : as for :func:`qboost_tn.nets.fit`
    layers, max_bond, budget : as for :func:`compress` (with ``n_cores``, ``pattern``, ``shapes`` in
        ``fit_args``' sibling ``compress_options``; see below).
    steps : sequence of int
        Gradual truncation: compress at each of these larger bonds first, fine-tuning ``step_epochs`` epochs
        after each, before the final truncation (e.g. :func:`truncation_steps`); empty: one truncation.
    distill : float in [0, 1]
        Weight of distillation from the dense network's logits in every fine-tune (0: labels only).
    cores_only : bool
        Fine-tune only the MPO cores.
    fit_args : passed to every fine-tune; ``compress_options`` (a dict) to every :func:`compress`.

    Returns
    -------
    model, report, history
        The fine-tuned model, the final compression's report (``rel_error`` against the dense weights) and
        the final fine-tune's history.
    """
    options = dict(fit_args.pop("compress_options", None) or {})
    teacher = {"teacher": dense, "distill": distill, "temperature": temperature} if distill else {}
    current = dense
    for chi in steps:
        current, _ = compress(_dense_copy(current), layers, max_bond=chi, **options)
        fine_tune(current, data, cores_only=cores_only, **{**fit_args, **teacher, "epochs": step_epochs,
                                                           "desc": f"fine-tune chi={chi}"})
    model, report = compress(_dense_copy(current), layers, budget=budget, max_bond=max_bond, **options)
    if steps:
        # the report's error is against the step before; measure it against the original dense weights
        for i, name in enumerate(report.layer):
            original = dense.get_submodule(name).weight.detach().double()
            new = model.get_submodule(name).weight.detach().double()
            report.loc[i, "rel_error"] = float((new - original).norm() / original.norm())
    history = fine_tune(model, data, cores_only=cores_only, **{**fit_args, **teacher})
    return model, report, history


def _dense_copy(model):
    """``model`` with its MPO layers turned back into ``nn.Linear`` (so they can be truncated further)."""
    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if isinstance(module, MPOLinear):
            replace_module(model, name, module.to_linear())
    return model
