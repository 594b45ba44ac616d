"""Classic QBoost (Neven et al.): weak classifiers, and the selection energy as a one-layer Ising problem."""
from __future__ import annotations

import numpy as np

from .model import LayeredProblem


def fit_stumps(X, target, n_thresholds=16):
    """The best decision stump on each single feature for ±1 ``target``.

    Candidate thresholds are ``n_thresholds`` quantiles of each feature's training values; a stump is
    chosen by balanced accuracy, so the rare class of a one-vs-rest task is not ignored.

    Returns
    -------
    thresholds, polarities : ndarray of shape (P,)
        Stump ``j`` says ``polarities[j] * (+1 if x_j > thresholds[j] else −1)``.
    """
    X = np.asarray(X, dtype=np.float64)
    pos = target > 0
    quantiles = (np.arange(n_thresholds) + 0.5) / n_thresholds
    candidates = np.quantile(X, quantiles, axis=0)  # (K, P)
    best_gain = np.full(X.shape[1], -1.0)
    thresholds = np.zeros(X.shape[1])
    polarities = np.ones(X.shape[1])
    for thr in candidates:
        above = X > thr
        tpr = above[pos].mean(axis=0)
        fpr = above[~pos].mean(axis=0)
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


def qboost_problem(H, y, lam) -> LayeredProblem:
    """The QBoost selection energy as a one-layer spin problem.

    ``E(w) = (1/S) Σ_s ((1/N) Σ_i w_i H[s, i] − y_s)² + λ Σ_i w_i`` over ``w ∈ {0, 1}^N`` becomes,
    with ``w = (s + 1) / 2``, a :class:`LayeredProblem` with ``n_layers=1`` whose spin energy equals E exactly
    (``problem.to_bqm().change_vartype("BINARY")`` gives back the problem in ``w``).

    Parameters
    ----------
    H : ndarray of shape (S, N)
        Weak classifier outputs in {−1, +1} on the S training samples.
    y : ndarray of shape (S,)
        Targets ±1.
    lam : float
        λ ≥ 0.
    """
    H = np.asarray(H, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    S, N = H.shape
    A = (H.T @ H) / (S * N**2)
    linear = lam - 2.0 * (H.T @ y) / (S * N)  # coefficient of w in E
    row = A.sum(axis=1)
    return LayeredProblem(Q=A / 4.0, h=row / 2.0 + linear / 2.0,
                          offset=row.sum() / 4.0 + linear.sum() / 2.0 + float(y @ y) / S, n_layers=1)
