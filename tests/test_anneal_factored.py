"""The factored form of wide least-squares problems: same energies as dense, full BQM, annealing, auto choice."""
from __future__ import annotations

import itertools

import dimod
import numpy as np
import pytest

from qboost_tn.qubo.anneal.factored import anneal_factored, pair_reach, relaxed_factored_start
from qboost_tn.qubo.anneal.layered import LayeredAnnealingSolver
from qboost_tn.qubo.model import (FactoredLayeredProblem, LayeredProblem, least_squares_problem,
                                  ridge_weights)
from qboost_tn.qubo.anneal.schedule import beta_range
from qboost_tn.qubo.solvers import solve


def _wide(N=12, P=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((N, P))
    y = np.where(X[:, 0] + 0.2 * rng.standard_normal(N) > 0.5, 1.0, -1.0)
    return X, y


def _both(X, y, **kwargs):
    return (least_squares_problem(X, y, form="dense", **kwargs),
            least_squares_problem(X, y, form="factored", **kwargs))


@pytest.mark.parametrize("regularizer", ["squared", "linear"])
@pytest.mark.parametrize("weighted", [False, True])
def test_factored_energies_equal_the_dense_ones(regularizer, weighted):
    X, y = _wide()
    rng = np.random.default_rng(1)
    weights = np.where(y > 0, 3.0, 0.5) * rng.random(len(y)) if weighted else None
    weights = None if weights is None else np.where(np.arange(len(y)) == 2, 0.0, weights)  # a zero weight
    dense, factored = _both(X, y, scale=0.3, lam=0.8, regularizer=regularizer, n_layers=3,
                            sample_weight=weights)
    assert isinstance(dense, LayeredProblem) and isinstance(factored, FactoredLayeredProblem)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(50, 3, X.shape[1]))
    np.testing.assert_allclose(factored.energy(spins), dense.energy(spins), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(factored.dense_couplings(), dense.Q, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(factored.h, dense.h)
    assert factored.offset == pytest.approx(dense.offset)
    W = spins.sum(axis=1).astype(float)
    np.testing.assert_allclose(factored.fields(W), dense.fields(W), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(factored.diagonal(), dense.diagonal(), rtol=1e-12)
    assert beta_range(factored) == pytest.approx(beta_range(dense), rel=1e-9)


def test_factored_to_bqm_is_the_full_spin_model():
    X, y = _wide(N=5, P=4)
    dense, factored = _both(X, y, scale=0.5, lam=1.0, regularizer="squared", n_layers=2)
    bqm = factored.to_bqm()
    assert bqm.num_variables == 8 and bqm.num_interactions == 8 * 7 // 2
    spins = np.array(list(itertools.product([-1, 1], repeat=8)), dtype=np.int8)
    np.testing.assert_allclose(bqm.energies((spins, range(8))), dense.energy(spins.reshape(-1, 2, 4)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel", ["dense", "factored"])
def test_factored_anneal_finds_the_ground_state_of_small_problems(kernel, monkeypatch):
    import qboost_tn.qubo.anneal.layered as layered

    # The solver anneals small factored problems on their dense Q; a zero byte budget forces the factored kernel.
    monkeypatch.setattr(layered, "DENSE_KERNEL_BYTES", layered.DENSE_KERNEL_BYTES if kernel == "dense" else 0)
    for seed in range(3):
        X, y = _wide(N=4, P=5, seed=seed)
        dense, factored = _both(X, y, scale=0.4, lam=0.5, regularizer="squared", n_layers=2)
        ground = dimod.ExactSolver().sample(dense.to_bqm()).first.energy
        for warm_start in (False, True):
            solver = LayeredAnnealingSolver(warm_start=warm_start)
            spins, energy = solve(factored, solver, num_reads=4, num_sweeps=50, seed=seed)
            assert energy == pytest.approx(ground, rel=1e-9, abs=1e-12)
            assert factored.energy(spins) == pytest.approx(energy)


def test_factored_sweeps_follow_the_dense_ones_and_end_in_a_pair_local_minimum():
    from qboost_tn.qubo.anneal.kernels import anneal_factored_sums, anneal_sums
    from qboost_tn.qubo.anneal.common import replica_seeds

    X, y = _wide(N=20, P=120, seed=3)
    L = 4
    dense, factored = _both(X, y, scale=0.05, lam=0.3, regularizer="squared", n_layers=L)
    betas = np.geomspace(*beta_range(dense), 30)
    seeds = replica_seeds(2, 3)
    reach = pair_reach(factored.factor)
    # Without the descent: same starts, proposals and acceptances per seed as the dense kernel.
    none = np.empty(0, dtype=np.int64)
    np.testing.assert_array_equal(anneal_factored_sums(factored.factor, factored.diag, factored.h, L, betas,
                                                       seeds, 0, none, reach, 16),
                                  anneal_sums(dense.Q, dense.h, L, betas, seeds, 0, none))
    # With it (small blocks, so the blocked pair search is exercised): no single or pair move improves.
    W = anneal_factored_sums(factored.factor, factored.diag, factored.h, L, betas, seeds, 1000, none, reach, 16)
    Q, h = dense.Q, dense.h
    for w in W.astype(float):
        energy = dense.energy_of_sums(w)
        moves = [(j, d) for j in range(len(w)) for d in (-2, 2) if abs(w[j] + d) <= L]
        for j, d in moves:
            step = w.copy()
            step[j] += d
            assert dense.energy_of_sums(step) >= energy - 1e-12
        f = Q @ w
        single = {(j, d): d * (2 * f[j] + h[j]) + 4 * Q[j, j] for j, d in moves}
        for (j, dj), (k, dk) in itertools.combinations(moves, 2):
            if j != k:
                assert single[j, dj] + single[k, dk] + 2 * dj * dk * Q[j, k] >= -1e-12


def test_factored_warm_start_equals_the_dense_one():
    from qboost_tn.qubo.anneal.layered import relaxed_start

    X, y = _wide(N=15, P=60, seed=4)
    dense, factored = _both(X, y, scale=0.05, lam=0.2, regularizer="squared", n_layers=4)
    start = relaxed_factored_start(factored)  # Woodbury: an N x N system
    np.testing.assert_array_equal(start, relaxed_start(dense.Q, dense.h, 4))
    assert np.any(start != 0)
    # Read 0 of the factored kernel is the descent from it alone: no sweeps, no seed, only lower energy.
    sums, energies, info = anneal_factored(factored, num_reads=1, num_sweeps=5, seed=0, start=start)
    np.testing.assert_array_equal(sums, anneal_factored(factored, num_reads=1, num_sweeps=90, seed=3, start=start)[0])
    assert energies[0] < factored.energy_of_sums(start) and np.isnan(info["beta_range"]).all()
    # Without the squared regulariser F Fᵀ is singular (P > N): no start.
    _, linear = _both(X, y, scale=0.05, lam=0.2, regularizer="linear", n_layers=4)
    assert relaxed_factored_start(linear).size == 0


def test_pair_reach_bounds_every_coupling():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(30, 6))
    Q = F @ F.T
    np.fill_diagonal(Q, 0.0)
    exact = 8 * np.abs(Q).max(axis=1)
    np.testing.assert_allclose(pair_reach(F), exact)
    import qboost_tn.qubo.anneal.factored as factored

    cheap = factored.EXACT_REACH_FLOPS
    factored.EXACT_REACH_FLOPS = 0  # the Cauchy–Schwarz bound
    try:
        assert np.all(pair_reach(F) >= exact - 1e-12)
    finally:
        factored.EXACT_REACH_FLOPS = cheap


def test_auto_form_follows_the_shape():
    from qboost_tn.qubo.model import FACTORED_RATIO

    kwargs = dict(scale=0.1, lam=1.0, regularizer="squared", n_layers=2)
    X, y = _wide(N=10, P=10 * FACTORED_RATIO - 1)
    assert isinstance(least_squares_problem(X, y, **kwargs), LayeredProblem)
    X, y = _wide(N=10, P=10 * FACTORED_RATIO)
    assert isinstance(least_squares_problem(X, y, **kwargs), FactoredLayeredProblem)
    zero = np.r_[0.0, np.ones(9)]  # only samples of non-zero weight count: 9 * ratio < P
    assert isinstance(least_squares_problem(X[:, :-1], y, sample_weight=zero, **kwargs), FactoredLayeredProblem)
    weights = np.r_[-1.0, np.ones(9)]
    assert isinstance(least_squares_problem(X, y, sample_weight=weights, **kwargs), LayeredProblem)
    with pytest.raises(ValueError, match="non-negative"):
        least_squares_problem(X, y, sample_weight=weights, form="factored", **kwargs)
    with pytest.raises(ValueError, match="unknown form"):
        least_squares_problem(X, y, form="sparse", **kwargs)


def test_dual_ridge_equals_primal():
    X, y = _wide(N=8, P=30)
    v = np.random.default_rng(0).random(8)
    wide = ridge_weights(X, y, lam=0.5, curvature=0.1, sample_weight=v)  # P > N: the N x N system
    Xc = X - (v / v.sum()) @ X
    vn = v / v.sum()
    yc = y - vn @ y
    primal = np.linalg.solve(Xc.T @ (vn[:, None] * Xc) + 0.05 * np.eye(30), Xc.T @ (vn * yc))
    np.testing.assert_allclose(wide, primal, rtol=1e-8, atol=1e-10)


def test_factored_problem_rejects_bad_input():
    with pytest.raises(ValueError, match="diag has shape"):
        FactoredLayeredProblem(np.ones((3, 2)), np.ones(2), np.ones(3), 0.0, 1)
    with pytest.raises(ValueError, match="finite"):
        FactoredLayeredProblem(np.full((3, 2), np.nan), np.ones(3), np.ones(3), 0.0, 1)
    with pytest.raises(ValueError, match="n_layers"):
        FactoredLayeredProblem(np.ones((3, 2)), np.ones(3), np.ones(3), 0.0, 0)


def test_wide_learner_fits_through_the_factored_path():
    from sklearn.datasets import load_digits

    from qboost_tn.qubo.shallow_wide import ShallowWideClassifier

    X, y = load_digits(n_class=3, return_X_y=True)
    X, y = X[:5], y[:5]  # 64 features, 5 samples: factored
    clf = ShallowWideClassifier(n_layers=2, num_reads=2, num_sweeps=20, random_state=0)
    assert all(isinstance(p[0], FactoredLayeredProblem) for p in clf.problems(X, y).values())
    serial = clf.fit(X, y)
    parallel = ShallowWideClassifier(n_layers=2, num_reads=2, num_sweeps=20, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.spins_, parallel.spins_)
