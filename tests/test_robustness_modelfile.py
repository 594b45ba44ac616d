"""Model files as an attacker or a careless user makes them (issue 19 items 1, 2, 5, 11): a catalogue of
structural corruptions - tree arrays that cycle or point out of their tree, feature maps and cores whose
shapes do not fit, per-class arrays short of a class, zip members declaring gigabytes, classes whose code
ends the process - each refused by :func:`qboost_tn.load_model` with a :class:`ModelFileError` naming it, and
hypothesis targets that generate variants of each class.

The property of every fuzz target: ``load_model`` returns a model whose ``predict`` answers (one label per
row, never hanging: :func:`_deadline` fails the example after a few seconds) or raises ``ModelFileError``;
never another exception type, never ``SystemExit``.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import resource
import signal
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

from qboost_tn import load_model, save_model
from qboost_tn import persistence
from qboost_tn.errors import ModelFileError
from qboost_tn.persistence import register_model_class

EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- fitted models, saved once ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:150] / 16, y[:150] % 3


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    """``{name: path}`` of small fitted models of every savable kind."""
    from qboost_tn import MPSClassifier, QBoostClassifier, ShallowWideClassifier

    X, y = data
    fast = {"num_reads": 1, "num_sweeps": 20, "random_state": 0}
    models = {
        "qboost": QBoostClassifier(weak_learners="trees+stumps", n_estimators=6, max_depth=3, **fast),
        "identity": ShallowWideClassifier(n_layers=2, **fast),
        "trees": ShallowWideClassifier(features="trees", n_components=64, n_layers=1, **fast),
        "rff": ShallowWideClassifier(features="rff", n_components=40, n_layers=1, **fast),
        "nystroem": ShallowWideClassifier(features="nystroem", n_components=30, n_layers=1, **fast),
        "patches": ShallowWideClassifier(features="patches", n_components=16, n_layers=1, **fast),
        "mps": MPSClassifier(max_bond=3, n_epochs=1, random_state=0),
    }
    folder = tmp_path_factory.mktemp("models")
    return {name: save_model(model.fit(X, y), folder / f"{name}.npz") for name, model in models.items()}


def _members(path: Path) -> tuple[dict, dict]:
    with np.load(path) as stored:
        arrays = {key: stored[key] for key in stored.files}
    return json.loads(str(arrays.pop("__meta__"))), arrays


def _write(path: Path, meta: dict, arrays: dict) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta)), **arrays)
    return path


def _edited(src: Path, dst: Path, edit) -> Path:
    meta, arrays = _members(src)
    edit(meta, arrays)
    return _write(dst, meta, arrays)


@contextlib.contextmanager
def _deadline(seconds: int):
    """Fail, rather than hang, when the body runs past ``seconds`` (a cycle in a tree would loop forever)."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _loads_and_predicts_or_refuses(path: Path, X) -> None:
    """The fuzz property (module docstring)."""
    with _deadline(20):
        try:
            model = load_model(path)
        except ModelFileError as exc:
            words = re.sub(r"\S*/\S*", "", str(exc)).replace("load: ", "").split()
            event(f"refused: {' '.join(words[:3])}")
            return
        event("loaded")
        predicted = model.predict(X)
    assert predicted.shape == (len(X),) and set(predicted) <= set(model.classes_)


# -- catalogue: item 2, tree arrays -------------------------------------------------------------------------------
def _tree(arrays, name):
    return arrays[f"tree_{name}_"]


def _first_inner(arrays, tree=0):
    start, end = _tree(arrays, "offsets")[tree:tree + 2]
    return start + int(np.flatnonzero(_tree(arrays, "feature")[start:end] >= 0)[0])


def _set(name, where, value):
    """Edit: ``tree_<name>_[where(arrays)] = value(arrays)`` (callables of the arrays, or constants)."""
    def edit(meta, arrays):
        index = where(arrays) if callable(where) else where
        _tree(arrays, name)[index] = value(arrays, index) if callable(value) else value
    return edit


TREE_CASES = {
    # name: (edit, message fragment)
    "child points at its own node": (_set("left", _first_inner, lambda a, i: i), "not after its parent"),
    "child points into the next tree": (_set("right", _first_inner, lambda a, i: _tree(a, "offsets")[1] + 1),
                                        "outside its own tree"),
    "child out of range": (_set("left", _first_inner, 10**9), "outside its own tree"),
    "negative child": (_set("right", _first_inner, -3), "outside its own tree"),
    "two nodes in a cycle": (_set("left", lambda a: int(_tree(a, "left")[_first_inner(a)]),
                                  lambda a, i: _first_inner(a)), "not after its parent"),
    "leaf pointing elsewhere": (_set("left", lambda a: int(np.flatnonzero(_tree(a, "feature") < 0)[0]), 0),
                                "leaf whose children"),
    "feature index = n_features_in_": (_set("feature", _first_inner, 64), "feature index"),
    "feature index below -1": (_set("feature", _first_inner, -7), "feature index"),
    "NaN threshold": (_set("threshold", _first_inner, np.nan), "non-finite threshold"),
    "infinite threshold": (_set("threshold", _first_inner, -np.inf), "non-finite threshold"),
    "NaN leaf value": (_set("value", lambda a: (int(np.flatnonzero(_tree(a, "feature") < 0)[0]), 0), np.nan),
                       "value outside"),
    "leaf value 5": (_set("value", (0, 1), 5.0), "value outside"),
    "offsets not from 0": (_set("offsets", 0, 1), "tree_offsets_ must rise"),
    "offsets past the nodes": (_set("offsets", -1, 10**6), "tree_offsets_ must rise"),
    "an empty tree": (_set("offsets", 1, 0), "tree_offsets_ must rise"),
    "one tree fewer than n_trees_": (lambda m, a: a.update(tree_offsets_=a["tree_offsets_"][[0, 2, 3, 4, 5, 6]],
                                                           tree_depth_=a["tree_depth_"][:5]),
                                     "tree_offsets_ describes 5 trees"),
    "tree arrays missing": (lambda m, a: [a.pop(k) for k in list(a) if k.startswith("tree_")], "lacks"),
    "value rows short of a class": (lambda m, a: a.update(tree_value_=a["tree_value_"][:, :2]),
                                    "tree_value_ has 2 along axis 1"),
    "children arrays shorter than the nodes": (lambda m, a: a.update(tree_left_=a["tree_left_"][:-1]),
                                              "tree_left_ has"),
}


@pytest.mark.parametrize("case", sorted(TREE_CASES))
def test_corrupt_trees_are_refused_on_load(saved, tmp_path, data, case):
    edit, message = TREE_CASES[case]
    path = _edited(saved["qboost"], tmp_path / "bad.npz", edit)
    with _deadline(20), pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_a_tree_too_deep_to_walk_is_refused_at_once(saved, tmp_path):
    """A chain of 50,000 nodes is a valid tree that every prediction would walk step by step (minutes for a
    chain of millions); its depth is found by pointer jumping and refused."""
    def edit(meta, arrays):
        n, n_trees, n_classes = 50_000, len(arrays["tree_depth_"]), arrays["tree_value_"].shape[1]
        chain = np.arange(1, n)
        arrays.update(
            tree_feature_=np.r_[np.zeros(n - 1, np.int32), -np.ones(n_trees, np.int32)],
            tree_threshold_=np.zeros(n - 1 + n_trees),
            tree_left_=np.r_[chain, np.arange(n - 1, n - 1 + n_trees)].astype(np.int32),
            tree_right_=np.r_[chain, np.arange(n - 1, n - 1 + n_trees)].astype(np.int32),
            tree_value_=np.zeros((n - 1 + n_trees, n_classes)),
            tree_offsets_=np.r_[0, np.arange(n, n + n_trees)].astype(np.int64))
    start = time.perf_counter()
    with _deadline(20), pytest.raises(ModelFileError, match="tree 0 is 49,999 levels deep, more than the 10,000"):
        load_model(_edited(saved["qboost"], tmp_path / "deep.npz", edit))
    assert time.perf_counter() - start < 5


def test_a_cycle_off_the_check_rows_path_is_refused_too(saved, tmp_path, data):
    """Every tree is checked, not only the nodes a row of zeros reaches: a cycle deep in the last tree."""
    def edit(meta, arrays):
        feature, left = arrays["tree_feature_"], arrays["tree_left_"]
        start, end = arrays["tree_offsets_"][-2:]
        inner = start + np.flatnonzero(feature[start:end] >= 0)
        left[inner[-1]] = inner[0]
    with _deadline(20), pytest.raises(ModelFileError, match="tree 5 has a child outside its own tree or not after"):
        load_model(_edited(saved["qboost"], tmp_path / "deep.npz", edit))


# -- catalogue: item 2, feature maps and cores -----------------------------------------------------------------
def _array(name, change):
    return lambda meta, arrays: arrays.update({name: change(arrays[name])})


def _attr(name, value):
    return lambda meta, arrays: meta["attributes"].update({name: value})


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


MAP_CASES = [
    ("trees", _array("map_nodes_", lambda a: _with(a, (0, 0), 64)), "map_nodes_ holds a feature index"),
    ("trees", _array("map_nodes_", lambda a: _with(a, (1, 3), -1)), "map_nodes_ holds a feature index"),
    ("trees", _array("map_thresholds_", lambda a: _with(a, (0, 0), np.nan)), "map_thresholds_ holds NaN"),
    ("trees", _array("map_columns_", lambda a: _with(a, -1, 10**6)), "map_columns_ should be increasing"),
    ("trees", _array("map_columns_", lambda a: a[::-1].copy()), "map_columns_ should be increasing"),
    ("trees", _array("map_nodes_", lambda a: a[:, :7].copy()), "should both be (trees, 15)"),
    ("rff", _array("map_weights_", lambda a: a[:-1].copy()), "do not map 64 inputs"),
    ("rff", _array("map_offsets_", lambda a: a[:-2].copy()), "do not map 64 inputs"),
    ("rff", _array("map_weights_", lambda a: _with(a, (2, 2), np.inf)), "map_weights_ holds NaN or inf"),
    ("nystroem", _attr("map_gamma_", -1.0), "map_gamma_ should be a finite number > 0"),
    ("nystroem", _array("map_components_", lambda a: a[:, :10].copy()), "do not map 64 inputs"),
    ("patches", _attr("map_image_shape_", [4, 16]), "map_image_shape_ should be"),
    ("patches", _attr("map_image_shape_", [8, "8"]), "map_image_shape_ should be"),
    ("patches", _array("map_weights_", lambda a: a[:20].copy()), "are not 5x5 filters"),
    ("rff", lambda m, a: a.pop("map_offsets_"), "needs ['map_offsets_']"),
    ("identity", lambda m, a: a.update(map_columns_=np.arange(3)), "keeps no ['map_columns_']"),
    ("identity", lambda m, a: m.update(attributes={**m["attributes"], "features_": "rff"}),
     "features_ = 'rff' but the parameters ask for 'identity'"),
    ("identity", _array("spins_", lambda a: a[:, :, :1].copy()), "spins_ holds 1 layers"),
    ("identity", _array("spins_", lambda a: _with(a, (0, 0, 0, 0), 3)), "values other than -1 and +1"),
    ("rff", _array("coef_", lambda a: a[:, :-1].copy()), "coef_ has 39 along axis 1"),
    ("mps", _array("core_shapes_", lambda a: _with(a, (2, 3), a[2, 3] + 1)), "bonds match"),
    ("mps", _array("core_shapes_", lambda a: _with(a, (0, 1), 3)), "bonds match"),
    ("mps", _array("core_data_", lambda a: a[:-1].copy()), "core_data_ holds"),
    ("mps", _attr("label_site_", 64), "label_site_ = 64 is not a site"),
    ("mps", _array("core_data_", lambda a: _with(a, 5, np.nan)), "core_data_ holds NaN or inf"),
    ("mps", _array("core_shapes_", lambda a: a[:-1].copy()), "core_shapes_ has 63 along axis 0"),
]


@pytest.mark.parametrize("kind, edit, message", MAP_CASES,
                         ids=[f"{kind}-{message[:30]}" for kind, _, message in MAP_CASES])
def test_corrupt_maps_and_cores_are_refused_on_load(saved, tmp_path, kind, edit, message):
    path = _edited(saved[kind], tmp_path / "bad.npz", edit)
    with _deadline(20), pytest.raises(ModelFileError, match=re_escape(message)):
        load_model(path)


def re_escape(text: str) -> str:
    return re.escape(text)


def test_a_patch_map_whose_one_row_would_not_fit_is_refused(saved, tmp_path, monkeypatch):
    monkeypatch.setenv("QBOOST_TN_MEMORY_LIMIT", "2KiB")
    with pytest.raises(ModelFileError, match="the patch map of 4 filters on one row would need"):
        load_model(saved["patches"])


# -- catalogue: item 11, arrays that do not fit the classes or the features ---------------------------------------
SHAPE_CASES = [
    ("identity", _array("coef_", lambda a: a[:1].copy()), "coef_ has 1 along axis 0 where tasks = 3"),
    ("identity", _array("intercept_", lambda a: a[:2].copy()), "intercept_ has 2 along axis 0 where tasks = 3"),
    ("identity", _array("data_min_", lambda a: a[:-1].copy()), "data_min_ has 63 along axis 0 where P = 64"),
    ("identity", _array("k_", lambda a: a[:1].copy()), "k_ has 1 along axis 0"),
    ("qboost", _array("coef_", lambda a: a[:1].copy()), "coef_ has 1 along axis 0 where tasks = 3"),
    ("qboost", _array("thresholds_", lambda a: a[:, :10].copy()), "thresholds_ has 10 along axis 1 where features"),
    ("qboost", _array("selected_", lambda a: np.zeros_like(a)), "learners selected_ does not keep"),
    ("qboost", lambda m, a: m["params"].update(n_estimators=7), "n_trees_ = 6 and n_stumps_ = 64"),
    ("mps", _array("sensitivity_", lambda a: a[:2].copy()), "sensitivity_ has 2 along axis 0 where classes = 3"),
    ("mps", _array("data_scale_", lambda a: a[:5].copy()), "data_scale_ has 5 along axis 0 where features = 64"),
    ("identity", _array("classes_", lambda a: a[::-1].copy()), "classes_ is not sorted and unique"),
    ("identity", _array("classes_", lambda a: np.array([0, 0, 1])), "classes_ is not sorted and unique"),
]


@pytest.mark.parametrize("kind, edit, message", SHAPE_CASES,
                         ids=[f"{kind}-{message[:30]}" for kind, _, message in SHAPE_CASES])
def test_arrays_that_do_not_fit_the_classes_are_refused(saved, tmp_path, kind, edit, message):
    path = _edited(saved[kind], tmp_path / "bad.npz", edit)
    with pytest.raises(ModelFileError, match=re_escape(message)):
        load_model(path)


def test_every_saved_kind_round_trips(saved, data):
    """The checks refuse nothing a fit writes."""
    X, _ = data
    for path in saved.values():
        assert load_model(path).predict(X[:5]).shape == (5,)


# -- catalogue: item 5, the zip directory is checked before anything is read --------------------------------------
def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _append_member(src: Path, dst: Path, name: str, n_bytes: int) -> Path:
    """``src`` plus a deflated member ``name`` of ``n_bytes`` zeros (a tiny file declaring a large member)."""
    dst.write_bytes(src.read_bytes())
    block = bytes(1 << 22)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w", force_zip64=True) as fh:
        for _ in range(n_bytes // len(block)):
            fh.write(block)
    return dst


def _forge_declared_size(path: Path, member: str, size: int) -> Path:
    """Patch the central directory so that ``member`` declares ``size`` uncompressed bytes (< 4 GiB)."""
    raw = bytearray(path.read_bytes())
    at = 0
    while True:
        at = raw.index(b"PK\x01\x02", at)
        name_len = int.from_bytes(raw[at + 28:at + 30], "little")
        if raw[at + 46:at + 46 + name_len].decode() == member:
            raw[at + 24:at + 28] = size.to_bytes(4, "little")
            break
        at += 4
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_an_extra_member_is_refused_before_it_is_inflated(saved, tmp_path):
    path = _append_member(saved["identity"], tmp_path / "extra.npz", "extra_.npy", 192 << 20)
    before, start = _peak_mib(), time.perf_counter()
    with pytest.raises(ModelFileError, match=r"attribute\(s\) \['extra_'\] are not fitted attributes"):
        load_model(path)
    assert _peak_mib() - before < 64, "the member was read before its name was checked"


@pytest.mark.parametrize("members, message", [
    ({"coef_.npy": 3 << 30}, "member 'coef_' declares 3,221,225,472 bytes"),
    ({"coef_.npy": 900 << 20, "intercept_.npy": 900 << 20, "k_.npy": 900 << 20},
     r"its members declare 2,831,\d{3},\d{3} bytes together"),
    ({"__meta__.npy": 100 << 20}, "member '__meta__' declares"),
])
def test_declared_sizes_are_refused_from_the_directory(saved, tmp_path, members, message):
    path = tmp_path / "forged.npz"
    path.write_bytes(saved["identity"].read_bytes())
    for member, size in members.items():
        _forge_declared_size(path, member, size)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def _rezip(src: Path, dst: Path, rename) -> Path:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            for name in rename(info.filename):
                b.writestr(name, a.read(info))
    return dst


@pytest.mark.parametrize("rename, message", [
    (lambda n: ["../" + n] if n == "coef_.npy" else [n], "is not a named array (NAME.npy)"),
    (lambda n: [n, n] if n == "coef_.npy" else [n], "appears twice"),
    (lambda n: [n.replace(".npy", ".pkl")] if n == "coef_.npy" else [n], "is not a named array"),
    (lambda n: [] if n == "__meta__.npy" else [n], "no metadata"),
])
def test_member_names_are_checked_first(saved, tmp_path, rename, message):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        path = _rezip(saved["identity"], tmp_path / "renamed.npz", rename)
    with pytest.raises(ModelFileError, match=re_escape(message)):
        load_model(path)


def test_an_npy_header_larger_than_its_member_is_refused(saved, tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (3, 10**6)})
    with zipfile.ZipFile(saved["identity"]) as a, zipfile.ZipFile(tmp_path / "h.npz", "w") as b:
        for info in a.infolist():
            data = header.getvalue() + bytes(64) if info.filename == "coef_.npy" else a.read(info)
            b.writestr(info.filename, data)
    with pytest.raises(ModelFileError, match=r"coef_ declares shape \(3, 1000000\) of float64 \(24,000,000 bytes\) "
                                             r"in a member of"):
        load_model(tmp_path / "h.npz")


# -- catalogue: item 1, nothing a load runs may end the process -------------------------------------------------
class Toy(ClassifierMixin, BaseEstimator):
    _persisted_attributes = {"classes_": ("biufU", 1), "n_features_in_": int, "w_": ("f", 1)}
    fail_in = None

    def __init__(self, when="never"):
        self.when = when
        if when == "init":
            sys.exit(3)

    def fit(self, X, y):
        self.classes_, self.n_features_in_, self.w_ = np.unique(y), X.shape[1], np.ones(X.shape[1])
        return self

    def decision_function(self, X):
        if self.when == "predict":
            raise SystemExit("bye")
        if self.when == "generator":
            raise GeneratorExit
        return np.asarray(X) @ self.w_

    def _check_loaded(self):
        if self.when == "check":
            sys.exit(0)


@pytest.fixture
def toy(tmp_path):
    register_model_class(Toy)
    X, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    yield lambda when: _edited(save_model(Toy().fit(X, y), tmp_path / "toy.npz"), tmp_path / f"{when}.npz",
                               lambda m, a: m["params"].update(when=when))
    persistence.CLASSES.pop("Toy")
    persistence._SCHEMAS.pop("Toy")


@pytest.mark.parametrize("when", ["init", "check", "predict", "generator"])
def test_system_exit_while_building_becomes_a_model_file_error(toy, when):
    with pytest.raises(ModelFileError, match=r"a Toy cannot be built from it \((SystemExit|GeneratorExit)"):
        load_model(toy(when))


def test_keyboard_interrupt_is_not_swallowed(toy, monkeypatch):
    monkeypatch.setattr(Toy, "_check_loaded", lambda self: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        load_model(toy("never"))


NAMES = st.one_of(st.sampled_from(["qboost_tn.cli.__main__", "__main__", "os", "subprocess", "builtins",
                                   "ShallowWideClassifier", "QBoostClassifier", "MPSClassifier", "Toy",
                                   "qboost_tn.qubo.shallow_wide", "", "sys", "BaseEstimator"]),
                  st.text(max_size=40), st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2))


@FUZZ
@given(name=NAMES, module=NAMES)
def test_class_and_module_names_fuzz(saved, tmp_path_factory, data, name, module):
    """Whatever class and module a file names, a load imports nothing new and raises ModelFileError or loads
    the registered class of that name (when its arrays fit it)."""
    path = tmp_path_factory.mktemp("names") / "named.npz"
    _edited(saved["identity"], path, lambda m, a: m.update({"class": name, "module": module}))
    modules = set(sys.modules)
    _loads_and_predicts_or_refuses(path, data[0][:3])
    assert set(sys.modules) <= modules | {"qboost_tn.qubo.shallow_wide", "qboost_tn.qubo.qboost",
                                          "qboost_tn.mps.classifier"}


# -- fuzz: structural corruption of trees and shapes ----------------------------------------------------------------
TREE_VALUES = {"int": st.one_of(st.integers(-3, 300), st.sampled_from([2**31 - 1, -2**31])),
               "float": st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, 2.0, 1e308, -5.0])}


@st.composite
def tree_corruptions(draw, arrays):
    """1-4 entries of the tree arrays set to values that point at nodes of the same, other or no tree."""
    arrays = {key: value.copy() for key, value in arrays.items()}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(["tree_left_", "tree_right_", "tree_feature_", "tree_threshold_",
                                     "tree_value_", "tree_offsets_"]))
        array = arrays[name]
        index = tuple(draw(st.integers(0, n - 1)) for n in array.shape)
        if array.dtype.kind == "f":
            value = draw(TREE_VALUES["float"])
        else:
            node = draw(st.sampled_from(["own", "parent", "other", "any"]))
            i = index[0]
            value = {"own": i, "parent": max(i - 1, 0), "other": int(arrays["tree_offsets_"][-2]) + 1,
                     "any": draw(TREE_VALUES["int"])}[node]
        array[index] = value
    return arrays


@FUZZ
@given(draw_data=st.data())
def test_tree_corruption_fuzz(saved, tmp_path_factory, data, draw_data):
    meta, arrays = _members(saved["qboost"])
    trees = {k: v for k, v in arrays.items() if k.startswith("tree_")}
    arrays.update(draw_data.draw(tree_corruptions(trees)))
    path = _write(tmp_path_factory.mktemp("trees") / "trees.npz", meta, arrays)
    _loads_and_predicts_or_refuses(path, data[0][:20])


@st.composite
def shape_corruptions(draw, arrays):
    """One or two arrays cut, padded, transposed or flattened along a random axis."""
    arrays = dict(arrays)
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(sorted(k for k, v in arrays.items() if v.ndim >= 1)))
        array = arrays[name]
        op = draw(st.sampled_from(["cut", "pad", "transpose", "flatten", "one"]))
        axis = draw(st.integers(0, array.ndim - 1))
        if op == "cut":
            keep = draw(st.integers(0, max(array.shape[axis] - 1, 0)))
            array = np.take(array, np.arange(keep), axis=axis)
        elif op == "pad":
            width = [(0, 0)] * array.ndim
            width[axis] = (0, draw(st.integers(1, 3)))
            array = np.pad(array, width, mode="edge") if array.size else array
        elif op == "transpose":
            array = array.T.copy()
        elif op == "flatten":
            array = array.ravel()
        else:
            array = np.take(array, [0], axis=axis) if array.shape[axis] else array
        arrays[name] = array
    return arrays


@FUZZ
@given(kind=st.sampled_from(["qboost", "identity", "trees", "rff", "nystroem", "patches", "mps"]), draw_data=st.data())
def test_shape_corruption_fuzz(saved, tmp_path_factory, data, kind, draw_data):
    meta, arrays = _members(saved[kind])
    arrays = draw_data.draw(shape_corruptions(arrays))
    path = _write(tmp_path_factory.mktemp("shapes") / "shapes.npz", meta, arrays)
    _loads_and_predicts_or_refuses(path, data[0][:20])


# -- catalogue: item 7, compressed networks: every tensor's size checked against the skeleton first ----------------
def _mlp():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    from qboost_tn.mpo import compress, save_compressed

    path = tmp_path_factory.mktemp("mpo") / "mpo.pt"
    save_compressed(compress(_mlp(), layers=["0"], max_bond=2)[0], path)
    return path


def _compressed_variant(src: Path, dst: Path, edit_layer=None, state=None) -> Path:
    import torch

    config = json.loads(Path(f"{src}.mpo.json").read_text())
    if edit_layer:
        edit_layer(config["mpo_layers"]["0"])
    Path(f"{dst}.mpo.json").write_text(json.dumps(config))
    if state is None:
        dst.write_bytes(src.read_bytes())
    else:
        torch.save(state, dst)
    return dst


def _big_bias(layer):
    # Cores of a few thousand numbers, a bias of 2^29 float32 (2 GiB): what the cap on cores alone let through.
    layer.update(in_features=16, out_features=1 << 29, in_modes=[4, 4], out_modes=[1 << 15, 1 << 14],
                 max_bond=[1])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
@pytest.mark.parametrize("edit, message", [
    (_big_bias, "describe more than 268,435,456 numbers"),
    (lambda layer: layer.update(out_features=1 << 27, out_modes=[1 << 14, 1 << 13, 1, 1]),
     "is saved with out_features = 134217728; the model's layer has 16"),
    (lambda layer: layer.update(in_features=32, in_modes=[2, 2, 2, 4]), "saved with in_features = 32; the model's layer has 16"),
    (lambda layer: layer.update(in_features=17), "saved with in_features = 17; the model's layer has 16"),
    (lambda layer: layer.update(bias="yes"), "bias should be true or false"),
    (lambda layer: layer.update(in_modes=list(range(1, 10**5))), "in-modes"),
])
def test_compressed_layer_sizes_are_checked_before_building(compressed, tmp_path, edit, message):
    from qboost_tn.mpo import load_compressed

    path = _compressed_variant(compressed, tmp_path / "bad.pt", edit)
    before = _peak_mib()
    with pytest.raises(ModelFileError, match=re_escape(message)) as caught:
        load_compressed(_mlp(), path)
    assert _peak_mib() - before < 64
    assert len(str(caught.value)) < 400


def test_tensors_larger_than_the_skeleton_takes_are_refused_before_reading(compressed, tmp_path):
    import torch

    from qboost_tn.mpo import load_compressed

    state = torch.load(compressed, weights_only=True)
    state["2.bias"] = torch.zeros(1 << 20)
    path = _compressed_variant(compressed, tmp_path / "fat.pt", state=state)
    with pytest.raises(ModelFileError, match=r"bytes of tensors \(the model's take at most [\d,]+\)"):
        load_compressed(_mlp(), path)


# -- fuzz: the zip directory (item 5) -------------------------------------------------------------------------------
MEMBER_NAMES = st.one_of(st.sampled_from(["coef_.npy", "extra_.npy", "__meta__.npy", "../x.npy", "coef_", "a/b.npy",
                                          "predict.npy", "spins_.npy", ".npy"]), st.text(max_size=12))


@st.composite
def directory_forgeries(draw, path: Path):
    """The model file rewritten with members renamed, added or dropped, and declared sizes forged."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["rename", "add", "drop"]))
        i = draw(st.integers(0, len(members) - 1))
        if op == "rename":
            members[i] = (draw(MEMBER_NAMES), members[i][1])
        elif op == "add":
            members.append((draw(MEMBER_NAMES), bytes(draw(st.integers(0, 4096)))))
        elif len(members) > 1:
            members.pop(i)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name or "empty", data)
    raw = bytearray(buffer.getvalue())
    for _ in range(draw(st.integers(0, 2))):  # a central-directory entry declaring another uncompressed size
        entries = [at for at in range(len(raw) - 4) if raw[at:at + 4] == b"PK\x01\x02"]
        at = draw(st.sampled_from(entries))
        raw[at + 24:at + 28] = draw(st.sampled_from([0, 1, 2**20, 2**30 + 2**17, 2**32 - 1])).to_bytes(4, "little")
    return bytes(raw)


@FUZZ
@given(draw_data=st.data())
def test_zip_directory_fuzz(saved, tmp_path_factory, data, draw_data):
    import warnings

    path = tmp_path_factory.mktemp("zip") / "forged.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        path.write_bytes(draw_data.draw(directory_forgeries(saved["identity"])))
    before = _peak_mib()
    _loads_and_predicts_or_refuses(path, data[0][:5])
    if sys.platform == "linux":
        assert _peak_mib() - before < 128


# -- fuzz: scalar attributes and parameters of every kind's metadata ---------------------------------------------
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 70), st.sampled_from([2**31, -2**63, 10**30]),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6)


@FUZZ
@given(kind=st.sampled_from(["qboost", "trees", "patches", "nystroem", "mps"]), draw_data=st.data())
def test_metadata_values_fuzz(saved, tmp_path_factory, data, kind, draw_data):
    """Scalar attributes (n_trees_, label_site_, map_gamma_, map_image_shape_, ...) and parameters set to any
    JSON value: refused or loaded, never another error."""
    meta, arrays = _members(saved[kind])
    for _ in range(draw_data.draw(st.integers(1, 2))):
        section = meta[draw_data.draw(st.sampled_from(["attributes", "params"]))]
        key = draw_data.draw(st.sampled_from(sorted(section)))
        same_type = {bool: st.booleans(), int: st.integers(-3, 10**6) | st.sampled_from([0, 2**63 - 1, 10**30]),
                     float: st.floats(allow_nan=True, allow_infinity=True), str: st.text(max_size=8),
                     list: st.lists(st.integers(-2, 10**5), max_size=3)}.get(type(section[key]), JSON_VALUES)
        section[key] = draw_data.draw(st.one_of(same_type, same_type, JSON_VALUES))
    path = _write(tmp_path_factory.mktemp("meta") / "meta.npz", meta, arrays)
    _loads_and_predicts_or_refuses(path, data[0][:5])
