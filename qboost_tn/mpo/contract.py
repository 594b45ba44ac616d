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

from .._text import shown

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
        raise ValueError(f"unknown forward mode {shown(mode)}; use one of {FORWARD_MODES}")
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
    return _in_chunks(_choose_sweep(cores), x, cores)


def _choose_sweep(cores):
    """The copy-free sweep (from the right or from the left) that writes fewer numbers per sample.

    On ties the one from the right: its matrices are the cores as stored (no permute).

    Either is copy-free only when each of its batched products has 1 or at least :data:`_MIN_BATCHED_COLUMNS`
    columns; when neither is, one large GEMM per core with a transpose between (:func:`_sweep_gemm`).
    """
    a = [core.shape[2] for core in cores]
    b = [core.shape[1] for core in cores]
    n = len(cores)

    def usable(columns):
        return all(q == 1 or q >= _MIN_BATCHED_COLUMNS for q in columns)

    options = []
    if usable([math.prod(b[k + 1:]) for k in range(n)]):
        options.append((sum(math.prod(a[:k]) * cores[k].shape[0] * math.prod(b[k:]) for k in range(n)),
                        _sweep_right))
    if usable([math.prod(a[k + 1:]) for k in range(n)]):
        options.append((sum(math.prod(b[:k + 1]) * cores[k].shape[3] * math.prod(a[k + 1:]) for k in range(n)),
                        _sweep_batched))
    return min(options, key=lambda o: o[0])[1] if options else _sweep_gemm


# Below this many columns per matrix, batched small products lose to one large GEMM plus a transpose.
_MIN_BATCHED_COLUMNS = 16
# On one thread, samples go through the sweep in chunks whose largest intermediate holds about this many numbers
# (2 MiB of float32): the state then stays in cache from one step to the next instead of round-tripping through
# memory.
# On the 4096 x 4096, chi 8 layer at batch 256 this took the forward from 2.4x to 3.5x faster than nn.Linear.
CHUNK_ELEMENTS = 1 << 19


def _intermediate_per_sample(cores) -> int:
    """Largest state (numbers per sample) a sweep in either direction writes."""
    a = [core.shape[2] for core in cores]
    b = [core.shape[1] for core in cores]
    return max(max(math.prod(b[:k + 1]) * core.shape[3] * math.prod(a[k + 1:]),
                   math.prod(a[:k]) * core.shape[0] * math.prod(b[k:])) for k, core in enumerate(cores))


def _in_chunks(sweep, x, cores):
    """Run ``sweep`` over chunks of samples (see :data:`CHUNK_ELEMENTS`), writing into one output tensor."""
    batch = x.shape[0]
    chunk = max(1, CHUNK_ELEMENTS // _intermediate_per_sample(cores))
    # With several threads every small product is a parallel region whose barrier waits for the slowest
    # thread; on the shared 2-core machine chunking then made the same layer 5x slower (0.34x vs 1.69x dense
    # at 2 threads), so only a single thread sweeps in chunks.
    if chunk >= batch or torch.get_num_threads() > 1:
        return sweep(x, cores)
    width = math.prod(core.shape[1] for core in cores)
    if torch.is_grad_enabled() and (x.requires_grad or any(core.requires_grad for core in cores)):
        # out= is not differentiable; autograd keeps every chunk's intermediates anyway
        return torch.cat([sweep(x[i:i + chunk], cores) for i in range(0, batch, chunk)])
    out = x.new_empty(batch, width, dtype=torch.result_type(x, cores[0]))
    for i in range(0, batch, chunk):
        sweep(x[i:i + chunk], cores, out=out[i:i + chunk])
    return out


def _sweep_batched(x, cores, out=None):
    """Copy-free sweep: state (P, chi_{k-1} a_k, Q), each step one batched product from the left.

    P runs over (sample, finished out-modes) and Q over the in-modes still to come. With the core laid out as
    (b_k chi_k) x (chi_{k-1} a_k) the product's (b_k, chi_k, a_{k+1}, ...) order is already the next state's,
    so no transpose is needed; a step with Q = 1 is one plain GEMM. ``out`` (batch, prod b), if given,
    receives the result.
    """
    batch = x.shape[0]
    state = x.reshape(batch, cores[0].shape[2], -1)
    for k, core in enumerate(cores):
        c, b, a, d = core.shape
        g = core.permute(1, 3, 0, 2).reshape(b * d, c * a)
        last = k == len(cores) - 1
        if state.shape[2] == 1:
            flat = state.reshape(-1, c * a)
            if last and out is not None:
                return torch.mm(flat, g.T, out=out.view(flat.shape[0], b * d))
            result = (flat @ g.T).unsqueeze(-1)
        elif last and out is not None:
            return torch.matmul(g, state, out=out.view(state.shape[0], b * d, state.shape[2]))
        else:
            result = torch.matmul(g, state)
        if last:
            return result.reshape(batch, -1)
        nxt = cores[k + 1].shape[2]
        state = result.reshape(result.shape[0] * b, d * nxt, result.shape[2] // nxt)


def _sweep_right(x, cores, out=None):
    """Copy-free sweep from the last core: state (P, a_k chi_k, Q), each step one product from the left.

    P runs over (sample, in-modes still to come) and Q over the finished out-modes. The cores' own
    (chi_{k-1} b_k) x (a_k chi_k) layout is the matrix, and the product's (a_{k-1}, chi_{k-1}, b_k, ...) order is
    already the next state's. The first step (Q = 1) is one plain GEMM; the last writes the output's
    (b_1, ..., b_n) order. ``out`` (batch, prod b), if given, receives the result.
    """
    batch = x.shape[0]
    state = x.reshape(-1, cores[-1].shape[2], 1)
    for k in range(len(cores) - 1, -1, -1):
        c, b, a, d = cores[k].shape
        g = cores[k].reshape(c * b, a * d)
        rows, cols = state.shape[0], state.shape[2]
        target = out.view(rows, c * b, cols) if k == 0 and out is not None else None
        if cols == 1:
            result = torch.mm(state.reshape(rows, a * d), g.T,
                              **({} if target is None else {"out": target.view(rows, c * b)}))
        else:
            result = torch.matmul(g, state, **({} if target is None else {"out": target}))
        if k == 0:
            return result.reshape(batch, -1)
        prev = cores[k - 1].shape[2]
        state = result.reshape(rows // prev, prev * c, b * cols)


def _sweep_gemm(x, cores, out=None):
    """Sweep with one large GEMM per core: state (M, R, a_k chi_{k-1}) and one transpose per step."""
    batch = x.shape[0]
    a_modes = [core.shape[2] for core in cores]
    state = x.reshape(batch, a_modes[0], -1).transpose(1, 2).reshape(batch, -1, a_modes[0])
    for k, core in enumerate(cores):
        c, b, a, d = core.shape
        result = state @ core.permute(2, 0, 1, 3).reshape(a * c, b * d)
        if k == len(cores) - 1:
            result = result.reshape(batch, -1)
            return result if out is None else out.copy_(result)
        m, r = result.shape[0], result.shape[1]
        nxt = a_modes[k + 1]
        state = (result.reshape(m, nxt, r // nxt, b, d).permute(0, 3, 2, 1, 4)
                 .reshape(m * b, r // nxt, nxt * d))
