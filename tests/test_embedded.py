"""The learner's problems on a QPU graph (qboost_tn.qubo.qpu.embedded), offline: small Pegasus P4 mocks only."""
from __future__ import annotations

import itertools
import math

import dimod
import numpy as np
import pytest

from qboost_tn.errors import QBoostTNError
from qboost_tn.qubo import ShallowWideClassifier
from qboost_tn.qubo.qpu.embedded import EmbeddedSolver, clique_embedding, largest_clique, merge_reports, new_report
from qboost_tn.qubo.model import LayeredProblem
from qboost_tn.qubo.qpu.samplers import OfflineQPUSampler
from qboost_tn.qubo.qpu.timing import estimate_qpu_access_time_s
from qboost_tn.qubo.solvers import SOLVERS, solve
from qboost_tn.qubo.qpu.encoding import decode_sums, encoded_bqm, weight_coefficients


@pytest.fixture(scope="module")
def p4():
    return OfflineQPUSampler("pegasus", [4])  # 264 qubits: cliques of a few dozen spins


def random_problem(P, L, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(2 * P, P))
    return LayeredProblem(A.T @ A / (2 * P) + 0.1 * np.eye(P), rng.normal(size=P), 1.0, L)


def brute_force(problem):
    values = range(-problem.n_layers, problem.n_layers + 1, 2)
    sums = np.array(list(itertools.product(values, repeat=problem.n_features)))
    return problem.energy_of_sums(sums).min()


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 7, 8])
def test_binary_coefficients_spell_every_weight_and_nothing_else(L):
    c = weight_coefficients(L, "binary")
    assert len(c) == max(1, math.ceil(math.log2(L + 1)))
    reachable = {int(np.dot(c, s)) for s in itertools.product([-1, 1], repeat=len(c))}
    assert reachable == set(range(-L, L + 1, 2))


@pytest.mark.parametrize("encoding", ["unary", "binary"])
def test_encoded_bqm_energy_is_the_problem_energy(encoding):
    problem = random_problem(5, 4, 0)
    c = weight_coefficients(4, encoding)
    bqm = encoded_bqm(problem.Q, problem.h, problem.offset, c)
    spins = np.random.default_rng(1).choice([-1, 1], size=(20, len(c) * 5))
    sums = decode_sums(spins, c)
    assert np.allclose(bqm.energies((spins, range(len(c) * 5))), problem.energy_of_sums(sums))


def test_whole_embedding_finds_the_optimum_and_reports_its_chains(p4):
    problem = random_problem(6, 2, 2)  # 12 spins: one clique embedding
    solver = EmbeddedSolver(p4)
    ss = solver.sample_layered(problem, num_reads=20, seed=0)
    report = ss.info["qpu_report"]
    spins = problem.spins_from_sampleset(ss)
    assert problem.energy(spins)[0] == pytest.approx(brute_force(problem))
    assert ss.record.energy[0] == problem.energy(spins)[0]
    # smaller than a subproblem (P4's largest clique, 36 spins): the first 12 chains of that clique
    chains = [clique_embedding(p4, largest_clique(p4))[v] for v in range(12)]
    assert not report["decomposed"] and report["sampler_calls"] >= 1
    assert report["physical_qubits"] == sum(map(len, chains)) > 12
    assert report["max_chain_length"] == max(map(len, chains))
    assert report["qpu_access_time_s"] > 0


def test_decomposition_lowers_the_warm_start_and_never_exceeds_the_subproblem_size(p4):
    from qboost_tn.qubo.qpu.embedded import start_sums

    problem = random_problem(20, 3, 3)  # 60 spins (40 in binary): more than P4's largest clique, 36
    solver = EmbeddedSolver(p4, subproblem_size=8, encoding="binary")
    ss = solver.sample_layered(problem, num_reads=20, seed=0)
    report = ss.info["qpu_report"]
    energy = problem.energy(problem.spins_from_sampleset(ss))[0]
    assert report["decomposed"] and report["logical_spins"] == 8 and report["sampler_calls"] >= 3
    assert energy <= problem.energy_of_sums(start_sums(problem)) + 1e-12
    assert energy == pytest.approx(solve(problem, "layered", seed=0)[1],
                                   rel=1e-6)
    again = solver.sample_layered(problem, num_reads=20, seed=0)
    assert np.array_equal(again.record.sample, ss.record.sample)  # seeded


class MajorityProbe(dimod.Sampler, dimod.Structured):
    """A structured sampler answering every qubit +1 except one qubit of each chain of 3 or more, and all of logical
    spin 0's chain -1 but one qubit when it has 3; with a nonsense energy. Majority vote must give spin 0 = −1,
    every other +1."""

    parameters = {"num_reads": []}
    properties = {}

    def __init__(self, base, chains):
        self.base, self.chains = base, chains

    @property
    def nodelist(self):
        return self.base.nodelist

    @property
    def edgelist(self):
        return self.base.edgelist

    def sample(self, bqm, num_reads=1, **kwargs):
        values = {q: 1 for q in bqm.variables}
        for v, chain in self.chains.items():
            if v == 0:
                values.update({q: -1 for q in chain[len(chain) >= 3:]})
            elif len(chain) >= 3:
                values[chain[0]] = -1
        labels = list(bqm.variables)
        return dimod.SampleSet.from_samples(([[values[q] for q in labels]] * num_reads, labels), dimod.SPIN,
                                            energy=[-1e9] * num_reads)


def test_broken_chains_are_resolved_by_majority_vote_and_counted(p4):
    problem = random_problem(8, 2, 4)  # 16 spins: chains of 2 and 3 qubits on P4
    chains = clique_embedding(p4, 16)
    solver = EmbeddedSolver(MajorityProbe(p4, chains), subproblem_size=16)
    report = new_report(logical_spins=16, decomposed=False)
    sums = solver.sample_embedded(problem, num_reads=3, report=report)
    assert np.array_equal(sums, [[0] + [2] * 7] * 3)  # spin (0, 0) is -1, every other +1
    broken = sum(len(c) >= 3 for c in chains.values())
    assert broken > 0 and report["chains_broken"] == 3 * broken and report["chains_read"] == 3 * 16
    merged = merge_reports([report, None])
    assert merged["chain_break_fraction"] == pytest.approx(broken / 16)


def test_energies_are_recomputed_not_taken_from_the_sampler(p4):
    problem = random_problem(8, 2, 4)
    solver = EmbeddedSolver(MajorityProbe(p4, clique_embedding(p4, 16)), subproblem_size=16)
    ss = solver.sample_layered(problem, num_reads=2, seed=0)
    assert ss.record.energy[0] == problem.energy(problem.spins_from_sampleset(ss))[0] > -1e9


def test_unstructured_sampler_and_oversized_subproblem_are_clear_errors(p4):
    with pytest.raises(QBoostTNError, match="structured dimod sampler"):
        EmbeddedSolver(dimod.RandomSampler())
    largest = largest_clique(p4)
    solver = EmbeddedSolver(p4, subproblem_size=largest + 1)
    with pytest.raises(QBoostTNError, match=f"does not embed.*holds {largest} spins"):
        solver.sample_layered(random_problem(3, 1, 0), num_reads=1, seed=0)


def test_qpu_access_time_follows_the_timing_model(p4):
    # dwave-cloud-client's documented example: 100 reads on 1,600 qubits of Advantage4.1 take about 42.66 ms
    assert estimate_qpu_access_time_s(p4, 1600, 100) == pytest.approx(0.042657, abs=2e-6)
    from dwave.system.testing import MockDWaveSampler

    assert math.isnan(estimate_qpu_access_time_s(MockDWaveSampler(), 10, 10))  # publishes no timing data


def test_fit_fills_solver_report_and_saves_it(p4, tmp_path):
    from qboost_tn import load_model, save_model
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=3, return_X_y=True)
    X = X[:90, ::4]  # 16 pixels, L = 2: 32 spins per problem, subproblems of 16
    model = ShallowWideClassifier(n_layers=2, solver=EmbeddedSolver(p4, subproblem_size=16), num_reads=10,
                                  random_state=0).fit(X, y[:90])
    report = model.solver_report_
    assert {"physical_qubits", "max_chain_length", "chain_break_fraction", "sampler_calls", "qpu_access_time_s",
            "energy_gap"} <= set(report)
    assert report["sampler_calls"] >= 3 and report["energy_gap"] >= -1e-9
    assert load_model(save_model(model, tmp_path / "m.npz")).solver_report_ == report
    assert not hasattr(ShallowWideClassifier(n_layers=2, random_state=0).fit(X, y[:90]), "solver_report_")


def test_registered_names_are_cheap_to_ask():
    assert {"pegasus-mock", "zephyr-mock", "dwave"} <= set(SOLVERS)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No Ocean configuration and no token, whatever the machine has."""
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    empty = tmp_path / "dwave.conf"
    empty.write_text("")
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(empty))


def test_dwave_offline_fails_in_one_line_before_any_work(offline, monkeypatch):
    from qboost_tn.qubo import shallow_wide

    def no_training(*args, **kwargs):
        raise AssertionError("the feature map was fitted before the solver was checked")

    monkeypatch.setattr(shallow_wide.ShallowWideClassifier, "_fit_map", no_training)
    with pytest.raises(QBoostTNError, match="solver 'dwave': no D-Wave API token") as info:
        ShallowWideClassifier(solver="dwave").fit(np.eye(4), [0, 1, 0, 1])
    assert "\n" not in str(info.value)


def test_cli_dwave_offline_is_one_line_and_writes_nothing(offline, tmp_path, capsys):
    from qboost_tn.cli import main

    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--solver", "dwave", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no D-Wave API token" in err and not out.exists()


@pytest.mark.slow
def test_cli_trains_with_pegasus_mock_and_config_with_zephyr_mock(tmp_path):
    import json

    from qboost_tn.cli import main
    from qboost_tn.experiments.runner import run_experiment

    out = tmp_path / "cli"
    assert main(["train", "--dataset", "digits", "--n-train", "60", "--n-val", "60", "--n-test", "60",
                 "--n-layers", "1", "--num-reads", "10", "--solver", "pegasus-mock", "--quiet",
                 "--out", str(out)]) == 0
    info = json.loads((out / "metrics.json").read_text())["models"][0]["info"]
    assert info["physical_qubits"] > 64 and info["sampler_calls"] >= 10 and "qpu_access_time_s" in info
    config = {"name": "zephyr", "data": {"name": "digits"}, "seeds": [0],
              "split": {"n_train": 60, "n_val": 60, "n_test": 60},
              "models": [{"name": "qpu", "kind": "shallow-wide",
                          "params": {"solver": "zephyr-mock", "n_layers": 1, "num_reads": 10}}]}
    run = run_experiment(config, out=tmp_path / "cfg", progress=False)
    assert run.records[0]["status"] == "ok" and run.records[0]["info"]["max_chain_length"] > 1


def test_qboost_reports_through_the_same_solve_path(p4):
    from qboost_tn.qubo import QBoostClassifier
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=2, return_X_y=True)
    model = QBoostClassifier(n_estimators=20, solver=EmbeddedSolver(p4), num_reads=5, random_state=0)
    report = model.fit(X[:80], y[:80]).solver_report_
    assert report["sampler_calls"] >= 1 and report["physical_qubits"] > 0


def test_parallel_fit_equals_serial(p4):
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=3, return_X_y=True)
    model = ShallowWideClassifier(n_layers=2, solver=EmbeddedSolver(p4, subproblem_size=16), num_reads=10,
                                  random_state=0)
    serial = model.fit(X[:90, ::4], y[:90])
    spins, report = serial.spins_.copy(), serial.solver_report_
    parallel = model.set_params(n_jobs=2).fit(X[:90, ::4], y[:90])
    assert np.array_equal(parallel.spins_, spins) and parallel.solver_report_ == report


@pytest.mark.parametrize("kwargs, message", [
    (dict(encoding="gray"), "unknown weight encoding 'gray'"),
    (dict(subproblem_size=0), "subproblem_size must be"),
    (dict(subproblem_size="big"), "subproblem_size must be"),
    (dict(max_rounds=True), "max_rounds must be"),
])
def test_bad_settings_are_one_line_errors(p4, kwargs, message):
    with pytest.raises(QBoostTNError, match=message):
        EmbeddedSolver(p4, **kwargs)
