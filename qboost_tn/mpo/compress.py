"""The compression protocol: replace layers of any model by smaller ones, by one registered method, with one
report schema (saving the result: :mod:`.saving`).

A method is a :class:`CompressionMethod` subclass registered under a name with :func:`register_compression`.
It compresses one module at a time through ``compress_module(module, budget, name)``, which dispatches on the
module's type through the class's handler table; a new module type (``nn.Conv2d``, say) is one function
decorated with ``@SomeMethod.handles(nn.Conv2d)``. :func:`compress` resolves the layers, turns the budget into
a per-layer :class:`Budget`, calls the method and assembles the report.
"""
from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from ..errors import QBoostTNError
from .contract import sweep_flops
from .layer import MPOLinear
from .shapes import tensorize_shape
from .ttsvd import bond_for_fraction
from .._text import shown

#: Columns every compression report has, in this order; a method may append its own after them.
REPORT_COLUMNS = ("layer", "method", "module", "params_before", "params_after", "fraction", "compression_ratio",
                  "rel_error", "flops_before", "flops_after", "trainable")


@dataclass(frozen=True)
class Budget:
    """What one layer may keep.

    Attributes
    ----------
    n_params : int or None
        Weight entries (bias excluded) the compressed layer may hold; None: the method's untruncated form.
    max_bond : int or None
        The MPO bond dimension chi (MPO methods only); with ``n_params`` both limits apply.
    """

    n_params: int | None = None
    max_bond: int | None = None


def dense_params(module) -> int:
    """Weight entries of the dense layer (bias excluded): what ``params_before`` and fractions count."""
    return int(module.weight.numel())


class CompressionMethod:
    """Base class of compression methods: one seam, one signature (like ``torch.nn.utils.prune``'s
    ``BasePruningMethod``).

    Subclasses set ``name`` (filled in by :func:`register_compression`), ``trainable`` (whether the result
    can be fine-tuned), ``uses_max_bond``, take their options as ``__init__`` keywords, and register one
    handler per module type with :meth:`handles`. A handler is ``handler(method, module, budget, name)`` and
    returns ``(new_module, info)``; ``info`` holds ``params_after`` and ``rel_error``
    (``||W - W'||_F / ||W||_F``), optionally ``flops_before``/``flops_after`` (per sample, a multiply-add
    counts 2) and method-specific report columns.
    """

    name = ""
    trainable = True
    uses_max_bond = False
    handlers: dict = {}

    @classmethod
    def handles(cls, module_type):
        """Decorator registering ``handler(method, module, budget, name)`` for ``module_type`` on this class
        (and its subclasses that do not override it)."""
        def deco(handler):
            if "handlers" not in cls.__dict__:
                cls.handlers = dict(cls.handlers)
            cls.handlers[module_type] = handler
            return handler
        return deco

    @classmethod
    def module_types(cls) -> tuple:
        return tuple(cls.handlers)

    def handler_for(self, module):
        for klass in type(module).__mro__:
            if klass in type(self).handlers:
                return type(self).handlers[klass]
        return None

    def compress_module(self, module, budget: Budget, name: str = ""):
        """``(compressed module, info)`` for one layer; ``module`` itself is not changed."""
        handler = self.handler_for(module)
        if handler is None:
            kinds = ", ".join(t.__name__ for t in self.module_types())
            raise QBoostTNError(f"method {shown(self.name)} cannot compress {type(module).__name__} "
                                f"(it handles {kinds})")
        return handler(self, module, budget, name)


COMPRESSIONS: dict[str, type] = {}


def register_compression(name: str, cls: type) -> type:
    """Make ``cls`` (a :class:`CompressionMethod` subclass) available as ``compress(..., method=name)``."""
    if not (isinstance(cls, type) and issubclass(cls, CompressionMethod)):
        raise TypeError(f"register_compression: {shown(cls)} is not a CompressionMethod subclass")
    cls.name = name
    COMPRESSIONS[name] = cls
    return cls


def _method(method, options) -> CompressionMethod:
    if isinstance(method, CompressionMethod):
        if options:
            raise QBoostTNError(f"compress: options {sorted(options)} go to the method's constructor, not compress")
        return method
    if method not in COMPRESSIONS:
        raise QBoostTNError(f"compress: unknown method {shown(method)}; registered: {', '.join(sorted(COMPRESSIONS))}")
    try:
        return COMPRESSIONS[method](**options)
    except TypeError as exc:
        raise QBoostTNError(f"compress: method {shown(method)} does not take {sorted(options)} ({exc})") from exc


def resolve_layers(model, layers, types=(nn.Linear,)) -> list[str]:
    """Names of the layers meant by ``layers`` (None: every module of ``types``), with clear errors otherwise."""
    kinds = " or ".join(("nn." if t.__module__.startswith("torch.nn") else "") + t.__name__ for t in types)
    candidates = [name for name, module in model.named_modules() if name and isinstance(module, types)]
    if layers is None:
        if not candidates:
            raise QBoostTNError(f"{type(model).__name__} has no {kinds} layer to compress")
        return candidates
    names = [layers] if isinstance(layers, str) else list(layers)
    modules = dict(model.named_modules())
    for name in names:
        if name not in modules or name == "":
            raise QBoostTNError(f"no layer named {shown(name)}; the {kinds} layers are {candidates}")
        if not isinstance(modules[name], types):
            raise QBoostTNError(f"layer {shown(name)} is {type(modules[name]).__name__}, not {kinds}; the {kinds} "
                                f"layers are {candidates}")
    return names


def replace_module(model, name: str, new: nn.Module) -> None:
    """Put ``new`` where the submodule ``name`` (dotted path) was."""
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name), child, new)


def _layer_budget(budget, max_bond, before) -> Budget:
    if budget is None:
        return Budget(None, max_bond)
    if isinstance(budget, numbers.Integral):
        return Budget(int(budget), max_bond)
    return Budget(max(1, math.floor(float(budget) * before)), max_bond)


def _check_budget(budget, max_bond, method):
    if budget is not None:
        ok = (not isinstance(budget, bool) and isinstance(budget, numbers.Real)
              and (budget >= 1 if isinstance(budget, numbers.Integral) else 0 < budget <= 1))
        if not ok:
            raise QBoostTNError(f"compress: budget must be a weight count (int >= 1) or a fraction in (0, 1] of "
                                f"each layer's weights, got {shown(budget)}")
    if max_bond is not None:
        if not method.uses_max_bond:
            raise QBoostTNError(f"compress: max_bond is the MPO bond dimension; method {shown(method.name)} takes a "
                                "budget (weights or fraction) instead")
        if isinstance(max_bond, bool) or not isinstance(max_bond, numbers.Integral) or max_bond < 1:
            raise QBoostTNError(f"compress: max_bond must be an int >= 1, got {shown(max_bond)}")


def compress(model, layers=None, method="mpo", budget=None, *, max_bond=None, inplace=False, **options):
    """Replace layers of ``model`` by compressed ones; the same call for every method.

    Parameters
    ----------
    model : nn.Module
        Any module (Sequential or not); layers are addressed by the names of ``model.named_modules()``.
    layers : str or list of str, optional
        Which layers (default: every module whose type the method handles, ``nn.Linear`` at least).
    method : str or CompressionMethod, default "mpo"
        A registered name (``"mpo"``, ``"low-rank"``, ``"prune"``, ``"int8"``, see :data:`COMPRESSIONS`) or a
        method instance.
    budget : int or float, optional
        Shared by all methods so they compare at the same size: an int is the number of weight entries each
        layer may keep, a float in (0, 1] the fraction of each layer's weights. None: the method's exact
        (untruncated) form; pruning needs a budget, int8 ignores it (it keeps every weight at a quarter of
        the bytes).
    max_bond : int, optional
        The MPO bond dimension chi (``method="mpo"`` only).
    inplace : bool, default False
        Change ``model`` itself instead of a deep copy.
    **options
        The method's own options, e.g. ``n_cores``, ``pattern``, ``shapes``, ``rel_tol`` for MPO.

    Returns
    -------
    model : nn.Module
        The compressed model (a copy unless ``inplace``).
    report : DataFrame
        One row per layer with the columns :data:`REPORT_COLUMNS`: ``params_before``/``params_after`` count
        weight entries (bias excluded; int8 in float32 equivalents, a quarter of the entries),
        ``fraction = after / before``, ``compression_ratio = before / after``, ``rel_error`` the relative
        Frobenius error of the weight, ``flops_*`` per sample; then the method's own columns.
    """
    method = _method(method, options)
    _check_budget(budget, max_bond, method)
    names = resolve_layers(model, layers, method.module_types())
    model = model if inplace else copy.deepcopy(model)
    rows = []
    for name in names:
        module = model.get_submodule(name)
        before = dense_params(module)
        try:
            new, info = method.compress_module(module, _layer_budget(budget, max_bond, before), name)
        except QBoostTNError as exc:
            raise QBoostTNError(f"layer {shown(name)}: {exc}") from exc
        except ValueError as exc:  # the factorisation's own checks (bad modes, NaN weights, ...)
            raise QBoostTNError(f"layer {shown(name)}: {exc}") from exc
        replace_module(model, name, new)
        after = info.pop("params_after")
        rows.append({"layer": name, "method": method.name, "module": type(module).__name__,
                     "params_before": before, "params_after": after, "fraction": after / before,
                     "compression_ratio": before / after, "rel_error": float(info.pop("rel_error")),
                     "flops_before": info.pop("flops_before", float("nan")),
                     "flops_after": info.pop("flops_after", float("nan")), "trainable": method.trainable, **info})
    return model, pd.DataFrame(rows)


def relative_error(new_weight, weight) -> float:
    """``||W' - W||_F / ||W||_F`` in float64."""
    with torch.no_grad():
        weight = weight.detach().double()
        return float((new_weight.detach().double() - weight).norm() / weight.norm().clamp_min(1e-300))


class MPOCompression(CompressionMethod):
    """TT-SVD of each layer's weight into an MPO (:class:`MPOLinear`); exact when neither the budget nor
    ``max_bond``/``rel_tol`` truncates.

    Parameters
    ----------
    n_cores : int, default 4
    pattern : str, default "balanced"
        How layer sizes are factorised into modes (see :func:`qboost_tn.mpo.factorize`).
    shapes : dict, optional
        ``{layer name: (in_modes, out_modes)}`` for layers that should not use the automatic factorisation.
    rel_tol : float in (0, 1), optional
        Keep each layer's relative error below this instead of a size budget.
    forward_mode : str, default "auto"
    batch : int, default 128
        Batch size for which ``flops_after`` (the forward actually planned) is computed.
    """

    uses_max_bond = True

    def __init__(self, n_cores=4, pattern="balanced", shapes=None, rel_tol=None, forward_mode="auto", batch=128):
        self.n_cores, self.pattern, self.rel_tol = n_cores, pattern, rel_tol
        self.shapes, self.forward_mode, self.batch = dict(shapes or {}), forward_mode, batch


@MPOCompression.handles(nn.Linear)
def _mpo_linear(method, linear, budget, name):
    if sum(x is not None for x in (budget.n_params, method.rel_tol)) > 1:
        raise QBoostTNError("give the MPO a size budget or rel_tol, not both")
    ins, outs = method.shapes.get(name, (None, None))
    dense = dense_params(linear)
    fraction = None if budget.n_params is None else budget.n_params / dense
    if fraction is not None and budget.max_bond is not None:
        # both limits: the smaller bond of the two
        modes = tensorize_shape(linear.in_features, linear.out_features, method.n_cores, ins, outs, method.pattern)
        bond = min(budget.max_bond, bond_for_fraction(fraction, *modes, dense))
        fraction, criteria = None, {"max_bond": bond}
    else:
        criteria = {"max_bond": budget.max_bond, "param_fraction": fraction}
    layer = MPOLinear.from_linear(linear, n_cores=method.n_cores, in_modes=ins, out_modes=outs, pattern=method.pattern,
                                  rel_tol=method.rel_tol, forward_mode=method.forward_mode, **criteria)
    bonds = list(layer.max_bond)
    return layer, {"params_after": layer.n_weight_params, "rel_error": relative_error(layer.weight, linear.weight),
                   "flops_before": 2 * dense, "flops_after": layer.flops(method.batch),
                   "max_bond": max(bonds), "bond_dims": "-".join(map(str, bonds)),
                   "in_modes": "x".join(map(str, layer.in_modes)), "out_modes": "x".join(map(str, layer.out_modes)),
                   "discarded_weight": layer.decomposition.discarded_weight,
                   "flops_factorized": sweep_flops(layer.in_modes, layer.out_modes, bonds)}


register_compression("mpo", MPOCompression)
