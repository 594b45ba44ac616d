"""MPSClassifier: exact contraction, gradients, truncation, both training methods, analysis, bad input."""
import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import parametrize_with_checks

from qboost_tn import MPSClassifier
from qboost_tn.mps import core
from qboost_tn.mps.train import train_sweep

torch.set_num_threads(1)


def random_chain(n_sites=5, d=2, n_classes=3, chis=(1, 2, 3, 3, 2, 1), label_site=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    cores = []
    for k in range(n_sites):
        shape = (chis[k], d, n_classes, chis[k + 1]) if k == label_site else (chis[k], d, chis[k + 1])
        cores.append(torch.randn(shape, generator=gen, dtype=torch.float64))
    return cores


@pytest.mark.parametrize("label_site", [0, 2, 4])
@pytest.mark.parametrize("feature_map", sorted(core.FEATURE_MAPS))
def test_contraction_equals_dense_tensor(label_site, feature_map):
    cores = random_chain(label_site=label_site)
    X = torch.rand(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    Phi = core.embed(X, feature_map)
    W = core.dense_tensor(cores, label_site)                          # (2, 2, 2, 2, 2, 3)
    expected = torch.einsum("abcdeC,na,nb,nc,nd,ne->nC", W, *(Phi[:, k] for k in range(5)))
    s, log_scale = core.scores(cores, label_site, Phi)
    torch.testing.assert_close(s * log_scale.exp()[:, None], expected)


def test_long_chain_stays_finite_where_the_plain_product_overflows():
    # 400 sites of a core that doubles the norm at each site: f ~ 2^400 overflows float32 and float64 alike
    n = 400
    cores = [2 * torch.ones(1, 2, 1, dtype=torch.float64) for _ in range(n)]
    cores[0] = 2 * torch.ones(1, 2, 2, 1, dtype=torch.float64)
    Phi = core.embed(torch.zeros(3, n, dtype=torch.float64), "linear")   # phi = (1, 0)
    s, log_scale = core.scores(cores, 0, Phi)
    assert torch.isfinite(s).all() and torch.isfinite(log_scale).all()
    np.testing.assert_allclose(log_scale.numpy() + np.log(s[:, 0].numpy()), n * math.log(2))


def test_gradients_match_finite_differences():
    cores = random_chain()
    X = torch.rand(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def f(label_core, other, x):
        chain = list(cores)
        chain[2], chain[3] = label_core, other
        return core.scores(chain, 2, core.embed(x))[0]

    inputs = (cores[2].clone().requires_grad_(), cores[3].clone().requires_grad_(), X.clone().requires_grad_())
    assert torch.autograd.gradcheck(f, inputs)


def test_truncation_error_is_the_discarded_singular_values_norm():
    M = torch.randn(12, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    s = torch.linalg.svdvals(M)
    U, S, Vh, err = core.truncated_svd(M, max_bond=4)
    assert len(S) == 4
    assert err == pytest.approx(float(s[4:].norm()))
    assert float((M - U @ torch.diag(S) @ Vh).norm()) == pytest.approx(err)
    # cutoff: drop the smallest values holding at most that fraction of the squared norm
    share = float((s[6:] ** 2).sum() / (s ** 2).sum())
    _, S, _, err = core.truncated_svd(M, max_bond=100, cutoff=share * 1.0001)
    assert len(S) == 6 and err == pytest.approx(float(s[6:].norm()))
    assert len(core.truncated_svd(M, max_bond=100, cutoff=share * 0.9999)[1]) == 7
    assert len(core.truncated_svd(M, max_bond=100)[1]) == 9


def test_sweep_without_steps_keeps_the_function():
    # learning rate 0 and no truncation: moving the label along the chain by SVDs is exact
    cores = random_chain(chis=(1, 2, 4, 4, 2, 1))
    X = torch.rand(20, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    Phi = core.embed(X)
    s, log_scale = core.scores(cores, 2, Phi)
    before = s * log_scale.exp()[:, None]
    history = train_sweep(cores, 2, Phi, torch.zeros(20, dtype=torch.int64), n_sweeps=1, learning_rate=0.0,
                          batch_size=20, max_bond=100, cutoff=0.0)
    s, log_scale = core.scores(cores, 2, Phi)
    torch.testing.assert_close(s * log_scale.exp()[:, None], before)
    assert history[0]["truncation_error"] < 1e-12 and history[0]["max_chi"] == 4


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600], X[600:1000], y[600:1000]


@pytest.mark.parametrize("method, settings", [("gradient", dict(n_epochs=4, learning_rate=0.01, batch_size=32)),
                                              ("sweep", dict(n_epochs=2, learning_rate=2.0, batch_size=600))])
def test_learns_digits_and_exposes_analysis(method, settings, digits):
    X, y, X_test, y_test = digits
    clf = MPSClassifier(max_bond=6, method=method, random_state=0, **settings).fit(X, y)
    assert clf.score(X_test, y_test) > 0.8
    assert clf.weight_maps().shape == (10, 8, 8) and (clf.sensitivity_ >= 0).all()
    assert clf.sensitivity_[:, 0].max() == 0  # pixel 0 is constant in the training rows: scaled to 0, no effect
    table = clf.entanglement_table()
    assert len(table) == 63 and (table["entropy"] <= table["max_entropy"] + 1e-9).all()
    assert table["chi"].max() <= 6
    assert len(clf.history_["epoch"]) == settings["n_epochs"] and "S[32]" in clf.history_
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X_test))
    assert clf.n_params_ == sum(c.numel() for c in clf.cores())


def test_same_seed_same_model_and_binary_margin(digits):
    X, y, X_test, _ = digits
    mask = y < 2
    a = MPSClassifier(max_bond=3, n_epochs=1, random_state=5).fit(X[mask], y[mask])
    b = clone(a).fit(X[mask], y[mask])
    np.testing.assert_array_equal(a.core_data_, b.core_data_)
    margin = a.decision_function(X_test)
    scores = a._scores(X_test)
    np.testing.assert_allclose(margin, scores[:, 1] - scores[:, 0])


def test_save_load_round_trip_predicts_identically(digits, tmp_path):
    from qboost_tn.persistence import load_model, save_model

    X, y, X_test, _ = digits
    clf = MPSClassifier(max_bond=4, n_epochs=1, method="sweep", learning_rate=1.0, random_state=0).fit(X, y)
    path = save_model(clf, tmp_path / "mps.npz")
    with np.load(path, allow_pickle=False) as data:  # arrays only: nothing to unpickle
        assert data["core_data_"].dtype == np.float64
    loaded = load_model(path)
    assert isinstance(loaded, MPSClassifier) and loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.decision_function(X_test), clf.decision_function(X_test))
    np.testing.assert_array_equal(loaded.weight_maps(), clf.weight_maps())
    assert loaded.history_ == clf.history_


def test_plots_use_the_mpo_helpers(digits, tmp_path):
    from qboost_tn.mps.plots import plot_entropy_evolution, plot_entropy_profile

    X, y, _, _ = digits
    clf = MPSClassifier(max_bond=4, n_epochs=2, random_state=0).fit(X[:200], y[:200])
    plot_entropy_profile({"chi=4": clf}, path=tmp_path / "profile.png")
    fig = plot_entropy_evolution(clf, bonds=[1, 30, 63], path=tmp_path / "evolution.png")
    assert (tmp_path / "profile.png").stat().st_size > 0 and (tmp_path / "evolution.png").stat().st_size > 0
    assert len(fig.axes[0].lines) == 3


def test_bad_input_is_refused(digits):
    X, y, _, _ = digits
    clf = MPSClassifier(max_bond=2, n_epochs=1, random_state=0)
    X_nan = X[:50].copy()
    X_nan[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y[:50])
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X[:50], np.zeros(50))
    with pytest.raises(ValueError, match="label_site=64"):
        clf.set_params(label_site=64).fit(X[:50], y[:50])
    fitted = clf.set_params(label_site=0).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="64 features"):
        fitted.predict(X[:5, :10])
    with pytest.raises(ValueError, match="max_bond"):
        MPSClassifier(max_bond=0).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="method"):
        MPSClassifier(method="dmrg").fit(X[:50], y[:50])


# scikit-learn's conformance checks; a tiny chain and a few epochs keep each check's fits in milliseconds.
# Mini-batches are drawn from the rows: repeating a row changes every batch, so weights cannot equal repetition.
@parametrize_with_checks([MPSClassifier(max_bond=3, n_epochs=5, batch_size=32, learning_rate=0.02, random_state=0)],
                         expected_failed_checks=lambda estimator: {
                             "check_sample_weight_equivalence_on_dense_data": "mini-batches are drawn from the rows"})
def test_sklearn_conformance(estimator, check):
    check(estimator)
