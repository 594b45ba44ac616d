"""QBoost's pieces (Neven et al. 2008): decision stumps, and the selection energy as a layered Ising problem.

The selection energy of one binary task, for weak-learner outputs ``H`` (samples × learners) in [−1, 1]:

    E(w) = mean_s (c Σ_i w_i H[s, i] + b − y_s)² + (λ / N) Σ_i w_i,    w_i ∈ {0, 1/L, …, 1}

minimised over a free bias ``b``. The weights are ``w = (W + L) / (2L)`` of the layer sums ``W`` of ``L`` spin
layers, so it is a :class:`~qboost_tn.qubo.model.LayeredProblem` any solver anneals (L = 1: classic binary
selection).

Which entries of ``H`` are honest matters: a tree's output on a row it was grown on is near-perfect. With a
mask of usable ("out-of-bag") entries every moment of the energy is estimated from the rows where it is
usable — the pairwise products ``H_i H_j`` from rows out of bag for both ``i`` and ``j`` — so the energy is an
estimate of the ensemble's squared error on new data. With every entry usable it is the plain training energy.
"""
from __future__ import annotations

import numpy as np

from .model import LayeredProblem


def fit_stumps(X, target, n_thresholds=16, sample_weight=None):
    """The best decision stump on each single feature for ±1 ``target``.

    Candidate thresholds are ``n_thresholds`` quantiles of each feature's training values; a stump is
    chosen by balanced accuracy, so the rare class of a one-vs-rest task is not ignored.

    ``sample_weight`` weighs the rows in the true and false positive rates.

    Returns
    -------
    thresholds, polarities : ndarray of shape (P,)
        Stump ``j`` says ``polarities[j] * (+1 if x_j > thresholds[j] else −1)``.
    """
    X = np.asarray(X, dtype=np.float64)
    pos = target > 0
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        w_pos, w_neg = w * pos / max(float(w[pos].sum()), 1e-300), w * ~pos / max(float(w[~pos].sum()), 1e-300)
    quantiles = (np.arange(n_thresholds) + 0.5) / n_thresholds
    candidates = np.quantile(X, quantiles, axis=0)  # (K, P)
    best_gain = np.full(X.shape[1], -1.0)
    thresholds = np.zeros(X.shape[1])
    polarities = np.ones(X.shape[1])
    for thr in candidates:
        above = X > thr
        if sample_weight is None:
            tpr, fpr = above[pos].mean(axis=0), above[~pos].mean(axis=0)
        else:
            tpr, fpr = w_pos @ above, w_neg @ above
        balanced = (tpr + 1.0 - fpr) / 2.0
        gain = np.abs(balanced - 0.5)
        better = gain > best_gain
        best_gain[better] = gain[better]
        thresholds[better] = thr[better]
        polarities[better] = np.where(balanced[better] >= 0.5, 1.0, -1.0)
    return thresholds, polarities


def stump_outputs(X, thresholds, polarities) -> np.ndarray:
    """(n_samples, P) outputs in {−1, +1} of the stumps from :func:`fit_stumps`."""
    return polarities * np.where(np.asarray(X) > thresholds, 1.0, -1.0)


def selection_moments(H, y, usable=None, sample_weight=None):
    """Centred second moments of the selection energy, each from the rows where it is usable.

    Parameters
    ----------
    H : ndarray of shape (S, N)
        Weak-learner outputs.
    y : ndarray of shape (S,)
        Targets ±1.
    usable : ndarray of bool, shape (S, N), optional
        Entries that may be used (out-of-bag); default all.
    sample_weight : ndarray of shape (S,), optional
        Weight of each row in every mean (default 1).

    Returns
    -------
    G : ndarray (N, N)
        ``G[i, j]``: mean of ``(H_i − m_i)(H_j − m_j)`` over rows usable for both (0 where there is none).
    r : ndarray (N,)
        Mean of ``(H_i − m_i)(y − ȳ)`` over rows usable for ``i``.
    means : ndarray (N,)
        ``m_i``: mean of ``H_i`` over its usable rows.
    y_mean, y_var : float
    """
    H = np.asarray(H, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    M = np.ones(H.shape, dtype=np.float64) if usable is None else np.asarray(usable, dtype=np.float64)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    Mw = M * w[:, None]
    count = Mw.sum(axis=0)
    count = np.where(count > 0, count, 1.0)
    means = (H * Mw).sum(axis=0) / count
    centred = (H - means) * M
    y_mean = float(y.mean() if sample_weight is None else w @ y / w.sum())
    yc = y - y_mean
    pairs = M.T @ Mw
    G = (centred.T @ (centred * w[:, None])) / np.where(pairs > 0, pairs, 1.0)
    r = (centred.T @ (w * yc)) / count
    y_var = float(yc @ yc) / len(yc) if sample_weight is None else float(w @ yc**2 / w.sum())
    return G, r, means, y_mean, y_var


def selection_problem(G, r, y_var, *, scale, lam, n_layers) -> LayeredProblem:
    """The selection energy (module docstring) from :func:`selection_moments`, as a LayeredProblem.

    ``scale`` is ``c``; ``lam`` is λ, the cost of keeping every learner at full weight, in units of the
    squared error (each weight ``w_i`` costs ``λ / N``). The problem's energy of spins ``s`` equals ``E(w)``
    with ``w = (s.sum(0) + L) / (2L)`` exactly.
    """
    N, L = len(r), int(n_layers)
    a, d = 1.0 / (2 * L), 0.5  # w = a W + d
    row = G.sum(axis=1)
    penalty = lam / N
    Q = (scale * a) ** 2 * G
    h = 2.0 * scale**2 * a * d * row - 2.0 * scale * a * r + penalty * a
    offset = (scale * d) ** 2 * row.sum() - 2.0 * scale * d * r.sum() + y_var + penalty * d * N
    return LayeredProblem(Q, h, offset, L)


def uniform_gain(G, r) -> float:
    """Least-squares gain ``g`` of the plain average of every learner: ``ȳ + g · mean_i H_i`` fits best."""
    total = float(G.sum())
    return float(r.sum()) * len(r) / total if total > 0 else 1.0


def selection_energy(weights, G, r, y_var, *, scale, lam) -> float:
    """``E(w)`` of the module docstring for real weights (what :func:`selection_problem` encodes)."""
    w = np.asarray(weights, dtype=np.float64)
    return float(scale**2 * w @ G @ w - 2.0 * scale * w @ r + y_var + lam * w.sum() / len(w))
