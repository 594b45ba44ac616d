"""Factorised convolutions: ``MPOConv2d`` (a tensor train over channel and kernel modes) and ``TuckerConv2d``.

Both convert from and to ``nn.Conv2d`` with a classmethod pair (``from_conv`` / ``to_conv``) and are exact when
nothing is truncated. Through the compression protocol, ``compress(model, layers, method="mpo")`` turns
``nn.Conv2d`` layers into ``MPOConv2d`` and ``method="tucker"`` into ``TuckerConv2d``, with the same budget and
report as every other method.

``MPOConv2d`` reads the kernel ``W[o, i, kh, kw]`` as a matrix with rows ``o = (b_1, ..., b_n)`` and columns
``(a_1, ..., a_n, k)``, ``i = (a_1, ..., a_n)`` and ``k = (kh, kw)``, i.e. an MPO with ``n`` channel sites
``(b_m, a_m)`` and one kernel site ``(1, kh kw)`` at the end (Garipov et al., "Ultimate tensorization", 2016).
TT-SVD factors it; the layer holds the cores and applies ``F.conv2d`` with the reconstructed kernel, which for
the small kernels of a CNN costs a negligible fraction of the convolution itself.

``TuckerConv2d`` is the Tucker-2 decomposition of Kim et al. (ICLR 2016): ``W = G x_1 U_out x_2 U_in`` with a
small core ``G (r_out, r_in, kh, kw)``, applied as a 1x1 convolution to ``r_in`` channels, the spatial
convolution to ``r_out`` channels and a 1x1 convolution back to ``out_channels`` (fewer FLOPs as well as
fewer parameters).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import QBoostTNError
from .compress import CompressionMethod, MPOCompression, register_compression, relative_error
from .contract import reconstruct
from .layer import FactorisedCounts, load_decomposition
from .shapes import check_params_fit, clip_bonds, core_shapes, n_core_params, tensorize_shape
from .ttsvd import bond_for_fraction, tt_svd
from .._text import shown


def _check_conv(conv, who):
    if not isinstance(conv, nn.Conv2d):
        raise QBoostTNError(f"{who} needs an nn.Conv2d, got {type(conv).__name__}")
    if conv.groups != 1:
        raise QBoostTNError(f"{who}: grouped convolutions (groups={conv.groups}) are not supported")
    if conv.padding_mode != "zeros":
        raise QBoostTNError(f"{who}: padding_mode {shown(conv.padding_mode)} is not supported, only 'zeros'")
    if not torch.isfinite(conv.weight).all() or (conv.bias is not None and not torch.isfinite(conv.bias).all()):
        raise QBoostTNError(f"{who}: the layer's weight or bias contains NaN or inf")


def _conv_args(conv) -> dict:
    return {"stride": conv.stride, "padding": conv.padding, "dilation": conv.dilation}


def _geometry(module) -> dict:
    """The ``nn.Conv2d`` arguments of a factorised convolution, JSON-able (for its ``config()``)."""
    return {"in_channels": module.in_channels, "out_channels": module.out_channels,
            "kernel_size": list(module.kernel_size), "stride": list(module.stride),
            "padding": module.padding if isinstance(module.padding, str) else list(module.padding),
            "dilation": list(module.dilation), "bias": module.bias is not None}


def _empty_conv(module, weight) -> nn.Conv2d:
    """An ``nn.Conv2d`` with ``module``'s geometry, ``weight`` and bias."""
    conv = nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                     padding=module.padding, dilation=module.dilation, bias=module.bias is not None,
                     device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(weight)
        if module.bias is not None:
            conv.bias.copy_(module.bias)
    return conv


class MPOConv2d(FactorisedCounts, nn.Module):
    """2-D convolution whose kernel is an MPO over (out-channel, in-channel) sites plus one kernel site.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, padding, dilation : as in ``nn.Conv2d`` (zero padding, ``groups=1``)
    max_bond : int or sequence of int, default 8
        Bond dimension(s) between neighbouring cores, clipped to their largest useful size; kept as the per-cut
        list ``layer.max_bond`` (``n_cores`` values: ``n_cores - 1`` between channel sites, then the channel
        to kernel cut).
    n_cores : int, default 2
        Channel sites; ignored when explicit modes are given.
    in_modes, out_modes : sequence of int, optional
        Factorisations of the channel counts (products may exceed them: zero-padding).
    bias : bool, default True

    Attributes
    ----------
    cores : ParameterList
        Core ``m`` has shape ``(chi_{m-1}, b_m, a_m, chi_m)``; the last is ``(chi_n, 1, kh kw, 1)``.

    Examples
    --------
    >>> conv = nn.Conv2d(6, 16, 5)
    >>> layer = MPOConv2d.from_conv(conv)  # untruncated: exact
    >>> bool(torch.allclose(layer.to_conv().weight, conv.weight, atol=1e-5))
    True
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, max_bond=8,
                 n_cores=2, in_modes=None, out_modes=None, bias=True, device=None, dtype=None):
        super().__init__()
        if int(in_channels) < 1 or int(out_channels) < 1:
            raise QBoostTNError(f"MPOConv2d: channels must be >= 1, got {in_channels} -> {out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = nn.modules.utils._pair(kernel_size)
        self.stride = nn.modules.utils._pair(stride)
        self.padding = padding if isinstance(padding, str) else nn.modules.utils._pair(padding)
        self.dilation = nn.modules.utils._pair(dilation)
        self.in_modes, self.out_modes = tensorize_shape(self.in_channels, self.out_channels, n_cores, in_modes,
                                                        out_modes)
        self.max_bond = clip_bonds(max_bond, *self._site_modes())
        what = f"MPOConv2d({self.in_channels}, {self.out_channels}, max_bond={max(self.max_bond, default=1)})"
        check_params_fit(what, n_core_params(*self._site_modes(), self.max_bond) + (self.out_channels if bias else 0),
                         dtype)
        factory = {"device": device, "dtype": dtype}
        self.cores = nn.ParameterList(nn.Parameter(torch.empty(shape, **factory))
                                      for shape in core_shapes(*self._site_modes(), self.max_bond))
        self.bias = nn.Parameter(torch.empty(self.out_channels, **factory)) if bias else None
        self.reset_parameters()

    def _site_modes(self):
        """``(in_modes, out_modes)`` of the whole chain: the channel sites, then the kernel site ``(1, kh kw)``."""
        return (*self.in_modes, math.prod(self.kernel_size)), (*self.out_modes, 1)

    def reset_parameters(self) -> None:
        """Kernel entries of ``nn.Conv2d``'s default variance ``1 / (3 fan_in)``; bias U(-1/sqrt(fan_in), ...)."""
        fan_in = self.in_channels * math.prod(self.kernel_size)
        # An entry of the kernel sums prod(chi) products of one entry from each core.
        std = (1.0 / (3.0 * fan_in) / math.prod(self.max_bond)) ** (1.0 / (2 * len(self.cores)))
        with torch.no_grad():
            for core in self.cores:
                core.normal_(0.0, std)
            if self.bias is not None:
                bound = 1.0 / math.sqrt(fan_in)
                self.bias.uniform_(-bound, bound)

    @classmethod
    def from_conv(cls, conv, max_bond=None, rel_tol=None, param_fraction=None, n_cores=2, in_modes=None,
                  out_modes=None):
        """Factor a trained ``nn.Conv2d`` by TT-SVD (exact when no truncation is asked for).

        At most one of ``max_bond``, ``rel_tol`` and ``param_fraction`` (cores / kernel entries), as in
        :func:`qboost_tn.mpo.tt_svd`; the decomposition is kept in ``layer.decomposition``.
        """
        _check_conv(conv, "MPOConv2d.from_conv")
        ins, outs = tensorize_shape(conv.in_channels, conv.out_channels, n_cores, in_modes, out_modes)
        k = math.prod(conv.kernel_size)
        weight = conv.weight.detach()
        padded = weight.new_zeros(math.prod(outs), math.prod(ins), k)
        padded[:conv.out_channels, :conv.in_channels] = weight.reshape(conv.out_channels, conv.in_channels, k)
        modes = ((*ins, k), (*outs, 1))
        try:
            if param_fraction is not None:
                if max_bond is not None or rel_tol is not None:
                    raise QBoostTNError("give at most one of max_bond, rel_tol, param_fraction")
                # the budget is the real kernel's size, not the zero-padded matrix's
                max_bond = bond_for_fraction(param_fraction, *modes, weight.numel())
            result = tt_svd(padded.reshape(padded.shape[0], -1), *modes, max_bond=max_bond, rel_tol=rel_tol)
        except ValueError as exc:
            raise QBoostTNError(f"MPOConv2d.from_conv: {exc}") from exc
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, **_conv_args(conv),
                    max_bond=result.max_bond, in_modes=ins, out_modes=outs, bias=conv.bias is not None,
                    device=weight.device, dtype=weight.dtype)
        return load_decomposition(layer, result, conv.bias)

    def to_conv(self) -> nn.Conv2d:
        """A dense ``nn.Conv2d`` with the reconstructed kernel (same outputs to float tolerance)."""
        return _empty_conv(self, self.weight.detach())

    def config(self) -> dict:
        """Everything needed to rebuild this layer's skeleton (JSON-able); see :meth:`from_config`."""
        return {**_geometry(self), "max_bond": list(self.max_bond), "in_modes": list(self.in_modes),
                "out_modes": list(self.out_modes)}

    @property
    def weight(self) -> torch.Tensor:
        """The reconstructed kernel ``(out_channels, in_channels, kh, kw)`` (differentiable)."""
        matrix = reconstruct(list(self.cores))
        kernel = matrix.reshape(matrix.shape[0], math.prod(self.in_modes), *self.kernel_size)
        return kernel[:self.out_channels, :self.in_channels]

    def factors(self):
        return list(self.cores)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, in_modes={self.in_modes}, out_modes={self.out_modes}, "
                f"max_bond={self.max_bond}, bias={self.bias is not None}")


def _leading_vectors(unfolding, rank):
    """The ``rank`` leading left singular vectors of a mode unfolding (HOSVD factor)."""
    u, _, _ = torch.linalg.svd(unfolding, full_matrices=False)
    return u[:, :rank]


class TuckerConv2d(FactorisedCounts, nn.Module):
    """Tucker-2 convolution: 1x1 to ``rank[1]`` channels, the spatial kernel to ``rank[0]``, 1x1 out.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : as in ``nn.Conv2d`` (zero padding, ``groups=1``)
    rank : (int, int)
        ``(r_out, r_in)``: channels after the spatial convolution and before it, each clipped to the channel
        count on its side.
    bias : bool, default True

    Attributes
    ----------
    first, core, last : nn.Conv2d
        ``first`` (1x1, ``in -> r_in``, no bias), ``core`` (the spatial kernel, ``r_in -> r_out``, no bias),
        ``last`` (1x1, ``r_out -> out``, the bias).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, rank=(4, 4),
                 bias=True, device=None, dtype=None):
        super().__init__()
        r_out, r_in = (int(r) for r in rank)
        if min(r_out, r_in) < 1:
            raise QBoostTNError(f"TuckerConv2d: ranks must be >= 1, got {tuple(rank)}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.rank = (min(r_out, self.out_channels), min(r_in, self.in_channels))
        kernel = math.prod(nn.modules.utils._pair(kernel_size))
        check_params_fit(f"TuckerConv2d({self.in_channels}, {self.out_channels}, rank={self.rank})",
                         self.in_channels * self.rank[1] + self.rank[1] * self.rank[0] * kernel
                         + self.rank[0] * self.out_channels + (self.out_channels if bias else 0), dtype)
        factory = {"device": device, "dtype": dtype}
        self.first = nn.Conv2d(self.in_channels, self.rank[1], 1, bias=False, **factory)
        self.core = nn.Conv2d(self.rank[1], self.rank[0], kernel_size, stride=stride, padding=padding,
                              dilation=dilation, bias=False, **factory)
        self.last = nn.Conv2d(self.rank[0], self.out_channels, 1, bias=bias, **factory)
        self.kernel_size, self.stride = self.core.kernel_size, self.core.stride
        self.padding, self.dilation = self.core.padding, self.core.dilation

    @property
    def bias(self):
        return self.last.bias

    @classmethod
    def from_conv(cls, conv, rank=None, param_fraction=None):
        """Tucker-2 by truncated HOSVD of the kernel's channel unfoldings (exact at full rank).

        Give ``rank = (r_out, r_in)`` or ``param_fraction`` (factor entries / kernel entries; the largest
        ranks in the kernel's channel proportions that fit), or neither for full rank.
        """
        _check_conv(conv, "TuckerConv2d.from_conv")
        if rank is not None and param_fraction is not None:
            raise QBoostTNError("TuckerConv2d.from_conv: give rank or param_fraction, not both")
        out_c, in_c = conv.out_channels, conv.in_channels
        if param_fraction is not None:
            rank = tucker_rank_for_fraction(param_fraction, out_c, in_c, math.prod(conv.kernel_size))
        rank = (out_c, in_c) if rank is None else rank
        layer = cls(in_c, out_c, conv.kernel_size, **_conv_args(conv), rank=rank, bias=conv.bias is not None,
                    device=conv.weight.device, dtype=conv.weight.dtype)
        r_out, r_in = layer.rank
        w = conv.weight.detach().to(torch.float64)
        u_out = _leading_vectors(w.reshape(out_c, -1), r_out)
        u_in = _leading_vectors(w.transpose(0, 1).reshape(in_c, -1), r_in)
        core = torch.einsum("oikl,or,is->rskl", w, u_out, u_in)
        dtype = conv.weight.dtype
        with torch.no_grad():
            layer.first.weight.copy_(u_in.T.reshape(r_in, in_c, 1, 1).to(dtype))
            layer.core.weight.copy_(core.to(dtype))
            layer.last.weight.copy_(u_out.reshape(out_c, r_out, 1, 1).to(dtype))
            if conv.bias is not None:
                layer.last.bias.copy_(conv.bias)
        return layer

    @property
    def weight(self) -> torch.Tensor:
        """The equivalent kernel ``(out_channels, in_channels, kh, kw)`` (differentiable)."""
        return torch.einsum("rskl,or,si->oikl", self.core.weight, self.last.weight[:, :, 0, 0],
                            self.first.weight[:, :, 0, 0])

    def to_conv(self) -> nn.Conv2d:
        return _empty_conv(self, self.weight.detach())

    def config(self) -> dict:
        """Everything needed to rebuild this layer's skeleton (JSON-able); see :meth:`from_config`."""
        return {**_geometry(self), "rank": list(self.rank)}

    def factors(self):
        return [self.first.weight, self.core.weight, self.last.weight]

    def forward(self, x):
        return self.last(self.core(self.first(x)))


def tucker_rank_for_fraction(param_fraction, out_channels, in_channels, kernel_entries) -> tuple[int, int]:
    """Largest ``(r_out, r_in)`` in the proportion ``out : in`` whose Tucker-2 factors fit the budget."""
    if not param_fraction > 0:
        raise QBoostTNError(f"param_fraction must be > 0, got {param_fraction}")
    budget = param_fraction * out_channels * in_channels * kernel_entries

    def size(r_out, r_in):
        return out_channels * r_out + r_out * r_in * kernel_entries + r_in * in_channels

    best = None
    for r_out in range(1, out_channels + 1):
        r_in = max(1, min(in_channels, round(r_out * in_channels / out_channels)))
        if size(r_out, r_in) <= budget:
            best = (r_out, r_in)
    if best is None:
        raise QBoostTNError(f"param_fraction {param_fraction} allows {budget:.0f} parameters but Tucker-2 rank "
                            f"(1, 1) needs {size(1, 1)}")
    return best


# --- the compression protocol (qboost_tn.mpo.compress): nn.Conv2d for "mpo", and the "tucker" method ---------

def _budget_fraction(budget, conv):
    return None if budget.n_params is None else budget.n_params / conv.weight.numel()


@MPOCompression.handles(nn.Conv2d)
def _mpo_conv(method, conv, budget, name):
    """``compress(..., method="mpo")`` on an ``nn.Conv2d``: :class:`MPOConv2d` with two channel sites (the
    channel counts of a CNN are too small to split further) unless ``shapes`` names the layer's modes."""
    if sum(x is not None for x in (budget.n_params, method.rel_tol)) > 1:
        raise QBoostTNError("give the MPO a size budget or rel_tol, not both")
    ins, outs = method.shapes.get(name, (None, None))
    fraction = _budget_fraction(budget, conv)
    criteria = {"max_bond": budget.max_bond, "param_fraction": fraction, "rel_tol": method.rel_tol}
    if fraction is not None and budget.max_bond is not None:  # both limits: the smaller bond of the two
        modes = tensorize_shape(conv.in_channels, conv.out_channels, 2, ins, outs)
        k = math.prod(conv.kernel_size)
        bond = bond_for_fraction(fraction, (*modes[0], k), (*modes[1], 1), conv.weight.numel())
        criteria.update(max_bond=min(budget.max_bond, bond), param_fraction=None)
    layer = MPOConv2d.from_conv(conv, in_modes=ins, out_modes=outs, **criteria)
    return layer, {"params_after": layer.n_weight_params, "rel_error": relative_error(layer.weight, conv.weight),
                   "max_bond": max(layer.max_bond), "bond_dims": "-".join(map(str, layer.max_bond)),
                   "in_modes": "x".join(map(str, layer.in_modes)), "out_modes": "x".join(map(str, layer.out_modes)),
                   "discarded_weight": layer.decomposition.discarded_weight}


class TuckerCompression(CompressionMethod):
    """Tucker-2 of each convolution's kernel over its channel modes (:class:`TuckerConv2d`).

    The budget (weight entries or fraction per layer) picks the largest ranks in the kernel's channel
    proportions that fit; without a budget, ``rank = (r_out, r_in)`` if given, else full rank (exact).
    """

    def __init__(self, rank=None):
        self.rank = rank


@TuckerCompression.handles(nn.Conv2d)
def _tucker_conv(method, conv, budget, name):
    fraction = _budget_fraction(budget, conv)
    layer = TuckerConv2d.from_conv(conv, rank=None if fraction is not None else method.rank,
                                   param_fraction=fraction)
    return layer, {"params_after": layer.n_weight_params, "rel_error": relative_error(layer.weight, conv.weight),
                   "rank": "-".join(map(str, layer.rank))}


register_compression("tucker", TuckerCompression)
