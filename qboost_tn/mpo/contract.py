"""Functional MPO contractions: reconstruct the matrix, apply it core by core, and plan the cheapest order.

FLOPs here count a multiply-add as 2 (as ``2 * in * out`` for a dense layer). Plans are chosen on FLOPs plus a
charge for the intermediate tensors the sweep writes: on a CPU its small GEMMs and transposes are bound by memory,
not arithmetic (a 256 x 256 layer at bond 4 has 0.6x the dense FLOPs but ran 7x slower core by core).
"""
from __future__ import annotations

import functools
import itertools
import math

import torch
import torch.nn.functional as F

FORWARD_MODES = ("auto", "factorized", "reconstructed")
# FLOP-equivalents charged per element an intermediate sweep step writes (its output and, but for the last step,
# the transposed copy). Measured on the project's 2-core CPU with benchmarks/mpo_speed.py and the Bank Marketing
# layers: it turns the 256-wide layers to their dense matrix and keeps the 4096-wide ones factorised, as timing does.
MEMORY_WEIGHT = 64


def merge_cores(cores):
    """Contract neighbouring cores into one of shape ``(chi_left, prod b, prod a, chi_right)``."""
    merged = cores[0]
    for core in cores[1:]:
        c, b, a, _ = merged.shape
        _, b2, a2, d = core.shape
        merged = torch.einsum("cbad,dfeg->cbfaeg", merged, core).reshape(c, b * b2, a * a2, d)
    return merged


def reconstruct(cores, out_features=None, in_features=None):
    """Dense matrix ``(prod b, prod a)`` of an MPO, optionally cut to ``out_features x in_features``."""
    merged = merge_cores(cores)
    weight = merged.reshape(merged.shape[1], merged.shape[2])
    return weight[:out_features, :in_features]


def _group_modes(in_modes, out_modes, bonds, groups):
    full = [1, *bonds, 1]
    return [(math.prod(in_modes[i:j]), math.prod(out_modes[i:j]), full[i], full[j]) for i, j in groups]


def sweep_flops(in_modes, out_modes, bonds, groups=None) -> int:
    """FLOPs per sample of the left-to-right sweep over (possibly merged) core groups."""
    n = len(in_modes)
    groups = groups or [(k, k + 1) for k in range(n)]
    sites = _group_modes(in_modes, out_modes, bonds, groups)
    macs = 0
    for g, (a, b, c, d) in enumerate(sites):
        done_out = math.prod(s[1] for s in sites[:g])
        todo_in = math.prod(s[0] for s in sites[g + 1:])
        macs += done_out * todo_in * a * c * b * d
    return 2 * macs


def sweep_elements(in_modes, out_modes, bonds, groups) -> int:
    """Elements per sample written by the sweep's steps (outputs plus the copies between steps)."""
    sites = _group_modes(in_modes, out_modes, bonds, groups)
    total = 0
    for g, (_, b, _, d) in enumerate(sites):
        written = math.prod(s[1] for s in sites[:g]) * b * d * math.prod(s[0] for s in sites[g + 1:])
        total += written if g == len(sites) - 1 else 2 * written
    return total


def merge_flops(in_modes, out_modes, bonds, groups) -> int:
    """FLOPs to contract each group of cores into one (paid once per forward, whatever the batch)."""
    full = [1, *bonds, 1]
    macs = 0
    for i, j in groups:
        a, b = in_modes[i], out_modes[i]
        for k in range(i + 1, j):
            macs += full[i] * b * a * full[k] * out_modes[k] * in_modes[k] * full[k + 1]
            a, b = a * in_modes[k], b * out_modes[k]
    return 2 * macs


def _partitions(n):
    for cuts in itertools.product((False, True), repeat=n - 1):
        edges = [0] + [k + 1 for k, cut in enumerate(cuts) if cut] + [n]
        yield tuple(zip(edges[:-1], edges[1:]))


def plan_cost(in_modes, out_modes, bonds, batch, groups) -> tuple[int, int]:
    """``(flops, cost)`` of one forward of ``batch`` samples with ``groups`` merged first.

    ``cost`` adds :data:`MEMORY_WEIGHT` per element the sweep writes; merging is paid once per call.
    """
    flops = batch * sweep_flops(in_modes, out_modes, bonds, groups) + merge_flops(in_modes, out_modes, bonds, groups)
    return flops, flops + batch * MEMORY_WEIGHT * sweep_elements(in_modes, out_modes, bonds, groups)


@functools.lru_cache(maxsize=512)
def plan(in_modes, out_modes, bonds, batch, mode="auto"):
    """Groups of neighbouring cores to merge before the sweep, chosen for the lowest :func:`plan_cost`.

    ``mode="factorized"`` keeps every core apart, ``"reconstructed"`` merges all of them (the dense matrix),
    ``"auto"`` tries every contiguous grouping (2^(n-1) of them) and keeps the cheapest for ``batch`` samples:
    core by core, partly merged, or the full matrix when that is cheaper. Returns ``(groups, flops)``.
    """
    in_modes, out_modes, bonds = tuple(in_modes), tuple(out_modes), tuple(bonds)
    n = len(in_modes)

    def cost(groups):
        return plan_cost(in_modes, out_modes, bonds, batch, groups)[1]

    if mode == "factorized":
        candidates = [tuple((k, k + 1) for k in range(n))]
    elif mode == "reconstructed":
        candidates = [((0, n),)]
    elif mode == "auto":
        candidates = list(_partitions(n)) if n <= 12 else [tuple((k, k + 1) for k in range(n)), ((0, n),)]
    else:
        raise ValueError(f"unknown forward mode {mode!r}; use one of {FORWARD_MODES}")
    best = min(candidates, key=cost)
    return best, plan_cost(in_modes, out_modes, bonds, batch, best)[0]


def mpo_matmul(x, cores, groups=None):
    """``x @ W.T`` for the MPO ``W`` with the given cores, never forming ``W`` unless ``groups`` merges all.

    Parameters
    ----------
    x : Tensor of shape (batch, prod a)
        Already zero-padded to the product of the in-modes.
    cores : list of Tensor ``(chi_{k-1}, b_k, a_k, chi_k)``
    groups : sequence of (start, stop), optional
        Contiguous groups of cores to merge first (see :func:`plan`); default every core on its own.

    Returns
    -------
    Tensor of shape (batch, prod b)
    """
    if groups is not None and len(groups) != len(cores):
        cores = [merge_cores(cores[i:j]) if j - i > 1 else cores[i] for i, j in groups]
    if len(cores) == 1:
        core = cores[0]
        return F.linear(x, core.reshape(core.shape[1], core.shape[2]))
    in_left = [math.prod(core.shape[2] for core in cores[k + 1:]) for k in range(len(cores))]
    if all(q == 1 or q >= _MIN_BATCHED_COLUMNS for q in in_left):
        return _sweep_batched(x, cores)
    return _sweep_gemm(x, cores)


# Below this many columns per matrix, batched small products lose to one large GEMM plus a transpose.
_MIN_BATCHED_COLUMNS = 16


def _sweep_batched(x, cores):
    """Copy-free sweep: state (P, chi_{k-1} a_k, Q), each step one batched product from the left.

    P runs over (sample, finished out-modes) and Q over the in-modes still to come. With the core laid out as
    (b_k chi_k) x (chi_{k-1} a_k) the product's (b_k, chi_k, a_{k+1}, ...) order is already the next state's,
    so no transpose is needed; a step with Q = 1 is one plain GEMM.
    """
    batch = x.shape[0]
    state = x.reshape(batch, cores[0].shape[2], -1)
    for k, core in enumerate(cores):
        c, b, a, d = core.shape
        g = core.permute(1, 3, 0, 2).reshape(b * d, c * a)
        if state.shape[2] == 1:
            out = (state.reshape(-1, c * a) @ g.T).unsqueeze(-1)
        else:
            out = torch.matmul(g, state)
        if k == len(cores) - 1:
            return out.reshape(batch, -1)
        nxt = cores[k + 1].shape[2]
        state = out.reshape(out.shape[0] * b, d * nxt, out.shape[2] // nxt)


def _sweep_gemm(x, cores):
    """Sweep with one large GEMM per core: state (M, R, a_k chi_{k-1}) and one transpose per step."""
    batch = x.shape[0]
    a_modes = [core.shape[2] for core in cores]
    state = x.reshape(batch, a_modes[0], -1).transpose(1, 2).reshape(batch, -1, a_modes[0])
    for k, core in enumerate(cores):
        c, b, a, d = core.shape
        out = state @ core.permute(2, 0, 1, 3).reshape(a * c, b * d)
        if k == len(cores) - 1:
            return out.reshape(batch, -1)
        m, r = out.shape[0], out.shape[1]
        nxt = a_modes[k + 1]
        state = (out.reshape(m, nxt, r // nxt, b, d).permute(0, 3, 2, 1, 4)
                 .reshape(m * b, r // nxt, nxt * d))
