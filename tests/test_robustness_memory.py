"""Sizes a user's number decides are checked before allocating (issue 19 items 6 and 8): ``max_bond``,
``n_components``, ``n_estimators``, ranks and a dense BQM's (L·P)² couplings are worked out from the shapes and
refused with one line (:class:`~qboost_tn.errors.ResourceError`) naming the parameter, in well under a second
and without the process's peak memory growing.

Cases far beyond any machine use the default limit; cases near a real machine's size fix the limit with
``QBOOST_TN_MEMORY_LIMIT`` so they do not depend on the machine the suite runs on.
"""
from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qboost_tn.errors import QBoostTNError, ResourceError


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _refused_at_once(action, message):
    """``action()`` raises ResourceError naming ``message``, in one line, fast, and without allocating."""
    before, start = _peak_mib(), time.perf_counter()
    with pytest.raises(ResourceError, match=message) as caught:
        action()
    text = str(caught.value)
    assert "\n" not in text and "would need" in text and len(text) < 400
    assert time.perf_counter() - start < 10, "checked after work, not before"
    if sys.platform == "linux":
        assert _peak_mib() - before < 200
    return text


def _estimator(name, **params):
    import qboost_tn

    fast = {"num_reads": 1, "num_sweeps": 20} if name != "MPSClassifier" else {"n_epochs": 1}
    return getattr(qboost_tn, name)(**{**fast, **params, "random_state": 0})


FIT_CASES = [
    ("MPSClassifier", {"max_bond": 100_000}, r"MPSClassifier\(max_bond=100,000, method='gradient'\) on 64 features"),
    ("MPSClassifier", {"max_bond": 100_000, "method": "sweep"}, r"method='sweep'"),
    ("ShallowWideClassifier", {"features": "rff", "n_components": 10**8}, r"features='rff', n_components=100,000,000"),
    ("ShallowWideClassifier", {"features": "trees", "n_components": 10**9}, r"features='trees'"),
    ("ShallowWideClassifier", {"features": "patches", "n_components": 10**8}, r"features='patches'"),
    ("QBoostClassifier", {"n_estimators": 10**6}, r"dictionary of 1,000,000 learners"),
    ("QBoostClassifier", {"n_estimators": 10**5, "weak_learners": "trees+stumps"}, r"100,064 learners"),
    # numbers of thousands of digits (a config can hold them) are described, not printed
    ("MPSClassifier", {"max_bond": 10**5000}, r"max_bond=~2\^16610"),
    ("ShallowWideClassifier", {"features": "rff", "n_components": 10**5000}, r"n_components=~2\^16610"),
    ("QBoostClassifier", {"n_estimators": 10**5000}, r"dictionary of ~2\^16610 learners"),
]


@pytest.mark.parametrize("name, params, message", FIT_CASES, ids=[f"{n}-{m[:24]}" for n, _, m in FIT_CASES])
def test_fit_refuses_sizes_that_cannot_fit(digits, name, params, message):
    _refused_at_once(lambda: _estimator(name, **params).fit(*digits), message)


def test_nystroem_width_is_capped_by_the_rows_so_a_large_n_components_fits(digits):
    """One basis row per training row at most: n_components=10^7 on 300 rows is a 300-feature map, not refused."""
    X, y = digits
    model = _estimator("ShallowWideClassifier", features="nystroem", n_components=10**7, n_layers=1).fit(X, y)
    assert model.coef_.shape[1] == len(X)


def _mpo(name, *args, **kwargs):
    import qboost_tn.mpo as mpo

    return lambda: getattr(mpo, name)(*args, **kwargs)


@pytest.mark.parametrize("build, message", [
    (_mpo("MPOLinear", 10**6, 10**6, max_bond=10**5), r"MPOLinear\(1000000, 1000000, max_bond=\d+\)"),
    (_mpo("MPOLinear", 10, 10**11), r"MPOLinear\(10, 100000000000"),
    (_mpo("TuckerConv2d", 10**6, 10**6, 3, rank=(10**6,) * 2), r"TuckerConv2d\(1000000, 1000000"),
], ids=["MPOLinear bond", "MPOLinear bias", "Tucker ranks"])
def test_layers_refuse_parameters_that_cannot_fit(build, message):
    _refused_at_once(build, message)


def test_a_network_too_wide_to_train_is_refused():
    from qboost_tn.nets import make_mlp

    _refused_at_once(lambda: make_mlp(784, hidden=(10**6, 10**6)),
                     r"make_mlp with hidden sizes 1,000,000 x 1,000,000 \(1,000,")


@pytest.mark.parametrize("name, params, message", [
    ("ShallowWideClassifier", {"num_reads": 10**9}, "ShallowWideClassifier"),
    ("ShallowWideClassifier", {"num_sweeps": 10**12}, "ShallowWideClassifier"),
    ("QBoostClassifier", {"n_estimators": 10, "num_reads": 10**9}, "dictionary of 10 learners"),
])
def test_annealing_budgets_that_cannot_fit_are_refused(digits, name, params, message):
    _refused_at_once(lambda: _estimator(name, **params).fit(*digits), message)


def test_an_mpo_convolution_is_checked_against_the_limit(monkeypatch):
    from qboost_tn.mpo.conv import MPOConv2d

    monkeypatch.setenv("QBOOST_TN_MEMORY_LIMIT", "512KiB")
    _refused_at_once(lambda: MPOConv2d(512, 512, 3, max_bond=64), r"MPOConv2d\(512, 512, max_bond=64\)")
    monkeypatch.setenv("QBOOST_TN_MEMORY_LIMIT", "64MiB")
    assert MPOConv2d(512, 512, 3, max_bond=64).n_params > 0


# -- item 8: dense BQMs ---------------------------------------------------------------------------------------------
@pytest.fixture
def one_gib(monkeypatch):
    monkeypatch.setenv("QBOOST_TN_MEMORY_LIMIT", "1GiB")


def test_neal_on_a_wide_map_points_to_the_layered_solver(digits, one_gib):
    model = _estimator("ShallowWideClassifier", features="rff", n_components=2500, solver="neal")
    _refused_at_once(lambda: model.fit(*digits), r"a dense spin BQM of 10,000 variables .* use solver='layered'")


def test_to_bqm_is_refused_before_the_map_is_formed(digits, one_gib):
    X, y = digits
    model = _estimator("ShallowWideClassifier", features="rff", n_components=2500)
    _refused_at_once(lambda: model.to_bqm(X, y == 1), r"a dense spin BQM of 10,000 variables")


def test_problems_are_refused_before_the_map_is_formed(digits):
    X, y = digits
    model = _estimator("ShallowWideClassifier", features="rff", n_components=10**8)
    _refused_at_once(lambda: model.problems(X, y), r"n_components=100,000,000")


def test_qboost_with_a_bqm_sampler_is_refused(digits, one_gib):
    X, y = digits
    model = _estimator("QBoostClassifier", n_estimators=4000, solver="neal")
    _refused_at_once(lambda: model.fit(X, y == 1), r"dense spin BQM of 8,000 variables")


@pytest.mark.parametrize("form", ["dense", "factored"])
def test_a_problem_and_a_wrapped_sampler_refuse_a_dense_bqm(form, one_gib):
    import neal

    from qboost_tn.qubo.model import FactoredLayeredProblem, LayeredProblem
    from qboost_tn.qubo.solvers import DimodLayeredSolver

    P = 2000
    problem = (LayeredProblem(np.eye(P), np.zeros(P), 0.0, 4) if form == "dense"
               else FactoredLayeredProblem(np.ones((P, 3)), np.ones(P), np.zeros(P), 0.0, 4))
    _refused_at_once(problem.to_bqm, "8,000 variables")
    solver = DimodLayeredSolver(neal.SimulatedAnnealingSampler())
    _refused_at_once(lambda: solver.sample_layered(problem, num_reads=1, num_sweeps=1, seed=0), "8,000 variables")


def test_a_small_bqm_is_still_built(one_gib):
    from qboost_tn.qubo.model import LayeredProblem

    assert LayeredProblem(np.eye(30), np.zeros(30), 0.0, 2).to_bqm().num_variables == 60


# -- the limit itself -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["lots", "-1GiB", "8 parsecs", "0", pytest.param("1" * 500, id="500 digits")])
def test_a_bad_limit_is_one_clear_error(monkeypatch, text):
    from qboost_tn._memory import check_memory

    monkeypatch.setenv("QBOOST_TN_MEMORY_LIMIT", text)
    with pytest.raises(QBoostTNError, match="QBOOST_TN_MEMORY_LIMIT=.* is not a size") as caught:
        check_memory(1, "anything")
    assert len(str(caught.value)) < 300


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(value=st.floats(0.5, 1e6), unit=st.sampled_from(["", "B", "KiB", "MB", "GiB", "g", "TiB"]))
def test_limit_parsing_fuzz(value, unit):
    from qboost_tn._memory import _UNITS, parse_bytes

    text = f"{value}{unit}"
    try:
        parsed = parse_bytes(text)
    except QBoostTNError:
        assert value * _UNITS[unit.lower()] < 1
        return
    assert parsed == int(value * _UNITS[unit.lower()])


def test_the_default_limit_follows_available_memory(monkeypatch):
    from qboost_tn import _memory

    monkeypatch.delenv("QBOOST_TN_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(_memory, "available_bytes", lambda: 10 << 30)
    assert _memory.memory_limit() == 5 << 30
    with pytest.raises(ResourceError, match=r"6.0 GiB of memory, more than the limit of 5.0 GiB \(0.5 of the "
                                            r"memory available now\); try less"):
        _memory.check_memory(6 << 30, "thing", "try less")


# -- fuzz: any size parameters either fit and run, or are refused before allocating -----------------------------------
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(max_bond=st.one_of(st.integers(1, 6), st.integers(10**3, 10**9)), method=st.sampled_from(["gradient", "sweep"]),
       n_features=st.integers(2, 12), limit=st.sampled_from(["64KiB", "1MiB", "64MiB"]))
def test_mps_size_fuzz(digits, max_bond, method, n_features, limit):
    """Within a limit an MPS fits and predicts; beyond it the fit is refused before training."""
    import os

    X, y = digits
    model = _estimator("MPSClassifier", max_bond=max_bond, method=method, batch_size=64)
    os.environ["QBOOST_TN_MEMORY_LIMIT"] = limit
    try:
        model.fit(X[:60, :n_features], y[:60])
    except ResourceError as exc:
        assert "MPSClassifier(max_bond=" in str(exc)
        return
    finally:
        del os.environ["QBOOST_TN_MEMORY_LIMIT"]
    assert model.predict(X[:5, :n_features]).shape == (5,)
