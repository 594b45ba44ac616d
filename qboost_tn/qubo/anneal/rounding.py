"""The baselines that show what annealing adds: the continuous relaxation rounded to the layer lattice, and that
rounding followed by a greedy single-move descent. Neither searches; both are deterministic.

What "the continuous minimiser" means, for every layered problem a learner builds
-------------------------------------------------------------------------------
The layer sums live on ``{−L, −L+2, …, L}``, whose convex hull is the box ``[−L, L]^P``. The relaxation is the
energy ``Wᵀ Q W + hᵀ W`` minimised over real ``W`` in that box, made strictly convex so that its minimiser
exists and is unique whatever ``Q`` is:

* ``Q`` is kept when ``Q + εI`` is positive definite (every least-squares problem: the squared regulariser,
  the linear one, λ = 0 alike); otherwise — QBoost's selection problems estimate each pairwise moment from
  the rows out of bag for both learners, so their ``Q`` can be indefinite — it is replaced by its nearest
  positive semidefinite matrix (negative eigenvalues set to 0);
* ``ε = TIE_RIDGE × mean |Q_jj|`` is added to the diagonal: a ridge far below the λ the presets use (0.1 to
  10 of that curvature), which only decides between the minimisers a singular ``Q`` leaves (the linear
  regulariser, λ = 0, or P > N samples), towards small weights.

So a problem has no relaxation only when it is not a layered problem, or is a factored one with a negative
diagonal too wide to convexify (no learner builds one): both raise. Where the unconstrained minimiser of a
positive definite ``Q`` lies inside the box this is that minimiser; the annealer's warm start
(:func:`~qboost_tn.qubo.anneal.layered.relaxed_start`) clips it instead when it does not, and has none for a
singular or indefinite ``Q``. The box problem is solved by a primal-dual interior-point method (no P × P
matrix for a factored problem); rounding is :func:`~qboost_tn.qubo.anneal.common.lattice_round`.
"""
from __future__ import annotations

import dimod
import numpy as np
import scipy.linalg

from ...errors import QBoostTNError
from ..model import BaseLayeredProblem, FactoredLayeredProblem, one_blas_thread
from ..protocol import LayeredSolver
from .common import lattice_round
from .kernels import single_descent_factored_sums, single_descent_sums
from .layered import DENSE_KERNEL_BYTES, layer_spins

# The tie-breaking ridge, relative to the mean curvature |Q_jj|.
TIE_RIDGE = 1e-6
# The interior-point method stops when the mean complementarity (per unit of L) and the dual residual are below
# this fraction of the gradient's scale.
CONVERGENCE = 1e-12
# Iterations before it gives up (the learners' problems take 20 to 35).
MAX_ITERATIONS = 200
# Fraction of the step to the boundary taken (keeps the iterate strictly inside the box).
STEP_FRACTION = 0.99


class _DenseQuadratic:
    """``Wᵀ Q̃ W + hᵀ W`` with ``Q̃`` the convexified dense matrix."""

    def __init__(self, Q, h):
        Q = np.array(Q, dtype=np.float64)
        P = len(h)
        ridge = TIE_RIDGE * _mean_curvature(np.diag(Q))
        shifted = Q + ridge * np.eye(P)
        try:
            scipy.linalg.cho_factor(shifted, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            values, vectors = np.linalg.eigh(Q)
            shifted = (vectors * np.maximum(values, 0.0)) @ vectors.T
            shifted = (shifted + shifted.T) / 2 + ridge * np.eye(P)
        self.Q, self.h = shifted, h
        self.curvature = np.diag(shifted).copy()

    def gradient(self, W):
        return 2.0 * (self.Q @ W) + self.h

    def solver(self, extra):
        """``r -> (2 Q̃ + diag(extra))⁻¹ r``."""
        system = 2.0 * self.Q
        system[np.diag_indices_from(system)] += extra
        factor = scipy.linalg.cho_factor(system, lower=True, check_finite=False)
        return lambda r: scipy.linalg.cho_solve(factor, r, check_finite=False)


class _FactoredQuadratic:
    """``‖Fᵀ W‖² + Σ_j (d_j + ε) W_j² + hᵀ W`` (``d ≥ 0``): O(N·P) memory, Woodbury solves of N × N systems."""

    def __init__(self, F, d, h):
        self.F, self.h = F, h
        squares = np.einsum("jn,jn->j", F, F)
        self.d = d + TIE_RIDGE * _mean_curvature(squares + d)
        self.curvature = squares + self.d

    def gradient(self, W):
        return 2.0 * (self.F @ (W @ self.F) + self.d * W) + self.h

    def solver(self, extra):
        """``r -> (2 F Fᵀ + diag(2 d + extra))⁻¹ r`` by the Woodbury identity: one N × N factorisation."""
        inverse = 1.0 / (2.0 * self.d + extra)
        scaled = self.F * (2.0 * inverse)[:, None]  # A⁻¹ U with U = √2 F, scaled by √2 once more for Uᵀ
        system = np.eye(self.F.shape[1]) + self.F.T @ scaled
        factor = scipy.linalg.cho_factor(system, lower=True, check_finite=False)
        return lambda r: inverse * r - scaled @ scipy.linalg.cho_solve(factor, self.F.T @ (inverse * r),
                                                                       check_finite=False)


def _mean_curvature(diagonal) -> float:
    scale = float(np.mean(np.abs(diagonal))) if len(diagonal) else 0.0
    return scale if scale > 0 else 1.0


def _quadratic(problem):
    """The convexified energy of ``problem``: factored when ``problem`` is (and its diagonal is >= 0)."""
    if isinstance(problem, FactoredLayeredProblem):
        if np.all(problem.diag >= 0):
            return _FactoredQuadratic(problem.factor, problem.diag, problem.h)
        P = problem.n_features
        if 8 * P * P > DENSE_KERNEL_BYTES:
            raise QBoostTNError(f"rounded: this factored problem has a negative diagonal term and {P} features, too "
                                f"many to convexify its {P} x {P} matrix; the learners never build such a problem "
                                "(λ >= 0)")
    return _DenseQuadratic(problem.dense_couplings(), problem.h)


def relaxed_minimiser(problem: BaseLayeredProblem) -> np.ndarray:
    """The real layer sums in ``[−L, L]^P`` minimising the problem's convexified energy (module docstring).

    A primal-dual interior-point method with Mehrotra's predictor-corrector steps; each iteration solves one
    system ``2 Q̃ + diagonal`` (a Cholesky factorisation, or an N × N one for a factored problem). It stops
    when the mean complementarity and the dual residual fall below :data:`CONVERGENCE` times the gradient's
    scale.

    Raises
    ------
    QBoostTNError
        When it has not converged after :data:`MAX_ITERATIONS` iterations.
    """
    if not isinstance(problem, BaseLayeredProblem):
        raise TypeError("relaxed_minimiser needs a layered problem (qboost_tn.qubo.model), "
                        f"got {type(problem).__name__}")
    L = float(problem.n_layers)
    P = problem.n_features
    with one_blas_thread():
        quad = _quadratic(problem)
        W = np.zeros(P)
        g = quad.gradient(W)
        scale = max(float(np.abs(g).max(initial=0.0)), 2.0 * L * float(quad.curvature.max(initial=0.0)), 1e-300)
        # Duals of the lower (z) and upper (y) bounds, started so that the dual residual g − z + y is zero.
        z = scale + np.maximum(g, 0.0)
        y = scale + np.maximum(-g, 0.0)
        for _ in range(MAX_ITERATIONS):
            low, high = W + L, L - W
            residual = g - z + y
            mu = (low @ z + high @ y) / (2 * P)
            if mu <= CONVERGENCE * scale * L and np.abs(residual).max() <= CONVERGENCE * scale:
                return W
            solve = quad.solver(z / low + y / high)
            # Predictor: the affine step (mu -> 0); corrector: centring by (mu_affine / mu)^3 and the second-order
            # terms of the complementarity products.
            dW = solve(-g)
            dz, dy = -z - z / low * dW, -y + y / high * dW
            alpha = _step_to_boundary(W, dW, z, dz, y, dy, L)
            mu_affine = ((low + alpha * dW) @ (z + alpha * dz) + (high - alpha * dW) @ (y + alpha * dy)) / (2 * P)
            target = (mu_affine / mu) ** 3 * mu
            rhs_low, rhs_high = target - dW * dz, target + dW * dy
            dW = solve(-g + rhs_low / low - rhs_high / high)
            dz = rhs_low / low - z - z / low * dW
            dy = rhs_high / high - y + y / high * dW
            alpha = STEP_FRACTION * _step_to_boundary(W, dW, z, dz, y, dy, L)
            W, z, y = W + alpha * dW, z + alpha * dz, y + alpha * dy
            g = quad.gradient(W)
    raise QBoostTNError(f"rounded: the box relaxation of a problem with {P} features did not converge in "
                        f"{MAX_ITERATIONS} interior-point iterations")


def _step_to_boundary(W, dW, z, dz, y, dy, L) -> float:
    """The largest step in [0, 1] keeping ``−L < W < L`` and the duals ``z, y >= 0``."""
    ratios = [1.0]
    for value, change in ((W + L, dW), (L - W, -dW), (z, dz), (y, dy)):
        shrinking = change < 0
        if shrinking.any():
            ratios.append(float(np.min(-value[shrinking] / change[shrinking])))
    return min(ratios)


def rounded_sums(problem: BaseLayeredProblem) -> np.ndarray:
    """Layer sums (int64, shape (P,)) nearest :func:`relaxed_minimiser`."""
    return lattice_round(relaxed_minimiser(problem), problem.n_layers)


def descend(problem: BaseLayeredProblem, sums) -> np.ndarray:
    """Greedy ±2 moves of single layer sums from ``sums`` until none lowers the energy (a local minimum)."""
    start = np.ascontiguousarray(sums, dtype=np.int64)
    L = int(problem.n_layers)
    if isinstance(problem, FactoredLayeredProblem) and 8 * problem.n_features**2 > DENSE_KERNEL_BYTES:
        return single_descent_factored_sums(problem.factor, problem.diag, problem.h, L, start)
    with one_blas_thread():
        Q = np.ascontiguousarray(problem.dense_couplings(), dtype=np.float64)
    return single_descent_sums(Q, np.ascontiguousarray(problem.h, dtype=np.float64), L, start)


class RoundedSolver(LayeredSolver):
    """The relaxation's minimiser rounded to the layer lattice (module docstring): no search, one sample.

    Registered as ``"rounded"``. Deterministic: ``num_reads``, ``num_sweeps`` and ``seed`` change nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from qboost_tn.qubo.model import LayeredProblem
    >>> problem = LayeredProblem(np.eye(3), np.array([-3.0, 0.5, 9.0]), 0.0, n_layers=3)
    >>> ss = RoundedSolver().sample_layered(problem, num_reads=1, num_sweeps=1, seed=None)
    >>> problem.spins_from_sampleset(ss)[0].sum(axis=0)  # minimisers 1.5, -0.25, -4.5 (clipped to -3)
    array([ 1, -1, -3])
    """

    default_budget = (1, 1)
    parameters: dict = {}
    properties = {"problem_types": ("LayeredProblem", "FactoredLayeredProblem"), "deterministic": True}

    def sums(self, problem) -> np.ndarray:
        return rounded_sums(problem)

    def sample_layered(self, problem, *, num_reads=1, num_sweeps=1, seed=None) -> dimod.SampleSet:
        """One sample over ``problem.to_bqm()``'s variables (``l * P + j``), its energy offset included."""
        if not isinstance(problem, BaseLayeredProblem):
            raise TypeError(f"{type(self).__name__} solves layered problems (qboost_tn.qubo.model), "
                            f"got {type(problem).__name__}")
        sums = self.sums(problem)
        L, P = int(problem.n_layers), len(sums)
        return dimod.SampleSet.from_samples((layer_spins(sums, L).reshape(1, L * P), range(L * P)), dimod.SPIN,
                                            energy=problem.energy_of_sums(sums[None]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RoundedDescentSolver(RoundedSolver):
    """:class:`RoundedSolver`'s sums, then greedy single ±2 moves to a local minimum (no pair moves, no sweeps).

    Registered as ``"rounded-descent"``. Deterministic. The annealer's read 0 starts near here too, but from
    the clipped unconstrained minimiser and with pair moves in its descent.
    """

    def sums(self, problem) -> np.ndarray:
        return descend(problem, rounded_sums(problem))
