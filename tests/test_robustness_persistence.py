"""The model-file registry as a plugin author uses it (issue 12 item 9): a toy classifier declares its fitted
attributes as class data, registers, saves, loads, predicts; and the declarations guard what a file may set."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from qboost_tn.errors import ModelFileError
from qboost_tn import persistence
from qboost_tn.persistence import load_model, register_model_class, save_model


class Centroids(ClassifierMixin, BaseEstimator):
    """Nearest class mean: the smallest classifier with array and scalar fitted attributes."""

    _persisted_attributes = {"classes_": ("biufU", 1), "centroids_": ("f", 2), "n_features_in_": int,
                             "spread_": float}

    def __init__(self, shrink=0.0):
        self.shrink = shrink

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.centroids_ = np.array([X[y == c].mean(axis=0) for c in self.classes_]) * (1 - self.shrink)
        self.n_features_in_ = X.shape[1]
        self.spread_ = float(X.std())
        return self

    def decision_function(self, X):
        scores = -((np.asarray(X)[:, None, :] - self.centroids_[None]) ** 2).sum(axis=2)
        return scores[:, 1] - scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        return self.classes_[(scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)]


@pytest.fixture
def registered():
    register_model_class(Centroids)
    yield Centroids
    persistence.CLASSES.pop("Centroids")
    persistence._SCHEMAS.pop("Centroids")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    return X, np.where(X[:, 0] > 0, "pos", "neg")


def test_a_registered_class_round_trips(registered, data, tmp_path):
    X, y = data
    model = Centroids(shrink=0.1).fit(X, y)
    loaded = load_model(save_model(model, tmp_path / "c.npz"))
    assert type(loaded) is Centroids and loaded.get_params() == {"shrink": 0.1}
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.spread_ == model.spread_


def test_an_undeclared_fitted_attribute_is_refused_at_save(registered, data, tmp_path):
    model = Centroids().fit(*data)
    model.extra_ = np.ones(3)
    with pytest.raises(TypeError, match=r"fitted attribute\(s\) \['extra_'\] that its persisted schema does not"):
        save_model(model, tmp_path / "c.npz")
    assert not list(tmp_path.iterdir())


def test_a_declared_form_is_enforced_at_save(registered, data, tmp_path):
    model = Centroids().fit(*data)
    model.spread_ = "wide"
    with pytest.raises(TypeError, match="spread_ should be float, got str"):
        save_model(model, tmp_path / "c.npz")


@pytest.mark.parametrize("attributes, message", [
    ({"predict": ("f", 1)}, "must end in '_'"),
    ({"_hidden_": int}, "must end in '_' and not start with '_'"),
    ({"coef_": "float"}, "is neither (dtype kinds, ndim) nor a type"),
])
def test_declarations_cannot_name_methods_or_hidden_state(attributes, message):
    class Bad(Centroids):
        _persisted_attributes = attributes

    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        register_model_class(Bad)
    assert "Bad" not in persistence.CLASSES


def test_a_property_cannot_be_declared():
    class WithProperty(Centroids):
        _persisted_attributes = {"size_": int}

        @property
        def size_(self):
            return 3

    with pytest.raises(TypeError, match="'size_' is a method, property or parameter"):
        register_model_class(WithProperty)


def test_a_file_of_an_unregistered_class_names_the_known_ones(registered, data, tmp_path):
    path = save_model(Centroids().fit(*data), tmp_path / "c.npz")
    persistence.CLASSES.pop("Centroids")
    try:
        with pytest.raises(ModelFileError, match=r"holds a model of class 'Centroids'; can load \["):
            load_model(path)
    finally:
        persistence.CLASSES["Centroids"] = Centroids


def test_loading_imports_nothing_the_file_names(registered, data, tmp_path):
    """The class is looked up in the registry (and the project's fixed table), never imported from the module a
    file names: a file naming the command line's __main__ must not run it."""
    import subprocess
    import sys
    import textwrap

    path = save_model(Centroids().fit(*data), tmp_path / "c.npz")
    with np.load(path) as stored:
        arrays = {key: stored[key] for key in stored.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta.update({"class": "NotRegistered", "module": "qboost_tn.cli.__main__"})
    arrays["__meta__"] = np.array(json.dumps(meta))
    forged = tmp_path / "forged.npz"
    np.savez(forged, **arrays)
    script = textwrap.dedent(f"""
        import sys
        from qboost_tn import load_model
        from qboost_tn.errors import ModelFileError
        try:
            load_model({str(forged)!r})
        except ModelFileError as exc:
            print("refused:", exc)
        print("imported:", "qboost_tn.cli" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script, "run", "--list"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "class 'NotRegistered'" in out.stdout
    assert "imported: False" in out.stdout
