"""A dimod sampler for dense binary quadratic models: numpy conversion, compiled many-replica annealing.

dwave-neal walks adjacency lists and estimates its β range with a Python loop over every coupler; on a
problem where every variable couples to every other (the learner's P·L spins) a dense matrix row is both
smaller and faster to update. This sampler runs the same compiled kernel as
:mod:`qboost_tn.qubo.anneal.layered` with one layer, so it accepts ANY BQM (SPIN or BINARY, any labels).
"""
from __future__ import annotations

import dimod
import numpy as np

from .layered import anneal_layered

# A dense float64 matrix of this many variables takes 3.2 GB; beyond it a sparse sampler (neal) is the tool.
MAX_VARIABLES = 20_000


def dense_ising(bqm):
    """(Q, h, offset) with ``E(s) = sᵀ Q s + hᵀ s + offset`` for the SPIN form of ``bqm``, in its variable order.

    Each coupler ``J_uv`` is split over ``Q[u, v]`` and ``Q[v, u]``; the diagonal stays 0.
    """
    vectors = bqm.spin.to_numpy_vectors(list(bqm.variables))
    n = len(bqm.variables)
    h = np.asarray(vectors.linear_biases, dtype=np.float64)
    rows, cols = vectors.quadratic.row_indices, vectors.quadratic.col_indices
    half = np.asarray(vectors.quadratic.biases, dtype=np.float64) / 2.0
    Q = np.zeros((n, n))
    Q[rows, cols] = half
    Q[cols, rows] = half
    return Q, h, float(vectors.offset)


class DenseSimulatedAnnealingSampler(dimod.Sampler):
    """Simulated annealing of any BQM through a dense coupling matrix (compiled with numba).

    Single-spin-flip Metropolis sweeps along a geometric β schedule, all reads in one compiled call; each
    read ends with a greedy descent over single and pair flips, so every sample is a local minimum of both.
    Memory: one n × n float64 matrix (refused above ``properties["max_variables"]`` variables).

    Examples
    --------
    >>> import dimod
    >>> bqm = dimod.BQM({"a": 1.0, "b": -1.0}, {("a", "b"): -2.0}, 0.5, "SPIN")
    >>> ss = DenseSimulatedAnnealingSampler().sample(bqm, num_reads=4, seed=0)
    >>> {v: int(s) for v, s in ss.first.sample.items()}, float(ss.first.energy)
    ({'a': -1, 'b': -1}, -1.5)
    """

    parameters = {"num_reads": [], "num_sweeps": [], "beta_range": [], "seed": []}
    properties = {"beta_schedule_type": "geometric", "max_variables": MAX_VARIABLES}

    def sample(self, bqm, num_reads=1, num_sweeps=1000, beta_range=None, seed=None, **kwargs):
        """Sample ``bqm``; returns a SampleSet in the BQM's vartype with its exact energies.

        Parameters
        ----------
        bqm : dimod.BinaryQuadraticModel
        num_reads : int, default=1
        num_sweeps : int, default=1000
        beta_range : (float, float), optional
            (hot, cold) inverse temperatures; default from the problem's energy scales
            (:func:`qboost_tn.qubo.anneal.schedule.dense_beta_range`).
        seed : int, optional
            Same seed, same samples.
        """
        kwargs = self.remove_unknown_kwargs(**kwargs)
        n = len(bqm.variables)
        if n > MAX_VARIABLES:
            raise ValueError(f"{type(self).__name__} holds an n x n matrix; this BQM has {n} variables "
                             f"(at most {MAX_VARIABLES}): use neal.SimulatedAnnealingSampler for large sparse BQMs")
        Q, h, offset = dense_ising(bqm)
        if not (np.isfinite(Q).all() and np.isfinite(h).all() and np.isfinite(offset)):
            raise ValueError("the BQM has NaN or inf biases or offset")
        spins, energies, info = anneal_layered(Q, h, 1, num_reads=num_reads, num_sweeps=num_sweeps,
                                               beta_range=beta_range, seed=seed)
        samples = spins if bqm.vartype is dimod.SPIN else (spins + 1) // 2
        return dimod.SampleSet.from_samples((samples.astype(np.int8), list(bqm.variables)), bqm.vartype,
                                            energy=energies + offset, info=info)
