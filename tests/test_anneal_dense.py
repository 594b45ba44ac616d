"""DenseSimulatedAnnealingSampler through dimod's interface: any labels and vartypes, exact energies, errors."""
from __future__ import annotations

import dimod
import numpy as np
import pytest

from qboost_tn.qubo.anneal.dense import DenseSimulatedAnnealingSampler, dense_ising


def labelled_bqm(vartype, n=10, seed=0):
    """A random dense BQM whose labels are strings and tuples, not 0..n-1."""
    bqm = dimod.generators.gnp_random_bqm(n, 0.8, vartype, random_state=seed)
    names = {i: (f"x{i}" if i % 2 else ("pair", i)) for i in range(n)}
    return bqm.relabel_variables(names, inplace=False)


@pytest.mark.parametrize("vartype", [dimod.SPIN, dimod.BINARY])
def test_samples_match_the_bqm_and_reach_its_ground_state(vartype):
    bqm = labelled_bqm(vartype, seed=1)
    ss = DenseSimulatedAnnealingSampler().sample(bqm, num_reads=6, num_sweeps=200, seed=0)
    assert ss.vartype is vartype and set(ss.variables) == set(bqm.variables)
    assert set(np.unique(ss.record.sample)) <= set(vartype.value)
    np.testing.assert_allclose(ss.record.energy, bqm.energies(ss), rtol=1e-10, atol=1e-10)
    exact = dimod.ExactSolver().sample(bqm).first.energy
    assert ss.first.energy == pytest.approx(exact, rel=1e-9, abs=1e-9)


def test_dense_ising_reproduces_bqm_energies():
    bqm = labelled_bqm(dimod.BINARY, n=8, seed=2)
    Q, h, offset = dense_ising(bqm)
    np.testing.assert_array_equal(Q, Q.T)
    assert not Q.diagonal().any()
    spins = np.random.default_rng(0).choice([-1, 1], size=(20, 8))
    binary = (spins + 1) // 2
    ours = np.einsum("ri,ij,rj->r", spins, Q, spins) + spins @ h + offset
    np.testing.assert_allclose(ours, bqm.energies((binary, list(bqm.variables))), rtol=1e-12, atol=1e-12)


def test_dimod_front_doors_and_declared_parameters():
    sampler = DenseSimulatedAnnealingSampler()
    assert {"num_reads", "num_sweeps", "beta_range", "seed"} <= set(sampler.parameters)
    assert "max_variables" in sampler.properties
    ss = sampler.sample_ising({"a": 1.0}, {("a", "b"): -1.0}, num_reads=3, seed=0)
    assert ss.first.energy == pytest.approx(-2.0)
    ss = sampler.sample_qubo({("u", "u"): -1.0, ("u", "v"): 2.0, ("v", "v"): -1.0}, seed=0)
    assert ss.first.energy == pytest.approx(-1.0)
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        sampler.sample(dimod.BQM({"a": 1.0}, {}, 0.0, "SPIN"), not_a_parameter=1)


def test_seeded_runs_repeat_and_empty_bqm_works():
    bqm = labelled_bqm(dimod.SPIN, n=30, seed=3)
    a = DenseSimulatedAnnealingSampler().sample(bqm, num_reads=4, num_sweeps=20, seed=5)
    b = DenseSimulatedAnnealingSampler().sample(bqm, num_reads=4, num_sweeps=20, seed=5)
    np.testing.assert_array_equal(a.record.sample, b.record.sample)
    empty = DenseSimulatedAnnealingSampler().sample(dimod.BQM({}, {}, 1.5, "BINARY"), num_reads=2)
    assert len(empty) == 2 and np.all(empty.record.energy == 1.5)


def test_bad_input_gives_clear_errors():
    sampler = DenseSimulatedAnnealingSampler()
    bqm = dimod.BQM({"a": np.nan}, {}, 0.0, "SPIN")
    with pytest.raises(ValueError, match="NaN"):
        sampler.sample(bqm)
    good = dimod.BQM({"a": 1.0}, {}, 0.0, "SPIN")
    with pytest.raises(ValueError, match="num_reads"):
        sampler.sample(good, num_reads=0)
    with pytest.raises(ValueError, match="beta_range"):
        sampler.sample(good, beta_range=(1.0, -1.0))
