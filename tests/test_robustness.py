"""A catalogue of bad inputs (issue 12): every case is one mistake a user can make, through the API, a config,
the command line or a file, with the exact fragment of the message they must get.

A case that another helper's issue-12 item fixes and that is not fixed yet is marked
``xfail(strict=True, reason="issue 12 item N: OWNER")``: it turns into a failure the day it is fixed, and the
mark is removed then. Command-line cases run :func:`qboost_tn.cli.main` as the console script does and check
that no traceback is printed; two of them run the real ``python -m qboost_tn.cli`` process.
"""
from __future__ import annotations

import gzip
import io
import json
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from qboost_tn.errors import DataError, ModelFileError, QBoostTNError

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    """``action(files)`` must raise ``error`` whose message holds ``message``; ``owner`` marks a pending fix."""

    area: str
    name: str
    action: Callable
    error: type | tuple
    message: str
    owner: str | None = None

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.owner)] if self.owner else []
        return pytest.param(self, id=f"{self.area}:{self.name}", marks=marks)


# -- files every case may point at --------------------------------------------------------------------------
def _csv(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _idx(folder: Path, name: str, header: bytes, body: bytes, compress=True) -> Path:
    path = folder / name
    path.write_bytes(gzip.compress(header + body) if compress else header + body)
    return path


def _ubyte_header(*shape, dtype=0x08) -> bytes:
    return struct.pack(">HBB", 0, dtype, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def _npz(path: Path, arrays: dict) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def _members(path: Path) -> dict:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def _edited(src: Path, dst: Path, edit) -> Path:
    """A copy of the model file ``src`` at ``dst`` with ``edit(meta, arrays)`` applied."""
    arrays = _members(src)
    meta = json.loads(str(arrays["__meta__"]))
    edit(meta, arrays)
    arrays["__meta__"] = np.array(json.dumps(meta))
    return _npz(dst, arrays)


class Files:
    """Every bad file of the catalogue, written once per module into one folder."""

    def __init__(self, root: Path):
        from sklearn.datasets import load_digits

        from qboost_tn import ShallowWideClassifier, save_model

        self.root = root
        good = "a,b,c,color,label\n1,2,3,red,x\n2,3,4,blue,y\n3,4,5,red,x\n4,5,6,blue,y\n"
        self.csv = _csv(root, "good.csv", good)
        self.semicolon = _csv(root, "semi.csv", good.replace(",", ";"))
        self.repeated_target = _csv(root, "leak.csv", "x,label,label\n1,0,0\n2,1,1\n")
        self.duplicate = _csv(root, "dup.csv", "x,x,label\n1,2,0\n2,3,1\n")
        self.empty = _csv(root, "empty.csv", "")
        self.header_only = _csv(root, "header.csv", "a,label\n")
        self.nan = _csv(root, "nan.csv", "a,label\n1,x\n,y\n")
        self.inf = _csv(root, "inf.csv", "a,label\n1,x\ninf,y\n")
        self.one_class = _csv(root, "one.csv", "a,label\n1,x\n2,x\n")
        self.binary = _csv(root, "binary.csv", b"a,label\n\xff\xfe\x00,1\n")

        self.idx_magic = _idx(root, "magic.gz", b"\x01\x02\x08\x03" + bytes(12), bytes(18))
        self.idx_float = _idx(root, "float.gz", _ubyte_header(2, 3, 3, dtype=0x0D), bytes(72))
        self.idx_short = _idx(root, "short.gz", _ubyte_header(2, 3, 3), bytes(10))
        self.idx_long = _idx(root, "long.gz", _ubyte_header(2, 3, 3), bytes(19))
        self.idx_tiny = _idx(root, "tiny.gz", b"\x00\x00", b"")
        self.idx_header = _idx(root, "header.gz", _ubyte_header(2, 3, 3)[:9], b"")
        self.idx_huge = _idx(root, "huge.gz", _ubyte_header(60000, 60000, 28), bytes(100))
        self.idx_plain = _idx(root, "plain-idx3-ubyte", _ubyte_header(2, 3, 3), bytes(10), compress=False)
        gz = gzip.compress(_ubyte_header(2, 3, 3) + bytes(18))
        (root / "cut.gz").write_bytes(gz[:-12])
        self.idx_cut = root / "cut.gz"
        self.mnist_labels = self._mnist(root / "mnist-labels", n_images=3, labels=[1, 2, 12])
        self.mnist_counts = self._mnist(root / "mnist-counts", n_images=3, labels=[1, 2])
        self.mnist_bomb = self._mnist(root / "mnist-bomb", n_images=3, labels=[1, 2, 3])
        _bomb(self.mnist_bomb / "train-images-idx3-ubyte.gz", (3, 4, 4), 64 << 20)

        X, y = load_digits(return_X_y=True)
        X, y = X[:90] / 16.0, y[:90]
        fast = dict(num_reads=1, num_sweeps=20, random_state=0)
        self.model = save_model(ShallowWideClassifier(n_layers=1, **fast).fit(X, y), root / "sw.npz")
        self.binary_model = save_model(ShallowWideClassifier(n_layers=1, **fast).fit(X, y % 2), root / "binary.npz")
        self.X = X
        raw = self.model.read_bytes()
        self.text_model = _csv(root, "notes.npz", "this is a text file\n")
        self.truncated_model = _csv(root, "cut.npz", raw[: len(raw) // 2])
        self.flipped_model = root / "flipped.npz"
        self.flipped_model.write_bytes(_flip_member_data(raw, "coef_.npy"))
        self.plain_npz = _npz(root / "plain.npz", {"a": np.ones(2)})
        self.object_npz = root / "object.npz"
        np.savez(self.object_npz, __meta__=np.array([{"x": 1}], dtype=object), allow_pickle=True)
        self.huge_model = self._huge_header(root / "huge.npz")
        edit = lambda name, fn: _edited(self.model, root / f"{name}.npz", fn)  # noqa: E731
        self.three_classes = _edited(self.binary_model, root / "three.npz",
                                     lambda m, a: a.__setitem__("classes_", np.array([0, 1, 2])))
        self.method_attr = edit("method", lambda m, a: m["attributes"].__setitem__("predict", 1))
        self.unknown_class = edit("class", lambda m, a: m.__setitem__("class", "Pickled"))
        self.other_format = edit("format", lambda m, a: m.__setitem__("format", "other/9"))
        self.bad_param = edit("param", lambda m, a: m["params"].__setitem__("n_layers", -3))
        self.unknown_param = edit("uparam", lambda m, a: m["params"].__setitem__("evil", 1))
        self.params_list = edit("plist", lambda m, a: m.__setitem__("params", [1]))
        self.nan_coef = edit("nan", lambda m, a: a["coef_"].__setitem__((0, 0), np.nan))
        self.int_coef = edit("int", lambda m, a: a.__setitem__("coef_", a["coef_"].astype(np.int64)))
        self.flat_coef = edit("flat", lambda m, a: a.__setitem__("coef_", a["coef_"][0]))
        self.narrow_coef = edit("narrow", lambda m, a: a.__setitem__("coef_", a["coef_"][:, :5]))
        self.bool_count = edit("bool", lambda m, a: m["attributes"].__setitem__("n_params_", True))
        self.wide = edit("wide", lambda m, a: m["attributes"].__setitem__("n_features_in_", 10**12))
        self.bad_json = root / "json.npz"
        arrays = _members(self.model)
        arrays["__meta__"] = np.array("{not json")
        _npz(self.bad_json, arrays)

        self._mpo_files(root)

    @staticmethod
    def _mnist(folder: Path, n_images: int, labels) -> Path:
        from qboost_tn.data.idx import write_idx

        folder.mkdir()
        write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((n_images, 4, 4), np.uint8))
        write_idx(folder / "train-labels-idx1-ubyte.gz", np.array(labels, np.uint8))
        return folder

    def _huge_header(self, path: Path) -> Path:
        """A ~1 KB model file whose coef_ header declares 1e11 float64 (800 GB)."""
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**11,)})
        with zipfile.ZipFile(self.model) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
            dst.writestr("__meta__.npy", src.read("__meta__.npy"))
            dst.writestr("coef_.npy", header.getvalue() + bytes(4096))
        return path

    def _mpo_files(self, root: Path) -> None:
        import torch

        from qboost_tn.mpo import compress, save_compressed

        small, _ = compress(mlp(), layers=["0"], max_bond=2)
        self.mpo = root / "mpo.pt"
        save_compressed(small, self.mpo)
        state, config = self.mpo.read_bytes(), json.loads(Path(f"{self.mpo}.mpo.json").read_text())
        layer = config["mpo_layers"]["0"]

        def variant(name, state_bytes=state, config_text=json.dumps(config)):
            path = root / f"{name}.pt"
            path.write_bytes(state_bytes)
            Path(f"{path}.mpo.json").write_text(config_text)
            return path

        def saved(obj):
            buffer = io.BytesIO()
            torch.save(obj, buffer)
            return buffer.getvalue()

        wrong = small.state_dict()
        wrong["2.weight"] = torch.zeros(3, 3)
        self.mpo_text = variant("text", b"not a torch file")
        self.mpo_truncated = variant("cut", state[: len(state) // 2])
        self.mpo_bad_json = variant("json", config_text="{")
        self.mpo_no_layers = variant("nolayers", config_text="{}")
        self.mpo_huge = variant("huge", config_text=json.dumps(
            {"mpo_layers": {"0": {**layer, "max_bond": [10**6] * (len(layer["in_modes"]) - 1)}}}))
        self.mpo_no_such_layer = variant("layer", config_text=json.dumps({"mpo_layers": {"9": layer}}))
        self.mpo_chain = variant("chain", config_text=json.dumps({"mpo_layers": {"0": {**layer, "in_modes": [3]}}}))
        self.mpo_mismatch = variant("mismatch", saved(wrong))
        self.mpo_list = variant("list", saved([1, 2]))
        self.mpo_code = variant("code", saved(Executes()))
        self.mpo_no_config = root / "alone.pt"
        self.mpo_no_config.write_bytes(state)


def _bomb(path: Path, shape, n_zeros: int) -> Path:
    """An IDX gzip file declaring ``shape`` followed by ``n_zeros`` zero bytes (concatenated gzip members)."""
    block = 1 << 22
    zeros = gzip.compress(bytes(block), compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(_ubyte_header(*shape)))
        for _ in range(n_zeros // block):
            fh.write(zeros)
    return path


class Executes:
    """A payload that would run code if unpickled: weights_only loading must refuse it."""

    def __reduce__(self):
        return (print, ("this must never run",))


def mlp():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))


def _flip_member_data(raw: bytes, member: str) -> bytes:
    """``raw`` (a zip) with one byte flipped inside ``member``'s compressed data."""
    info = zipfile.ZipFile(io.BytesIO(raw)).getinfo(member)
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    flipped = bytearray(raw)
    flipped[start + info.compress_size // 2] ^= 0xFF
    return bytes(flipped)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return Files(tmp_path_factory.mktemp("bad-inputs"))


def load_csv(path, **options):
    from qboost_tn.data import load_dataset

    return lambda f: load_dataset("csv", path=getattr(f, path), **{"target": "label", **options})


def read_idx(name):
    from qboost_tn.data.idx import read_idx as read

    return lambda f: read(getattr(f, name))


def load_model(name):
    from qboost_tn import load_model as load

    return lambda f: load(getattr(f, name))


def load_compressed(name):
    from qboost_tn.mpo import load_compressed as load

    return lambda f: load(mlp(), getattr(f, name))


def toy_dataset(n=20):
    from qboost_tn.data import Dataset

    y = np.arange(n) % 2
    return Dataset("toy", np.arange(2.0 * n).reshape(n, 2), y, ["f0", "f1"], ["no", "yes"])


def fit(**params):
    from qboost_tn.qubo import ShallowWideClassifier

    def action(f, X=None, y=None):
        X = f.X if X is None else X
        y = f.X[:, 10] > 0.2 if y is None else y
        fast = {"n_layers": 1, "num_reads": 1, "num_sweeps": 20, "random_state": 0}
        return ShallowWideClassifier(**{**fast, **params}).fit(X, y)
    return action


def _big_feature(f):
    X = f.X.copy()
    X[0, 3], X[1, 3] = 1e308, -1e308
    return fit()(f, X=X)


def _save_other(f):
    from sklearn.linear_model import RidgeClassifier  # logistic regression is savable; this one is not

    from qboost_tn import save_model

    return save_model(RidgeClassifier().fit(f.X, f.X[:, 10] > 0.2), f.root / "lr.npz")


def _save_user_learners(f):
    from sklearn.tree import DecisionTreeClassifier

    from qboost_tn import QBoostClassifier, save_model

    y = f.X[:, 10] > 0.2
    tree = DecisionTreeClassifier(max_depth=1).fit(f.X, y)
    model = QBoostClassifier(weak_learners=[tree], num_reads=1, num_sweeps=20, random_state=0).fit(f.X, y)
    return save_model(model, f.root / "user.npz")


def _split(**options):
    from qboost_tn.data import split

    return lambda f: split(toy_dataset(), **options)


def _prepare_scale(f):
    from qboost_tn.data import prepare, split

    data = toy_dataset()
    return prepare(data, split(data, n_train=10), scale="zscore")


def _config(raw, overrides=()):
    from qboost_tn.experiments import load_config

    def action(f):
        return load_config(raw(f) if callable(raw) else raw, overrides=overrides, check_paths=False)
    return action


def _digits_config(**changes):
    from qboost_tn.experiments.config import find_config, read_yaml

    raw = read_yaml(find_config("digits"))
    for path, value in changes.items():
        node = raw
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return raw


def _yaml_file(text):
    def raw(f):
        path = f.root / "config.yaml"
        path.write_text(text)
        return str(path)
    return raw


def _evaluate_strings(f):
    from qboost_tn import evaluate

    return evaluate(np.array(["no", "yes", "no", "yes"]), np.array([0.1, 0.9, 0.2, 0.8]))


def _load_unknown_dataset(f):
    from qboost_tn.data import load_dataset

    return load_dataset("cifar")


def _load_with_option(name, **options):
    from qboost_tn.data import load_dataset

    return lambda f: load_dataset(name, **{k: (getattr(f, v[1:]) if isinstance(v, str) and v.startswith("@")
                                               else v) for k, v in options.items()})



API_CASES = [
    # -- data sets: CSV (items 7, 10) --------------------------------------------------------------------------
    Case("csv", "unknown categorical", load_csv("csv", categorical="colr"), DataError,
         "categorical column(s) ['colr'] not found; the columns are ['a', 'b', 'c', 'color', 'label']"),
    Case("csv", "drop string is one name", load_csv("csv", categorical="color", drop="ab"), DataError,
         "drop column(s) ['ab'] not found"),
    Case("csv", "column option of wrong type", load_csv("csv", categorical=3), DataError,
         "categorical must be a column name, a comma-separated string of names or a list of names; got 3"),
    Case("csv", "empty name in comma list", load_csv("csv", features="a,,b"), DataError,
         "features: empty column name in 'a,,b'"),
    Case("csv", "features=[]", load_csv("csv", features=[]), DataError, "no feature columns left (features=[]"),
    Case("csv", "features and drop", load_csv("csv", features="a", drop="b"), DataError,
         "give features or drop, not both"),
    Case("csv", "target repeated in header", load_csv("repeated_target"), DataError,
         "the target column 'label' appears 2 times in the header; a copy of the label would become a feature"),
    Case("csv", "duplicate feature names", load_csv("duplicate"), DataError,
         "duplicate column name(s) ['x'] in the header"),
    Case("csv", "empty file", load_csv("empty"), DataError, "empty.csv: the file is empty (no header row)"),
    Case("csv", "header only", load_csv("header_only"), DataError, "header.csv: has a header but no data rows"),
    Case("csv", "sep=''", load_csv("csv", sep=""), DataError, "sep must be one character"),
    Case("csv", "target not a string", load_csv("csv", target=1), DataError,
         "target must be the label column's name (a string), got 1"),
    Case("csv", "missing target column", load_csv("csv", target="y"), DataError,
         "target column(s) ['y'] not found; the columns are"),
    Case("csv", "wrong separator", load_csv("semicolon"), DataError, "is the separator ';' (sep=';')?"),
    Case("csv", "non-numeric feature", load_csv("csv"), DataError, "non-numeric column(s) ['color']"),
    Case("csv", "NaN feature", load_csv("nan"), DataError, "missing values (NaN) in feature column(s) ['a']"),
    Case("csv", "infinite feature", load_csv("inf"), DataError, "infinite values in feature column(s) ['a']"),
    Case("csv", "one class", load_csv("one_class"), DataError, "target column 'label' has only one class ('x')"),
    Case("csv", "not UTF-8", load_csv("binary"), DataError, "cannot parse as CSV with separator ','"),
    Case("csv", "missing file", _load_with_option("csv", path="/nonexistent/absent.csv", target="label"),
         FileNotFoundError, "CSV file not found: /nonexistent/absent.csv"),
    # -- data sets: registry, images, IDX (items 8, 12) -------------------------------------------------------
    Case("data", "unknown data set", _load_unknown_dataset, QBoostTNError, "unknown data set 'cifar'; known:"),
    Case("data", "unknown option", _load_with_option("digits", colour=True), QBoostTNError,
         "does not take option(s) ['colour']"),
    Case("data", "size='abc'", _load_with_option("digits", size="abc"), DataError,
         "size must be a positive integer or a (height, width) pair of them, at most 4x the images' 8x8; got 'abc'"),
    Case("data", "size='20' (quoted YAML)", _load_with_option("digits", size="20"), DataError, "got '20'"),
    Case("data", "size=0", _load_with_option("digits", size=0), DataError, "got 0"),
    Case("data", "size=True", _load_with_option("digits", size=True), DataError, "got True"),
    Case("data", "size too large", _load_with_option("digits", size=10**6), DataError, "got 1000000"),
    Case("data", "mnist path missing", _load_with_option("mnist", path="/nonexistent/mnist"), FileNotFoundError,
         "data path not found: /nonexistent/mnist"),
    Case("data", "mnist label out of range", _load_with_option("mnist", path="@mnist_labels"), DataError,
         "label 12 outside 0..9"),
    Case("data", "mnist counts differ", _load_with_option("mnist", path="@mnist_counts"), DataError,
         "3 images but 2 labels in the train files"),
    Case("data", "mnist subset", _load_with_option("mnist", path="@mnist_counts", subset="val"), DataError,
         "subset must be 'train', 'test' or 'all', got 'val'"),
    Case("idx", "bad magic", read_idx("idx_magic"), DataError, "not an IDX file (bad magic number 01020803)"),
    Case("idx", "float data", read_idx("idx_float"), DataError, "IDX data type 0x0d is not supported"),
    Case("idx", "truncated body", read_idx("idx_short"), DataError,
         "IDX file truncated: header promises shape (2, 3, 3) (18 bytes), file holds 10"),
    Case("idx", "trailing bytes", read_idx("idx_long"), DataError,
         "IDX file has trailing bytes after the 18 its header promises"),
    Case("idx", "too short", read_idx("idx_tiny"), DataError, "too short to be an IDX file (2 bytes)"),
    Case("idx", "truncated header", read_idx("idx_header"), DataError, "truncated IDX header (5 of 12 bytes)"),
    Case("idx", "absurd declared size", read_idx("idx_huge"), DataError,
         "(100,800,000,000 bytes), more than the 1,073,741,824 bytes this reader accepts"),
    Case("idx", "plain file truncated", read_idx("idx_plain"), DataError, "IDX file truncated"),
    Case("idx", "cut gzip stream", read_idx("idx_cut"), DataError, "corrupt or truncated gzip stream"),
    # -- splits (item 6's API side) ---------------------------------------------------------------------------
    Case("split", "more samples than exist", _split(n_train=5000), DataError,
         "split: asks for 5000 samples (train 5000, val 0, test 0) but the data set has 20"),
    Case("split", "count as string", _split(n_train="5"), DataError,
         "split: n_train must be a non-negative integer, got '5'"),
    Case("split", "fraction out of range", _split(train_size=1.5), DataError,
         "split: train_size must be a number in (0, 1), got 1.5"),
    Case("split", "both modes", _split(n_train=5, train_size=0.5), DataError,
         "split: give either train_size or n_train/n_val/n_test, not both"),
    Case("split", "unknown scaler", _prepare_scale, DataError, "prepare: unknown scale 'zscore'"),
    # -- model files (item 9) ---------------------------------------------------------------------------------
    Case("model-file", "text file", load_model("text_model"), ModelFileError,
         "is not a qboost-tn model file (not an .npz archive, or truncated)"),
    Case("model-file", "truncated", load_model("truncated_model"), ModelFileError,
         "is not a qboost-tn model file (not an .npz archive, or truncated)"),
    Case("model-file", "flipped byte", load_model("flipped_model"), ModelFileError,
         "is damaged or not a qboost-tn model file"),
    Case("model-file", "npz without metadata", load_model("plain_npz"), ModelFileError,
         "is not a qboost-tn model file (no metadata)"),
    Case("model-file", "pickled object member", load_model("object_npz"), ModelFileError,
         "__meta__ holds Python objects, which a model file never does"),
    Case("model-file", "header declares 1e11 elements", load_model("huge_model"), ModelFileError,
         "coef_ declares shape (100000000000,) of float64 (800,000,000,000 bytes) in a member of"),
    Case("model-file", "3 classes, binary coefficients", load_model("three_classes"), ModelFileError,
         "intercept_ has 1 along axis 0 where tasks = 3 (from classes_)"),
    Case("model-file", "attribute named predict", load_model("method_attr"), ModelFileError,
         "attribute(s) ['predict'] are not fitted attributes of ShallowWideClassifier"),
    Case("model-file", "unknown class", load_model("unknown_class"), ModelFileError,
         "holds a model of class 'Pickled'; can load"),
    Case("model-file", "other format", load_model("other_format"), ModelFileError,
         "has format 'other/9'; expected qboost-tn-model/1"),
    Case("model-file", "invalid parameter", load_model("bad_param"), ModelFileError,
         "stored parameters are invalid: The 'n_layers' parameter of ShallowWideClassifier must be"),
    Case("model-file", "unknown parameter", load_model("unknown_param"), ModelFileError,
         "ShallowWideClassifier has no parameter(s) ['evil']"),
    Case("model-file", "params not a mapping", load_model("params_list"), ModelFileError,
         "metadata 'params' should be a mapping, got list"),
    Case("model-file", "NaN coefficient", load_model("nan_coef"), ModelFileError,
         "coef_ holds NaN or inf"),
    Case("model-file", "integer coefficients", load_model("int_coef"), ModelFileError,
         "coef_ has dtype int64; expected kind(s) 'f'"),
    Case("model-file", "1-D coefficients", load_model("flat_coef"), ModelFileError,
         "coef_ has shape (64,); expected 2 dimension(s)"),
    Case("model-file", "coefficients of the wrong width", load_model("narrow_coef"), ModelFileError,
         "coef_ has 5 along axis 1 where P = 64 (from spins_)"),
    Case("model-file", "bool for a count", load_model("bool_count"), ModelFileError,
         "n_params_ should be int, got bool"),
    Case("model-file", "absurd n_features_in_", load_model("wide"), ModelFileError,
         "n_features_in_ = 1000000000000 is outside 1..10000000"),
    Case("model-file", "metadata not JSON", load_model("bad_json"), ModelFileError,
         "is damaged or not a qboost-tn model file (JSONDecodeError"),
    Case("model-file", "missing file", lambda f: load_model("root")(f), FileNotFoundError,
         "load: model file not found"),
    Case("model-file", "save a foreign estimator", _save_other, QBoostTNError, "not RidgeClassifier"),
    Case("model-file", "save user weak learners", _save_user_learners, QBoostTNError,
         "user-supplied weak_learners cannot be saved without pickle"),
    # -- compressed networks (item 9, load_compressed) -------------------------------------------------------
    Case("mpo-file", "text state_dict", load_compressed("mpo_text"), ModelFileError, "not a torch state_dict file"),
    Case("mpo-file", "truncated state_dict", load_compressed("mpo_truncated"), ModelFileError,
         "not a torch state_dict file (torch.save writes a zip archive), or truncated"),
    Case("mpo-file", "shapes not JSON", load_compressed("mpo_bad_json"), ModelFileError, ".mpo.json: not valid JSON"),
    Case("mpo-file", "shapes without mpo_layers", load_compressed("mpo_no_layers"), ModelFileError,
         'expected {"mpo_layers": {layer name: shape}}, got dict without mpo_layers'),
    Case("mpo-file", "absurd bond dimensions", load_compressed("mpo_huge"), ModelFileError,
         "the MPO layers describe more than 268,435,456 numbers"),
    Case("mpo-file", "layer the skeleton lacks", load_compressed("mpo_no_such_layer"), ModelFileError,
         "the model has no layer '9' to hold the saved MPO layer"),
    Case("mpo-file", "modes that are no chain", load_compressed("mpo_chain"), ModelFileError,
         "do not describe one chain of cores"),
    Case("mpo-file", "tensors of other shapes", load_compressed("mpo_mismatch"), ModelFileError,
         "the saved tensors do not fit the model"),
    Case("mpo-file", "not a state_dict", load_compressed("mpo_list"), ModelFileError,
         "holds list, not a state_dict of named tensors"),
    Case("mpo-file", "pickled code", load_compressed("mpo_code"), ModelFileError,
         "damaged or not a saved state_dict (UnpicklingError"),
    Case("mpo-file", "shapes file missing", load_compressed("mpo_no_config"), FileNotFoundError,
         "(the MPO layer shapes saved beside"),
    # -- configs ---------------------------------------------------------------------------------------------
    Case("config", "count as string", _config(lambda f: _digits_config(**{"split.n_train": "abc"})), QBoostTNError,
         "split.n_train: expected int or null, got str"),
    Case("config", "unknown data option", _config(lambda f: _digits_config(**{"data.options.drop": "ab"})),
         QBoostTNError, "data.options.drop: data set 'digits' takes no such option"),
    Case("config", "not YAML", _config(_yaml_file("name: [unclosed\n")), QBoostTNError, "not valid YAML"),
    Case("config", "duplicate key", _config(_yaml_file("name: a\nname: b\n")), QBoostTNError, "name"),
    Case("config", "override past a list's end", _config(lambda f: _digits_config(), ["models[99].params.C=1"]),
         QBoostTNError, "no [99]"),
    Case("config", "override not KEY=VALUE", _config(lambda f: _digits_config(), ["split"]), QBoostTNError,
         "is not KEY=VALUE"),
    Case("config", "missing config", _config("no-such-config-anywhere"), FileNotFoundError,
         "config 'no-such-config-anywhere' not found"),
    # -- estimators (item 11 is SW's; one-class message is item 13) -------------------------------------------
    Case("estimator", "one class", lambda f: fit()(f, y=np.ones(len(f.X), dtype=np.int64)), ValueError,
         "y holds only class 1"),
    Case("estimator", "n_layers=0", fit(n_layers=0), ValueError,
         "The 'n_layers' parameter of ShallowWideClassifier must be an int in the range [1, inf)"),
    Case("estimator", "random_state=-1", fit(random_state=-1), ValueError, "'random_state' parameter"),
    Case("estimator", "NaN feature", lambda f: fit()(f, X=np.where(f.X == 0, np.nan, f.X)), ValueError,
         "Input X contains NaN"),
    Case("estimator", "features spanning ±1e308", _big_feature, QBoostTNError,
         "feature column 3: its standard deviation has no finite float64 value"),
    Case("estimator", "k=1e308", fit(k=1e308), ValueError,
         "k=1e+308 (with lam=5.0) makes the training energy overflow"),
    Case("estimator", "zero class weights", fit(class_weight={False: 0.0, True: 0.0}), ValueError,
         "class_weight[False] = 0.0: every class weight must be a finite number > 0"),
    Case("estimator", "NaN class weight", fit(class_weight={False: float("nan"), True: 1.0}), ValueError,
         "class_weight[False] = nan: every class weight must be a finite number > 0"),
    Case("estimator", "negative class weight", fit(class_weight={False: -1.0, True: 1.0}), ValueError,
         "class_weight[False] = -1.0: every class weight must be a finite number > 0"),
    Case("eval", "string labels", _evaluate_strings, QBoostTNError,
         "evaluate: labels must be integers 0 .. n_classes - 1, got <U3 values"),
]


@pytest.mark.parametrize("case", [c.param() for c in API_CASES])
def test_api(case, files):
    with pytest.raises(case.error) as info:
        case.action(files)
    message = str(info.value)
    assert case.message in message
    assert "allow_pickle" not in message and "Q contains NaN" not in message


# -- the command line ----------------------------------------------------------------------------------------
def csv_info(path_attr, *options):
    return lambda f: ["info", "csv", "-o", f"path={getattr(f, path_attr)}", *sum((["-o", o] for o in options), [])]


CLI_CASES = [
    Case("cli", "categorical=color is one column", csv_info("csv", "target=label", "categorical=colr"), None,
         "categorical column(s) ['colr'] not found; the columns are ['a', 'b', 'c', 'color', 'label']"),
    Case("cli", "drop=ab is one column", csv_info("csv", "target=label", "categorical=color", "drop=ab"), None,
         "drop column(s) ['ab'] not found"),
    Case("cli", "features=[]", csv_info("csv", "target=label", "features=[]"), None, "no feature columns left"),
    Case("cli", "sep=''", csv_info("csv", "target=label", "sep=''"), None, "sep must be one character"),
    Case("cli", "target repeated", csv_info("repeated_target", "target=label"), None,
         "a copy of the label would become a feature (target leakage)"),
    Case("cli", "empty CSV", csv_info("empty", "target=label"), None, "empty.csv: the file is empty"),
    Case("cli", "header-only CSV", csv_info("header_only", "target=label"), None, "header.csv: has a header but no"),
    Case("cli", "CSV without target", csv_info("csv", "categorical=color"), None,
         "data set 'csv' needs option(s) ['target'], e.g. -o target=..."),
    Case("cli", "size=abc", lambda f: ["info", "digits", "-o", "size=abc"], None, "size must be a positive integer"),
    Case("cli", "size=[1", lambda f: ["info", "digits", "-o", "size=[1"], None, "is not a valid YAML value"),
    Case("cli", "MNIST label out of range", lambda f: ["info", "mnist", "-o", f"path={f.mnist_labels}"], None,
         "label 12 outside 0..9"),
    Case("cli", "IDX gzip bomb", lambda f: ["info", "mnist", "-o", f"path={f.mnist_bomb}"], None,
         "IDX file has trailing bytes after the 48 its header promises (shape (3, 4, 4))"),
    Case("cli", "--set YAML error", lambda f: ["run", "digits", "--set", "split.n_train=[1", "--dry-run"], None,
         "is not a valid YAML value"),
    Case("cli", "--set wrong type", lambda f: ["run", "digits", "--set", "split.n_train=abc", "--dry-run"], None,
         "split.n_train: expected int or null, got str"),
    Case("cli", "--seed -1", lambda f: ["train", "--dataset", "digits", "--seed", "-1", "--dry-run"], None,
         "must be >= 0, got -1"),
    Case("cli", "more samples than exist",
         lambda f: ["run", "digits", "--model", "logreg", "--set", "split.n_train=5000", "--out",
                    str(f.root / "too-many")], None,
         "split: asks for 5300 samples (train 5000, val 300, test 0) but the data set has 1797"),
]


@pytest.mark.parametrize("case", [c.param() for c in CLI_CASES])
def test_cli(case, files, capsys):
    from qboost_tn.cli import main

    status = main(case.action(files))
    err = capsys.readouterr().err
    assert status == 2
    assert case.message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


@pytest.mark.parametrize("argv, message", [
    (["info", "csv", "-o", "path={repeated_target}", "-o", "target=label"], "appears 2 times in the header"),
    (["info", "csv", "-o", "path={csv}", "-o", "target=label", "-o", "drop=ab"], "drop column(s) ['ab'] not found"),
])
def test_cli_process(files, argv, message):
    """The real console entry point, as a user runs it: exit status 2, one line, no traceback."""
    argv = [a.format(**vars(files)) for a in argv]
    done = subprocess.run([sys.executable, "-m", "qboost_tn.cli", *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

