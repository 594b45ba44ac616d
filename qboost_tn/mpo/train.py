"""Training MPO networks: from scratch (:func:`mpo_network`), and the route from a trained dense network to an MPO
one (:func:`compress_fine_tune`: :func:`compress_gradually`, then fine-tuning). Generic training and fine-tuning
(``qboost_tn.nets.fine_tune(model, data, params=core_parameters)`` for the cores only) live in
:mod:`qboost_tn.nets`."""
from __future__ import annotations

import copy

from ..errors import QBoostTNError
from ..nets import as_generator, drawing_from, fine_tune
from .compress import compress, relative_error, replace_module, resolve_layers
from .layer import MPOLinear
from .layer_types import core_parameters, dense_copy


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


def compress_gradually(dense, data, layers=None, *, max_bond=None, budget=None, steps=(), step_epochs=5,
                       cores_only=False, compress_options=None, **fit_args):
    """The compression half of compress-then-fine-tune: ``dense`` into MPO layers, through larger bonds first.

    At each bond of ``steps`` the current network is compressed (its MPO layers turned dense again first) and
    fine-tuned ``step_epochs`` epochs (0: not at all) with ``fit_args``; then the final truncation at
    ``max_bond`` / ``budget`` (as for :func:`compress`, with ``compress_options``).

    Returns
    -------
    model, report
        The compressed, not yet fine-tuned model and the final compression's report, whose ``rel_error`` is
        against ``dense``'s weights (not the last step's).
    """
    options = dict(compress_options or {})
    params = core_parameters if cores_only else None
    current = dense
    for chi in steps:
        current, _ = compress(dense_copy(current), layers, max_bond=chi, inplace=True, **options)
        if step_epochs:
            fine_tune(current, data, params=params, **{**fit_args, "epochs": step_epochs,
                                                       "desc": f"fine-tune chi={chi}"})
    model, report = compress(dense_copy(current), layers, budget=budget, max_bond=max_bond, inplace=True, **options)
    if steps:
        report["rel_error"] = [relative_error(model.get_submodule(name).weight, dense.get_submodule(name).weight)
                               for name in report.layer]
    return model, report


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
    options = fit_args.pop("compress_options", None)
    teacher = {"teacher": dense, "distill": distill, "temperature": temperature} if distill else {}
    model, report = compress_gradually(dense, data, layers, max_bond=max_bond, budget=budget, steps=steps,
                                       step_epochs=step_epochs, cores_only=cores_only, compress_options=options,
                                       **fit_args, **teacher)
    history = fine_tune(model, data, params=core_parameters if cores_only else None, **fit_args, **teacher)
    return model, report, history
