"""``MPOLinear``: a fully-connected layer whose weight is a matrix product operator (tensor-train matrix)."""
from __future__ import annotations

import itertools
import math

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..eval.bits import FLOAT, register_model_bytes
from .contract import FORWARD_MODES, mpo_matmul, plan, reconstruct
from .shapes import check_params_fit, clip_bonds, core_shapes, factorize, n_core_params, tensorize_shape
from .ttsvd import bond_for_fraction, tt_svd
from .._text import shown


class FactorisedCounts:
    """Parameter counts of a factorised layer that defines ``factors()`` (its weight tensors) and ``bias``, and
    its rebuilding from the plain dict its ``config()`` returns (what :func:`qboost_tn.mpo.save_compressed`
    stores beside the weights)."""

    @classmethod
    def from_config(cls, config: dict, device=None, dtype=None):
        """An (untrained) layer of the shape described by :meth:`config`, ready for ``load_state_dict``."""
        return cls(**config, device=device, dtype=dtype)

    @property
    def n_weight_params(self) -> int:
        return sum(t.numel() for t in self.factors())

    @property
    def n_params(self) -> int:
        """Trainable numbers: the factors plus the bias."""
        return self.n_weight_params + (self.bias.numel() if self.bias is not None else 0)


class MPOLinear(FactorisedCounts, nn.Module):
    """``y = x W^T + b`` with ``W`` (out x in) held as cores ``(chi_{k-1}, b_k, a_k, chi_k)``.

    ``in_features`` is split into in-modes ``a_k`` and ``out_features`` into out-modes ``b_k`` (zero-padded
    where a size factors badly, see :func:`qboost_tn.mpo.shapes.factorize`).

    Parameters
    ----------
    in_features, out_features : int
    max_bond : int or sequence of int, default 8
        Bond dimension(s) chi between neighbouring cores (>= 1), clipped to their largest useful size; kept
        as the per-cut list ``layer.max_bond``.
    n_cores : int, default 4
        Ignored when explicit modes are given.
    in_modes, out_modes : sequence of int, optional
        Explicit factorisations; products may exceed the sizes (zero-padding) but not fall short.
    pattern : str, default "balanced"
        Factorisation pattern when modes are not given.
    bias : bool, default True
    forward_mode : {"auto", "factorized", "reconstructed"}, default "auto"
        ``auto`` picks, per batch size, the grouping of cores with the fewest FLOPs: core by core, partly
        merged, or the full matrix when that is cheaper.

    Notes
    -----
    Random initialisation draws every core entry from N(0, s^2) with ``s`` chosen so that the reconstructed
    weight has variance ``1 / (3 in_features)``, the variance of ``nn.Linear``'s default uniform init
    (an entry of ``W`` is a sum of ``prod(chi)`` products of ``n`` core entries). The bias follows
    ``nn.Linear``: U(-1/sqrt(in), 1/sqrt(in)).

    To save and load: ``torch.save(layer.state_dict(), f)``; rebuild with ``MPOLinear.from_config(cfg)``
    where ``cfg = layer.config()`` (a plain dict, e.g. stored as JSON), then
    ``load_state_dict(torch.load(f, weights_only=True))``. Whole models: :func:`qboost_tn.mpo.save_compressed`.

    Examples
    --------
    >>> layer = MPOLinear.from_linear(nn.Linear(256, 256), max_bond=4)
    >>> layer.max_bond, layer.n_weight_params
    ([4, 4, 4], 640)
    """

    def __init__(self, in_features, out_features, max_bond=8, n_cores=4, in_modes=None, out_modes=None,
                 pattern="balanced", bias=True, forward_mode="auto", device=None, dtype=None):
        super().__init__()
        if int(in_features) < 1 or int(out_features) < 1:
            raise ValueError(f"MPOLinear: sizes must be >= 1, got {in_features} -> {out_features}")
        if forward_mode not in FORWARD_MODES:
            raise ValueError(f"MPOLinear: unknown forward_mode {shown(forward_mode)}; use one of {FORWARD_MODES}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.in_modes, self.out_modes = tensorize_shape(self.in_features, self.out_features, n_cores, in_modes,
                                                        out_modes, pattern)
        self.max_bond = clip_bonds(max_bond, self.in_modes, self.out_modes)
        check_params_fit(f"MPOLinear({self.in_features}, {self.out_features}, max_bond={max(self.max_bond)})",
                         n_core_params(self.in_modes, self.out_modes, self.max_bond)
                         + (self.out_features if bias else 0), dtype)
        self.forward_mode = forward_mode
        factory = {"device": device, "dtype": dtype}
        self.cores = nn.ParameterList(nn.Parameter(torch.empty(shape, **factory))
                                      for shape in core_shapes(self.in_modes, self.out_modes, self.max_bond))
        self.bias = nn.Parameter(torch.empty(self.out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        target_var = 1.0 / (3.0 * self.in_features)
        n = len(self.cores)
        std = (target_var / math.prod(self.max_bond)) ** (1.0 / (2 * n))
        with torch.no_grad():
            for core in self.cores:
                core.normal_(0.0, std)
            if self.bias is not None:
                bound = 1.0 / math.sqrt(self.in_features)
                self.bias.uniform_(-bound, bound)

    # ----------------------------------------------------------------------------------------------------
    @classmethod
    def from_linear(cls, linear, n_cores=None, in_modes=None, out_modes=None, pattern="balanced", max_bond=None,
                    rel_tol=None, param_fraction=None, forward_mode="auto", batch=256):
        """Factor a trained ``nn.Linear`` by TT-SVD (exact when no truncation is asked for).

        Truncation: at most one of ``max_bond``, ``rel_tol`` (relative Frobenius error in (0, 1)) and
        ``param_fraction`` (cores / dense weight parameters). The decomposition (singular values per bond,
        discarded weight, relative error) is kept in ``layer.decomposition`` (not part of the state_dict).

        With ``param_fraction`` and neither ``n_cores`` nor explicit modes, the number of cores and the mode
        split are chosen too: of the configurations :func:`tt_configurations` lists within the budget, the one
        whose planned forward for ``batch`` samples has the fewest FLOPs. Otherwise ``n_cores`` defaults to 4
        and ``pattern`` splits the sizes.
        """
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"MPOLinear.from_linear needs an nn.Linear, got {type(linear).__name__}")
        weight = linear.weight.detach()
        if not torch.isfinite(weight).all() or (linear.bias is not None and not torch.isfinite(linear.bias).all()):
            raise ValueError("MPOLinear.from_linear: the layer's weight or bias contains NaN or inf")
        if param_fraction is not None and n_cores is None and in_modes is None and out_modes is None:
            if max_bond is not None or rel_tol is not None:
                raise ValueError("MPOLinear.from_linear: give at most one of max_bond, rel_tol, param_fraction")
            best = tt_configurations(linear.in_features, linear.out_features, param_fraction, batch=batch).iloc[0]
            ins, outs, max_bond, param_fraction = best.in_modes, best.out_modes, int(best.max_bond), None
        else:
            ins, outs = tensorize_shape(linear.in_features, linear.out_features, n_cores or 4, in_modes, out_modes,
                                        pattern)
        result = tt_svd(weight, ins, outs, max_bond=max_bond, rel_tol=rel_tol, param_fraction=param_fraction)
        layer = cls(linear.in_features, linear.out_features, max_bond=result.max_bond, in_modes=ins, out_modes=outs,
                    bias=linear.bias is not None, forward_mode=forward_mode, device=weight.device,
                    dtype=weight.dtype)
        return load_decomposition(layer, result, linear.bias)

    def to_linear(self) -> nn.Linear:
        """A dense ``nn.Linear`` with the reconstructed weight (same outputs to float tolerance)."""
        first = self.cores[0]
        linear = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                           device=first.device, dtype=first.dtype)
        with torch.no_grad():
            linear.weight.copy_(self.weight)
            if self.bias is not None:
                linear.bias.copy_(self.bias)
        return linear

    def config(self) -> dict:
        """Everything needed to rebuild this layer's skeleton (JSON-able); see :meth:`from_config`."""
        return {"in_features": self.in_features, "out_features": self.out_features, "max_bond": list(self.max_bond),
                "in_modes": list(self.in_modes), "out_modes": list(self.out_modes),
                "bias": self.bias is not None, "forward_mode": self.forward_mode}

    # ----------------------------------------------------------------------------------------------------
    @property
    def weight(self) -> torch.Tensor:
        """The reconstructed dense weight, ``(out_features, in_features)`` (differentiable)."""
        return reconstruct(list(self.cores), self.out_features, self.in_features)

    def factors(self):
        return list(self.cores)

    @property
    def compression_ratio(self) -> float:
        """Dense weight parameters / core parameters (bias excluded on both sides)."""
        return self.in_features * self.out_features / self.n_weight_params

    def flops(self, batch=1) -> float:
        """FLOPs per sample of the forward pass chosen for ``batch`` samples (bias excluded).

        A multiply-add counts 2; merging cores (paid once per call) is shared over the batch.
        """
        return plan(self.in_modes, self.out_modes, tuple(self.max_bond), int(batch), self.forward_mode)[1] / batch

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"MPOLinear: input has {x.shape[-1]} features, expected {self.in_features}")
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.in_features)
        pad = math.prod(self.in_modes) - self.in_features
        if pad:
            flat = F.pad(flat, (0, pad))
        groups, _ = plan(self.in_modes, self.out_modes, tuple(self.max_bond), max(flat.shape[0], 1),
                         self.forward_mode)
        out = mpo_matmul(flat, list(self.cores), groups)[:, :self.out_features]
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, in_modes={self.in_modes}, "
                f"out_modes={self.out_modes}, max_bond={self.max_bond}, bias={self.bias is not None}")


def _mode_splits(size, n_cores):
    """Orderings of the balanced factorisation of ``size`` (all of them up to 4 cores, else the patterns)."""
    modes = factorize(size, n_cores)
    if n_cores <= 4:
        return sorted(set(itertools.permutations(modes)))
    return sorted({factorize(size, n_cores, p) for p in ("balanced", "ascending")})


def tt_configurations(in_features, out_features, param_fraction, n_cores=(2, 3, 4, 5, 6), batch=256):
    """Every (number of cores, mode split) within ``param_fraction`` of the dense weight, fewest FLOPs first.

    For each number of cores, each ordering of the balanced in- and out-mode factorisations is given the
    largest uniform bond whose cores fit the budget; its FLOPs are those of the forward :func:`plan` picks for
    ``batch`` samples (per sample, multiply-add = 2). Splits where even bond 1 exceeds the budget are skipped.

    Returns
    -------
    DataFrame
        ``n_cores, in_modes, out_modes`` (tuples), ``max_bond, params, param_fraction, flops, flop_ratio``
        (dense FLOPs / these), sorted by FLOPs, then by more parameters (a better approximation at equal cost).
    """
    dense = in_features * out_features
    rows = []
    for n in n_cores:
        for ins in _mode_splits(in_features, n):
            for outs in _mode_splits(out_features, n):
                try:
                    bond = bond_for_fraction(param_fraction, ins, outs, dense)
                except ValueError:
                    continue
                bonds = tuple(clip_bonds(bond, ins, outs))
                flops = plan(ins, outs, bonds, batch)[1] / batch
                params = n_core_params(ins, outs, bonds)
                rows.append({"n_cores": n, "in_modes": ins, "out_modes": outs, "max_bond": bond, "params": params,
                             "param_fraction": params / dense, "flops": flops, "flop_ratio": 2 * dense / flops})
    if not rows:
        raise ValueError(f"no MPO of {list(n_cores)} cores for a {out_features} x {in_features} weight fits "
                         f"param_fraction {param_fraction}")
    table = pd.DataFrame(rows).sort_values(["flops", "params"], ascending=[True, False], kind="stable")
    return table.reset_index(drop=True)


def load_decomposition(layer, result, bias):
    """Copy the cores of a TT-SVD ``result`` (and ``bias``, if any) into a freshly built factorised ``layer``."""
    with torch.no_grad():
        for param, core in zip(layer.cores, result.cores):
            param.copy_(core)
        if bias is not None:
            layer.bias.copy_(bias)
    layer.decomposition = result
    return layer


def _stored_bits(module) -> int:
    """:func:`qboost_tn.eval.model_bytes` of a factorised layer: its factors' elements and its bias."""
    bias = 0 if module.bias is None else module.bias.numel() * FLOAT
    return sum(t.numel() for t in module.factors()) * FLOAT + bias


register_model_bytes(FactorisedCounts, _stored_bits)
