"""Compiled many-replica simulated annealing of ``E(W) = Wᵀ Q W + hᵀ W`` over bounded integer variables.

Every variable ``W_j`` lives on ``{−L, −L+2, …, L}`` and moves by ±2 per proposal. With ``L = 1`` this is
ordinary single-spin-flip annealing of a dense Ising problem, so the layered and the generic dense sampler share
this one kernel. The local field ``f = Q W`` is kept up to date, so a proposal costs O(1) and an accepted move
O(P) (one contiguous row of ``Q``).

Each replica seeds numba's generator with its own seed before it starts, so a replica's result depends only on
its seed — not on how many replicas run, in which order, or on how many threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit


def kernel(**options):
    """``njit(nogil=True, cache=True, **options)``: compiled once per machine, not once per process.

    numba caches next to this file (``__pycache__``) or, where that is read-only, in ``NUMBA_CACHE_DIR`` or
    the user's cache folder. Where no location is writable at all, caching is dropped and each process
    compiles again (seconds, not an error).
    """
    def decorate(func):
        try:
            return njit(nogil=True, cache=True, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return njit(nogil=True, **options)(func)
    return decorate


def warm_up() -> None:
    """Load (or, the first time on a machine, compile) both annealing kernels on a two-variable problem, so
    that a timed fit measures annealing and not numba's start-up."""
    Q = np.array([[0.0, 1.0], [1.0, 0.0]])
    h = np.zeros(2)
    betas, seeds, none = np.array([1.0]), np.array([1], dtype=np.int64), np.empty(0, dtype=np.int64)
    anneal_sums(Q, h, 1, betas, seeds, 1, none)
    anneal_factored_sums(np.eye(2), h, h, 1, betas, seeds, 1, none, np.ones(2), 1)


# Shared by the dense and the factored kernels, so both draw the same random numbers in the same order (the
# two paths are bit-identical before the descent) and take the same greedy decisions.
@kernel()
def _random_start(W, n_layers):
    """L uniform random spins per variable, summed (as a spin-level annealer starts)."""
    for j in range(W.shape[0]):
        w = 0
        for _ in range(n_layers):
            w += 1 if np.random.random() < 0.5 else -1
        W[j] = w


@kernel()
def _initial_state(W, n_layers, start, r):
    """Read ``r``'s state before its sweeps: ``start`` for read 0 when one is given (returns True: that read
    skips the sweeps), else a random start."""
    if r == 0 and start.shape[0] == W.shape[0]:
        W[:] = start
        return True
    _random_start(W, n_layers)
    return False


@kernel()
def _proposal(w, n_layers):
    """A ±2 step of one layer sum: inward at the ends of {−L, …, L}, else up or down with probability 1/2."""
    if w >= n_layers:
        return -2
    if w <= -n_layers:
        return 2
    return 2 if np.random.random() < 0.5 else -2


@kernel(inline="always")
def _accepts(delta, beta):
    """Metropolis' rule for an energy change ``delta`` at inverse temperature ``beta`` (draws only when uphill)."""
    return delta <= 0.0 or np.random.random() < np.exp(-beta * delta)


@kernel()
def _best_single_move(slope, curve_j, w, n_layers, tol):
    """The ±2 step that lowers the energy most by more than ``tol``, or 0 when neither does."""
    up = curve_j + slope if w < n_layers else np.inf
    down = curve_j - slope if w > -n_layers else np.inf
    if up < down and up < -tol:
        return 2
    if down <= up and down < -tol:
        return -2
    return 0


@kernel()
def _metropolis_sweeps(Q, h, curve, n_layers, betas, W, f):
    """Sequential Metropolis sweeps of one replica, one sweep per β; updates ``W`` and ``f = Q W`` in place."""
    for beta in betas:
        for j in range(W.shape[0]):
            d = _proposal(W[j], n_layers)
            if _accepts(d * (2.0 * f[j] + h[j]) + curve[j], beta):
                _move(Q, W, f, j, d)


@kernel()
def _move(M, W, v, j, d):
    """``W[j] += d`` and the kept products with it, ``v += d M[j]``: ``f = Q W`` (``M = Q``) for the dense
    annealer, ``u = Fᵀ W`` (``M = F``) for the factored one."""
    W[j] += d
    row = M[j]
    for k in range(v.shape[0]):
        v[k] += d * row[k]


@kernel()
def _single_descent(Q, h, curve, n_layers, W, f, tol):
    """Greedy ±2 moves of one variable until none lowers the energy by more than ``tol``."""
    P = W.shape[0]
    moved = True
    while moved:
        moved = False
        for j in range(P):
            slope = 2.0 * (2.0 * f[j] + h[j])
            d = _best_single_move(slope, curve[j], W[j], n_layers, tol)
            if d != 0:
                _move(Q, W, f, j, d)
                moved = True


@kernel(fastmath={"reassoc", "nsz"})
def _partner_floor(curve, f, h, up_blocked, down_blocked, row, two_dj, start):
    """The lowest single-move cost of any partner ``k >= start`` next to a move ``dj`` (``two_dj = 2 dj``).

    A plain minimum (no index, blocked moves cost +inf), so it vectorises (``reassoc``: a minimum is exact in
    any order); the pair search scans for the partner itself only when this floor shows a gain.
    """
    best = np.inf
    for k in range(start, f.shape[0]):
        slope = 2.0 * f[k] + h[k] + two_dj * row[k]
        best = min(best, min(curve[k] + 2.0 * slope + up_blocked[k], curve[k] - 2.0 * slope + down_blocked[k]))
    return best


@kernel()
def _block_moves(W, n_layers, k, up_blocked, down_blocked):
    up_blocked[k] = 0.0 if W[k] < n_layers else np.inf
    down_blocked[k] = 0.0 if W[k] > -n_layers else np.inf


@kernel(inline="always")
def _better_partner(best, best_index, best_dk, index, base, slope, w, n_layers):
    """``(best, index, dk)`` after also trying the partner ``index`` one level up and down (``dk = ±2``, change
    ``base ± 2 slope``): the held move unless one of those lowers the energy more."""
    if w < n_layers and base + 2.0 * slope < best:
        best, best_index, best_dk = base + 2.0 * slope, index, 2
    if w > -n_layers and base - 2.0 * slope < best:
        best, best_index, best_dk = base - 2.0 * slope, index, -2
    return best, best_index, best_dk


@kernel(inline="always")
def _lone_move_cost(w, dj, field, h, curve, n_layers):
    """Energy change of moving one variable from ``w`` by ``dj`` (±2) on its own, the first half of a pair
    move; inf off the lattice, so the caller's ``> reach`` test drops it."""
    if abs(w + dj) > n_layers:
        return np.inf
    return dj * (2.0 * field + h) + curve


@kernel()
def _pair_pass(Q, h, curve, n_layers, W, f, reach, tol, up_blocked, down_blocked):
    """One pass of moves of two variables at once (each ±2); returns whether any lowered the energy.

    Needed because correlated features (neighbouring pixels) trap single moves: shifting weight from one to
    the other keeps the fit and only a joint move sees the gain. For each (j, ±2) the best partner k > j is
    taken (each unordered pair is looked at once), O(P) per candidate, O(P²) per pass. After a single-move
    descent every single move costs >= 0, so a pair can only gain through its coupling ``2 dj dk Q_jk`` (at
    most ``reach[j] = 8 max_k |Q_jk|``): candidates costing more than that are skipped without a scan, and
    the others are first checked by :func:`_partner_floor` (most find no gain and need no partner index).
    """
    P = W.shape[0]
    for k in range(P):
        _block_moves(W, n_layers, k, up_blocked, down_blocked)
    improved = False
    for j in range(P - 1):
        for dj in (-2, 2):
            gain_j = _lone_move_cost(W[j], dj, f[j], h[j], curve[j], n_layers)
            if gain_j > reach[j]:
                continue
            row = Q[j]
            if gain_j + _partner_floor(curve, f, h, up_blocked, down_blocked, row, 2.0 * dj, j + 1) >= -tol:
                continue
            best = -tol
            best_k = -1
            best_dk = 0
            for k in range(j + 1, P):
                # Change of the pair for dk = ±2: gain_j + 4 Q_kk + dk (2 f_k + h_k + 2 dj Q_jk).
                best, best_k, best_dk = _better_partner(best, best_k, best_dk, k, gain_j + curve[k],
                                                        2.0 * f[k] + h[k] + 2.0 * dj * row[k], W[k], n_layers)
            if best_k >= 0:
                _move(Q, W, f, j, dj)
                _move(Q, W, f, best_k, best_dk)
                _block_moves(W, n_layers, j, up_blocked, down_blocked)
                _block_moves(W, n_layers, best_k, up_blocked, down_blocked)
                improved = True
                break
    return improved


@kernel()
def _descend(Q, h, curve, reach, tol, n_layers, W, f, max_passes):
    """Single and pair moves that lower the energy, until none is left: every result is a local minimum of
    both neighbourhoods."""
    up_blocked = np.empty(W.shape[0])
    down_blocked = np.empty(W.shape[0])
    for _ in range(max_passes):
        _single_descent(Q, h, curve, n_layers, W, f, tol)
        if not _pair_pass(Q, h, curve, n_layers, W, f, reach, tol, up_blocked, down_blocked):
            return


@kernel()
def _tolerance(Q, h, n_layers):
    """Smallest gain a descent move must show: rounding in the maintained field must not make a flat move look
    like a gain and cycle."""
    return 1e-12 * (np.abs(h).sum() + np.abs(Q).sum() * n_layers + 1e-300)


@kernel()
def _fill_fields(Q, W, f):
    """``f = Q W`` in place."""
    for i in range(W.shape[0]):
        acc = 0.0
        row = Q[i]
        for j in range(W.shape[0]):
            acc += row[j] * W[j]
        f[i] = acc


@kernel()
def single_descent_sums(Q, h, n_layers, start):
    """Greedy ±2 moves of one layer sum at a time from ``start`` (int64, on the lattice) until none lowers
    ``Wᵀ Q W + hᵀ W``; returns the local minimum reached (no pair moves, no sweeps, no random numbers)."""
    W = start.copy()
    f = np.empty(W.shape[0])
    _fill_fields(Q, W, f)
    _single_descent(Q, h, 4.0 * np.diag(Q).copy(), n_layers, W, f, _tolerance(Q, h, n_layers))
    return W


@kernel()
def anneal_sums(Q, h, n_layers, betas, seeds, descend_passes, start):
    """Anneal one replica per seed along ``betas`` from a random spin state; returns the final sums.

    With a ``start``, read 0 is instead the closing descent from ``start`` alone (no sweeps: annealing would
    first heat away what makes the start good); the other reads are unchanged.

    Parameters
    ----------
    Q : (P, P) float64, symmetric, C-contiguous
    h : (P,) float64
    n_layers : int
        ``L``; each sum lies in ``{−L, −L+2, …, L}``.
    betas : (n_sweeps,) float64
        One sequential sweep per β.
    seeds : (R,) int64 in [0, 2**32)
        One generator seed per replica; it fixes the replica's start (L uniform random spins per
        variable, as a spin-level annealer starts) and every proposal.
    descend_passes : int
        Cap on the passes of the descent that ends every replica (it stops when nothing improves).
    start : (P,) or (0,) int64
        Layer sums on the lattice for read 0 to descend from, or empty: every read anneals from random.

    Returns
    -------
    (R, P) int64
    """
    R = seeds.shape[0]
    P = h.shape[0]
    out = np.empty((R, P), dtype=np.int64)
    W = np.empty(P, dtype=np.int64)
    f = np.empty(P, dtype=np.float64)
    # 4 Q_jj: the curvature term of every ±2 move, read contiguously rather than down the diagonal.
    curve = 4.0 * np.diag(Q).copy()
    reach = np.zeros(P)
    for j in range(P):
        for k in range(P):
            if k != j:
                reach[j] = max(reach[j], 8.0 * abs(Q[j, k]))
    tol = _tolerance(Q, h, n_layers)
    for r in range(R):
        np.random.seed(seeds[r])
        warm = _initial_state(W, n_layers, start, r)
        _fill_fields(Q, W, f)
        if not warm:
            _metropolis_sweeps(Q, h, curve, n_layers, betas, W, f)
        _descend(Q, h, curve, reach, tol, n_layers, W, f, descend_passes)
        out[r] = W
    return out


# --- factored form: Q = F Fᵀ + diag(d), F of shape (P, N) ------------------------------------------------
# The same schedule, proposals, random draws and descent as above, but the kept state is ``u = Fᵀ W`` (the N
# predictions) instead of the P fields: the field of W_j, ``(Q W)_j = F_j · u + d_j W_j``, costs O(N) to
# compute and a move O(N) to apply, and nothing of size P × P exists.


@kernel()
def _factored_field(F, diag, W, u, j):
    row = F[j]
    acc = 0.0
    for i in range(row.shape[0]):
        acc += row[i] * u[i]
    return acc + diag[j] * W[j]


@kernel()
def _factored_metropolis(F, diag, h, curve, n_layers, betas, W, u):
    for beta in betas:
        for j in range(W.shape[0]):
            d = _proposal(W[j], n_layers)
            if _accepts(d * (2.0 * _factored_field(F, diag, W, u, j) + h[j]) + curve[j], beta):
                _move(F, W, u, j, d)


@kernel()
def _factored_single_descent(F, diag, h, curve, n_layers, W, u, tol):
    P = W.shape[0]
    moved = True
    while moved:
        moved = False
        for j in range(P):
            slope = 2.0 * (2.0 * _factored_field(F, diag, W, u, j) + h[j])
            d = _best_single_move(slope, curve[j], W[j], n_layers, tol)
            if d != 0:
                _move(F, W, u, j, d)
                moved = True


@kernel()
def _factored_pair_pass(F, diag, h, curve, reach, n_layers, W, u, tol, cand, cfield, block):
    """One pass of pair moves, as :func:`_pair_pass`, searching partners among the candidates only.

    After a single-move descent every single move costs >= 0, so a pair (j, k) can gain only if BOTH single
    costs are below their coupling ``8 |Q_jk|`` <= ``reach``: partners outside the candidate set cannot help.
    The couplings among the C candidates come from BLAS, ``block`` rows of ``F_C F_Cᵀ`` at a time (never a
    P × P matrix), so a pass costs O(C² N) in BLAS plus O(C²) scanning, instead of O(P²) scalar products.
    The set is fixed at the start of the pass; a pass that finds nothing has checked every pair of its
    (unchanged) state, so the descent still ends in a local minimum of single and pair moves.
    """
    P, N = F.shape
    n_cand = 0
    for j in range(P):
        slope = 2.0 * (2.0 * _factored_field(F, diag, W, u, j) + h[j])
        up = curve[j] + slope if W[j] < n_layers else np.inf
        down = curve[j] - slope if W[j] > -n_layers else np.inf
        if min(up, down) <= reach[j]:
            cand[n_cand] = j
            n_cand += 1
    if n_cand < 2:
        return False
    rows = np.empty((n_cand, N))
    for a in range(n_cand):
        rows[a] = F[cand[a]]
        cfield[a] = _factored_field(F, diag, W, u, cand[a])
    improved = False
    for start in range(0, n_cand, block):
        stop = min(start + block, n_cand)
        gram = np.dot(rows[start:stop], rows.T)  # Q_jk = F_j · F_k for these candidates j, all candidates k
        for a in range(start, stop):
            j = cand[a]
            for dj in (-2, 2):
                gain_j = _lone_move_cost(W[j], dj, cfield[a], h[j], curve[j], n_layers)
                if gain_j > reach[j]:
                    continue
                best = -tol
                best_b = -1
                best_dk = 0
                coupling = gram[a - start]
                for b in range(n_cand):
                    if b == a:
                        continue
                    k = cand[b]
                    best, best_b, best_dk = _better_partner(best, best_b, best_dk, b, gain_j + curve[k],
                                                            2.0 * cfield[b] + h[k] + 2.0 * dj * coupling[b], W[k],
                                                            n_layers)
                if best_b >= 0:
                    k = cand[best_b]
                    _move(F, W, u, j, dj)
                    _move(F, W, u, k, best_dk)
                    # Every candidate's field moves by dj Q_ij + dk Q_ik: O(C N) from the kept rows.
                    for b in range(n_cand):
                        cfield[b] = _factored_field(F, diag, W, u, cand[b])
                    improved = True
                    break
    return improved


@kernel()
def _factored_curve_tolerance(F, diag, h, n_layers):
    """(``4 Q_jj`` per feature, the dense kernel's descent tolerance) without forming ``Q = F Fᵀ + diag(d)``."""
    P, N = F.shape
    curve = np.empty(P)
    norm_sum = 0.0
    for j in range(P):
        sq = 0.0
        for i in range(N):
            sq += F[j, i] * F[j, i]
        curve[j] = 4.0 * (sq + diag[j])
        norm_sum += np.sqrt(sq)
    # Σ_jk |Q_jk| <= (Σ_j ‖F_j‖)² + Σ_j |d_j|.
    return curve, 1e-12 * (np.abs(h).sum() + (norm_sum * norm_sum + np.abs(diag).sum()) * n_layers + 1e-300)


@kernel()
def _fill_predictions(F, W, u):
    """``u = Fᵀ W`` in place."""
    u[:] = 0.0
    for j in range(W.shape[0]):
        for i in range(u.shape[0]):
            u[i] += W[j] * F[j, i]


@kernel()
def single_descent_factored_sums(F, diag, h, n_layers, start):
    """:func:`single_descent_sums` for ``Q = F Fᵀ + diag(d)``, O(N) per field, nothing of size P × P."""
    W = start.copy()
    u = np.empty(F.shape[1])
    _fill_predictions(F, W, u)
    curve, tol = _factored_curve_tolerance(F, diag, h, n_layers)
    _factored_single_descent(F, diag, h, curve, n_layers, W, u, tol)
    return W


@kernel()
def anneal_factored_sums(F, diag, h, n_layers, betas, seeds, descend_passes, start, reach, block):
    """:func:`anneal_sums` for ``Q = F Fᵀ + diag(d)``: one replica per seed, same starts and proposals.

    Parameters
    ----------
    F : (P, N) float64, C-contiguous
    diag, h : (P,) float64
    n_layers, betas, seeds, descend_passes, start
        As for :func:`anneal_sums` (read 0 descends from a non-empty ``start`` without sweeps).
    reach : (P,) float64
        An upper bound of ``8 max_{k != j} |Q_jk|`` per feature (prunes the pair search; a looser bound
        costs time, never correctness).
    block : int
        Rows of the candidates' coupling matrix formed at once in the pair search (block × C floats).

    Returns
    -------
    (R, P) int64
    """
    R = seeds.shape[0]
    P, N = F.shape
    out = np.empty((R, P), dtype=np.int64)
    W = np.empty(P, dtype=np.int64)
    u = np.empty(N, dtype=np.float64)
    curve, tol = _factored_curve_tolerance(F, diag, h, n_layers)
    cand = np.empty(P, dtype=np.int64)
    cfield = np.empty(P)
    for r in range(R):
        np.random.seed(seeds[r])
        warm = _initial_state(W, n_layers, start, r)
        _fill_predictions(F, W, u)
        if not warm:
            _factored_metropolis(F, diag, h, curve, n_layers, betas, W, u)
        for _ in range(descend_passes):
            _factored_single_descent(F, diag, h, curve, n_layers, W, u, tol)
            if not _factored_pair_pass(F, diag, h, curve, reach, n_layers, W, u, tol, cand, cfield, block):
                break
        out[r] = W
    return out
