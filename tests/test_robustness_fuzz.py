"""Property-based fuzzing (hypothesis) of everything that reads user-supplied input (issue 12).

The property is the same for every target: a random or mutated input either loads, or raises the project's
error type (:class:`~qboost_tn.errors.QBoostTNError`; ``ConfigError``, ``DataError`` and ``ModelFileError``
derive from it) - never anything else - within the hypothesis deadline, and without growing the process's
peak memory by more than :data:`MEMORY_MIB` (the readers are imported at the top, so their own import does
not count). Runs are derandomised, so the suite is deterministic; the number
of examples per target is :data:`EXAMPLES` (about 20 s in all on a loaded 2-core machine).
"""
from __future__ import annotations

import copy
import functools
import gzip
import io
import json
import re
import resource
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from qboost_tn.data import load_dataset
from qboost_tn.data.idx import read_idx
from qboost_tn.errors import QBoostTNError
from qboost_tn.experiments import load_config
from qboost_tn.mpo import load_compressed
from qboost_tn import load_model

EXAMPLES = 150
MEMORY_MIB = 256
FUZZ = settings(max_examples=EXAMPLES, deadline=3000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       # bounded_memory measures all examples of a test together, on purpose
                                       HealthCheck.function_scoped_fixture])


def _outcome(exc=None) -> None:
    """Record what an example did (``pytest --hypothesis-show-statistics`` lists them): loaded, or which refusal."""
    if exc is None:
        event("loaded")
        return
    words = re.sub(r"\S*/\S*", "", str(exc)).replace("load: ", "").split()
    event(f"{type(exc).__name__}: {' '.join(words[:4])}")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@pytest.fixture
def bounded_memory():
    """Fails the test if its examples together raised the peak RSS by more than MEMORY_MIB."""
    if sys.platform != "linux":
        pytest.skip("ru_maxrss is in KiB on Linux only")
    before = _peak_mib()
    yield
    assert _peak_mib() - before < MEMORY_MIB


def _mutate(data: bytes, draw) -> bytes:
    """``data`` with a few random byte flips, a cut, an insertion or a splice."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "set"]))
        pos = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "flip" and out:
            out[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del out[pos:]
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "set" and out:
            out[pos] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
    return bytes(out)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# -- CSV -------------------------------------------------------------------------------------------------------
NAMES = ["a", "b", "label", "color", "a,b", "x y", ""]
NUMBERS = st.one_of(st.integers(-5, 5).map(str), st.floats(-1e3, 1e3).map(repr))
CELLS = st.one_of(NUMBERS, NUMBERS, NUMBERS, st.floats().map(repr),
                  st.sampled_from(["red", "blue", "", "nan", "inf", "-inf", '"q,q"', "1e308", "-1e309", "yes"]),
                  st.text(alphabet=st.characters(codec="utf-8"), max_size=4))


def _often(draw, usual, other):
    """``usual`` four times in five, else ``other`` (both strategies)."""
    return draw(usual if draw(st.integers(0, 4)) else other)


@st.composite
def csv_inputs(draw):
    """A small CSV (mostly well-formed, sometimes mutated) and loader options (mostly sensible)."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    if draw(st.booleans()):  # a clean file, so that loading succeeds often enough to be checked too
        columns = draw(st.lists(st.sampled_from(["a", "b", "c", "color"]), min_size=1, max_size=4, unique=True))
        n = draw(st.integers(2, 8))
        cells = {c: draw(st.lists(st.sampled_from(["red", "blue"]) if c == "color" else NUMBERS, min_size=n,
                                  max_size=n)) for c in columns}
        labels = draw(st.lists(st.sampled_from(["yes", "no", "0", "1"]), min_size=n, max_size=n))
        lines = [sep.join([*columns, "label"])] + [sep.join([*(cells[c][i] for c in columns), labels[i]])
                                                   for i in range(n)]
        options = {"target": "label", "sep": sep}
        if "color" in columns:
            options["categorical"] = draw(st.sampled_from(["color", ["color"], "color,a", "colr"]))
        return "\n".join(lines), options
    header = _often(draw, st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True),
                    st.lists(st.sampled_from(NAMES), min_size=1, max_size=5))
    width = len(header)
    rows = draw(st.lists(st.one_of(st.lists(CELLS, min_size=width, max_size=width),
                                   st.lists(CELLS, min_size=max(width - 1, 0), max_size=width + 1)), max_size=8))
    text = "\n".join(sep.join(line) for line in [header, *rows])
    if not draw(st.integers(0, 3)):
        text = _mutate(text.encode(), draw).decode("utf-8", "replace")
    options = {"target": _often(draw, st.sampled_from(header), st.one_of(st.sampled_from(NAMES), st.integers(),
                                                                          st.none())),
               "sep": _often(draw, st.just(sep), st.sampled_from([",", "", None, ";;", "[", 1]))}
    others = [name for name in header if name != options["target"]] or NAMES
    for key in ("features", "categorical", "drop"):
        value = _often(draw, st.none(), st.one_of(
            st.sampled_from(others), st.lists(st.sampled_from(others), max_size=3), st.sampled_from(NAMES),
            st.integers(), st.just("a,b"), st.just("color,"), st.just([])))
        if value is not None:
            options[key] = value
    return text, options


@FUZZ
@given(example=csv_inputs())
def test_csv_loader_fuzz(folder, bounded_memory, example):
    path = folder / "fuzz.csv"
    text, options = example
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        ds = load_dataset("csv", path=path, **options)
    except QBoostTNError as exc:
        _outcome(exc)
        return
    _outcome()
    assert ds.n_samples >= 2 and ds.n_classes >= 2 and np.isfinite(ds.X).all()


@FUZZ
@given(st.binary(max_size=256), st.sampled_from([",", ";"]))
def test_csv_loader_random_bytes(data, sep):
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "bytes.csv"
        path.write_bytes(data)
        try:
            load_dataset("csv", path=path, target="label", sep=sep)
        except QBoostTNError as exc:
            _outcome(exc)
        else:
            _outcome()
            pass


# -- IDX -------------------------------------------------------------------------------------------------------
def _idx_bytes(shape) -> bytes:
    body = np.arange(int(np.prod(shape)), dtype=np.uint8).tobytes()
    return struct.pack(">HBB", 0, 8, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + body


@st.composite
def idx_inputs(draw):
    shape = draw(st.lists(st.integers(0, 6), min_size=1, max_size=3))
    raw = _idx_bytes(shape)
    if draw(st.booleans()):  # a header declaring another, possibly absurd, shape
        dims = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4))
        raw = struct.pack(">HBB", 0, 8, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + raw[4 + 4 * len(shape):]
    if draw(st.booleans()):
        raw = _mutate(raw, draw)
    compressed = draw(st.booleans())
    if compressed:
        raw = gzip.compress(raw)
        if draw(st.booleans()):
            raw = _mutate(raw, draw)
    return raw, compressed


@FUZZ
@given(example=idx_inputs())
def test_idx_reader_fuzz(folder, bounded_memory, example):
    raw, compressed = example
    path = folder / ("fuzz-idx.gz" if compressed else "fuzz-idx")
    path.write_bytes(raw)
    try:
        array = read_idx(path)
    except QBoostTNError as exc:
        _outcome(exc)
        return
    _outcome()
    assert array.dtype == np.uint8 and array.size <= len(raw) * 1100 + 1


# -- configs ---------------------------------------------------------------------------------------------------
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(), st.text(max_size=8),
              st.sampled_from(["auto", "mnist", "csv", "shallow-wide", "qboost", "minmax", "test", "[1", "0.5"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _paths(node, prefix=()):
    """Every key path of a nested dict/list config."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


@pytest.fixture(scope="module")
def shipped_raw():
    from qboost_tn.experiments.config import find_config, read_yaml, shipped_configs

    return [read_yaml(find_config(name)) for name in sorted(shipped_configs())]


@st.composite
def config_mutations(draw, raws):
    raw = copy.deepcopy(draw(st.sampled_from(raws)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(raw))
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        node = raw
        for key in parents:
            node = node[key]
        action = draw(st.sampled_from(["set", "set", "delete", "add"]))
        if action == "delete":
            del node[last]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.text(min_size=1, max_size=6))] = draw(VALUES)
        else:
            node[last] = draw(VALUES)
    return raw


@FUZZ
@given(data=st.data())
def test_config_loader_fuzz(shipped_raw, bounded_memory, data):
    raw = data.draw(config_mutations(shipped_raw))
    try:
        load_config(raw, check_paths=False)
    except QBoostTNError as exc:
        _outcome(exc)
    else:
        _outcome()


@functools.cache
def _shipped_texts() -> list[str]:
    from qboost_tn.experiments.config import shipped_configs

    return [path.read_text() for path in sorted(shipped_configs().values())]


@st.composite
def yaml_texts(draw):
    """A shipped config's YAML text with a few bytes flipped, cut or inserted."""
    return _mutate(draw(st.sampled_from(_shipped_texts())).encode(), draw).decode("utf-8", "replace")


@FUZZ
@given(text=yaml_texts(), overrides=st.lists(st.sampled_from(
    ["split.n_train=5", "split.n_train=abc", "seeds=[1", "models[0].params=3", "models[9].name=x", "a..b=1",
     "data.options.size=-1", "=", "split", "models[0].kind=nope"]), max_size=2))
def test_config_file_fuzz(folder, bounded_memory, text, overrides):
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(str(path), overrides=overrides, check_paths=False)
    except QBoostTNError as exc:
        _outcome(exc)
    else:
        _outcome()


# -- model files -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_file(folder):
    from sklearn.datasets import load_digits

    from qboost_tn import ShallowWideClassifier, save_model

    X, y = load_digits(return_X_y=True)
    model = ShallowWideClassifier(n_layers=1, num_reads=1, num_sweeps=20, random_state=0).fit(X[:60] / 16, y[:60] % 3)
    return save_model(model, folder / "model.npz")


ARRAYS = st.one_of(
    st.builds(lambda shape, kind: np.zeros(shape, dtype=kind), st.lists(st.integers(0, 5), max_size=4).map(tuple),
              st.sampled_from(["f8", "f4", "i8", "i1", "b1", "U3"])),
    st.just(np.array(np.nan)), st.just(np.full((3, 64), np.inf)))


@st.composite
def model_mutations(draw, raw: bytes):
    kind = draw(st.sampled_from(["bytes", "meta", "array"]))
    if kind == "bytes":
        return _mutate(raw, draw)
    with np.load(io.BytesIO(raw)) as data:
        arrays = {key: data[key] for key in data.files}
    meta = json.loads(str(arrays["__meta__"]))
    if kind == "meta":
        section = draw(st.sampled_from(["params", "attributes", None]))
        target = meta if section is None else meta[section]
        key = draw(st.one_of(st.sampled_from(sorted(target)), st.sampled_from(["predict", "fit", "__class__", "x_"])))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(VALUES)
    else:
        key = draw(st.sampled_from(sorted(k for k in arrays if k != "__meta__") + ["predict", "coef"]))
        arrays[key] = draw(ARRAYS)
    arrays["__meta__"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@FUZZ
@given(data=st.data())
def test_load_model_fuzz(model_file, folder, bounded_memory, data):
    path = folder / "fuzz.npz"
    raw = data.draw(model_mutations(model_file.read_bytes()))
    path.write_bytes(raw)
    try:
        model = load_model(path)
    except QBoostTNError as exc:
        _outcome(exc)
        return
    _outcome()
    model.predict(np.zeros((2, model.n_features_in_)))


# -- compressed networks ---------------------------------------------------------------------------------------
def _mlp():
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))


@pytest.fixture(scope="module")
def compressed_files(folder):
    from qboost_tn.mpo import compress, save_compressed

    small, _ = compress(_mlp(), layers=["0"], max_bond=2)
    path = folder / "mpo.pt"
    save_compressed(small, path)
    return path.read_bytes(), Path(f"{path}.mpo.json").read_text()


LAYER_VALUES = st.one_of(VALUES, st.lists(st.integers(-2, 10**7), max_size=5))


@st.composite
def compressed_mutations(draw, files):
    state, config = files
    which = draw(st.sampled_from(["state", "config-bytes", "config-value"]))
    if which == "state":
        state = _mutate(state, draw)
    elif which == "config-bytes":
        config = _mutate(config.encode(), draw).decode("utf-8", "replace")
    else:
        data = json.loads(config)
        layer = data["mpo_layers"]["0"]
        layer[draw(st.sampled_from(sorted(layer) + ["evil"]))] = draw(LAYER_VALUES)
        config = json.dumps(data)
    return state, config


@FUZZ
@given(data=st.data())
def test_load_compressed_fuzz(compressed_files, folder, bounded_memory, data):
    path = folder / "fuzz.pt"
    state, config = data.draw(compressed_mutations(compressed_files))
    path.write_bytes(state)
    Path(f"{path}.mpo.json").write_text(config, encoding="utf-8", errors="surrogatepass")
    try:
        model = load_compressed(_mlp(), path)
    except QBoostTNError as exc:
        _outcome(exc)
        return
    _outcome()
    model(torch.zeros(2, 16))

