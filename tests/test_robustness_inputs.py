"""Issue 19, data / config / process half: configs, CSV and IDX data, the cache folder and the run folder.

Each test is one class of input a careless user or an attacker produces, met where the user meets it: a
config file or ``--set`` (``load_config`` and the command line), ``load_dataset``, a run folder. The property
is always the same: the input works, or it is refused with one line of the project's error type that names
the problem - never a traceback, a hang, a process that swells, or a run folder that contradicts itself.
Fuzz targets (hypothesis) for YAML structure and uneven CSVs are at the end.
"""
from __future__ import annotations

import re
import resource
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from qboost_tn.errors import DataError, QBoostTNError, ResourceError

ROOT = Path(__file__).resolve().parents[1]
BASE = """name: fuzz
data: {name: digits}
split: {n_train: 50, n_val: 0}
models:
  - kind: logistic-regression
    params: {C: 1.0}
"""
# Examples per fuzz target: a few seconds each on a loaded 2-core machine (YAML 80, CSV 180).
EXAMPLES = 60
FUZZ = settings(max_examples=EXAMPLES, deadline=5000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_line(message: str, limit: int = 1500) -> None:
    assert len(message) < limit, f"{len(message)} characters"
    assert "Traceback" not in message and "RecursionError" not in message


def cli(argv, capsys):
    from qboost_tn.cli import main

    status = main([str(a) for a in argv])
    return status, capsys.readouterr()


def _config_file(tmp_path, text, name="config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _alias_bomb(levels=9, fan=10) -> str:
    """A few hundred bytes standing for fan**levels items."""
    lines = ["x0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(lines)


# -- item 3: YAML aliases that multiply; item 15: nesting thousands of levels deep ----------------------------
def _load(source, overrides=()):
    from qboost_tn.experiments import load_config

    return load_config(source, overrides, check_paths=False)


@pytest.mark.parametrize("where", ["params", "options", "description", "top"])
def test_alias_bomb_in_a_config_file_is_refused(tmp_path, where):
    bomb = _alias_bomb()
    text = {"params": BASE.replace("{C: 1.0}", "{C: *a8}"),
            "options": BASE.replace("{name: digits}", "{name: digits, options: {size: *a8}}"),
            "description": BASE + "description: *a8\n",
            "top": BASE + "extra: *a8\n"}[where]
    path = _config_file(tmp_path, "anchors:\n" + "\n".join("  " + line for line in bomb.splitlines()) + "\n" + text)
    _load("digits")  # imports done: what follows measures the refusal alone
    before = _peak_mib()
    with pytest.raises(QBoostTNError, match=r"expands \(through its aliases\) to more than") as info:
        _load(path)
    assert _peak_mib() - before < 100  # the 10**9 items are never built
    _one_line(str(info.value))


def test_alias_bomb_through_set_and_options(capsys, tmp_path):
    flow = "{" + _alias_bomb().replace("\n", ", ") + "}"
    status, out = cli(["run", "digits", "--set", f"description={flow}", "--dry-run"], capsys)
    assert status == 2 and "expands (through its aliases)" in out.err
    _one_line(out.err)
    status, out = cli(["info", "digits", "-o", f"size={flow}"], capsys)
    assert status == 2 and "expands (through its aliases)" in out.err
    _one_line(out.err)


def test_alias_to_its_own_container_is_refused(tmp_path):
    for text in ("description: &a [*a]\n", "description: &a {b: *a}\n", "description: &a [1, [2, *a]]\n"):
        with pytest.raises(QBoostTNError, match="refers to the collection that contains it"):
            _load(_config_file(tmp_path, BASE + text))


def test_aliases_that_do_not_multiply_still_work():
    cfg = _load("digits")  # the shipped digits config merges `<<: *net` twice
    assert cfg["models"][4]["params"]["hidden"] == [64, 64]


@pytest.mark.parametrize("style", ["flow", "block", "mapping", "mixed"])
def test_deep_nesting_in_a_file_is_one_line(tmp_path, style):
    depth = 3000
    value = {"flow": "[" * depth + "]" * depth,
             "block": "\n  " + "- " * depth + "1",  # compact block sequences, one inside the other
             "mapping": "{a: " * depth + "1" + "}" * depth,
             "mixed": "[{a: " * (depth // 2) + "1" + "}]" * (depth // 2)}[style]
    path = _config_file(tmp_path, BASE + f"description: {value}\n")
    assert path.stat().st_size < 40_000
    with pytest.raises(QBoostTNError, match=r"nested more than 64 levels deep") as info:
        _load(path)
    _one_line(str(info.value))


def test_deep_nesting_through_set_and_key_paths(capsys):
    for item in ("description=" + "[" * 5000 + "]" * 5000, "description=" + "{a: " * 3000 + "1" + "}" * 3000,
                 ".".join(["a"] * 5000) + "=1", "models" + "[0]" * 3000 + "=1"):
        status, out = cli(["run", "digits", "--set", item, "--dry-run"], capsys)
        assert status == 2, out.err
        assert "levels" in out.err
        _one_line(out.err)


def test_a_huge_user_value_is_cut_in_every_message(tmp_path, capsys):
    big = "x" * 200_000
    for override in (f"models[0].params.solver={big}", f"data.name={big}", f"name={big}", f"{big}=1",
                     f"models[0].name={big}", f"split.evaluate_on={big}"):
        status, out = cli(["run", "digits", "--set", override, "--dry-run"], capsys)
        assert status == 2
        _one_line(out.err, 3000)
    status, out = cli(["info", "csv", "-o", f"path={tmp_path / 'x.csv'}", "-o", f"target={big}"], capsys)
    assert status == 2
    _one_line(out.err, 3000)


@pytest.mark.parametrize("override, message", [
    ("seeds=[" + "1" * 5000 + "]", "a value cannot be read: Exceeds the limit"),
    ("seeds=[" + "1" * 4000 + "]", "seeds[0]: must be <= 4294967295, got 1111"),
    ("models[0].params.lam=" + "1" * 400, "models[0].params.lam: 1111"),
    ("split.train_size=" + "9" * 400, "is beyond float64's range"),
    ("description=2001-13-45", "a value cannot be read: month must be in 1..12"),
    ("description=!!python/object:os.system ls", "could not determine a constructor"),
])
def test_scalars_python_cannot_hold_are_one_line(capsys, override, message):
    status, out = cli(["run", "digits", "--set", override, "--dry-run"], capsys)
    assert status == 2 and message in out.err, out.err
    _one_line(out.err)


def test_shown_bounds_any_value():
    from qboost_tn._text import LIMIT, shown

    class Loud:
        def __repr__(self):
            raise RuntimeError("broken repr")

    for value in ("y" * 10**7, list(range(10**6)), {i: [i] * 1000 for i in range(1000)}, 10**5000,
                  np.zeros((3000, 3000)), Loud(), b"\x00" * 10**7, [[[[[["deep"]]]]]]):
        text = shown(value)
        assert len(text) <= LIMIT + 40, len(text)
    assert shown("label") == "'label'"


def test_no_unbounded_repr_in_messages():
    """Every message formats a user value through qboost_tn._text.shown, never ``!r``."""
    allowed = set()
    found = []
    for path in sorted((ROOT / "qboost_tn").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "!r}" in line and rel not in allowed and "__name__}(" not in line and "default_text" not in line \
                    and "k={self.k!r}" not in line and "class_weight[{label!r}]" not in line:
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


# -- item 13: repeated seeds; item 19: names the file system will not take ------------------------------------
@pytest.mark.parametrize("seeds, message", [
    ("[0, 0, 0]", "seed(s) [0] repeated"),
    ("[3, 1, 3, 1]", "seed(s) [1, 3] repeated"),
    ("[4294967296]", "seeds[0]: must be <= 4294967295"),
])
def test_repeated_or_oversized_seeds_are_refused(capsys, seeds, message):
    status, out = cli(["run", "digits", "--set", f"seeds={seeds}", "--dry-run"], capsys)
    assert status == 2 and message in out.err, out.err


@pytest.mark.parametrize("override, message", [
    ("name=" + "n" * 250, "has 250 characters; at most 64"),
    ("models[0].name=" + "m" * 250, "models[0].name: 'mmm"),
    ("models[0].name=" + "m" * 65, "has 65 characters; at most 64"),
    ("models[0].name=a/b", "must be letters, digits"),
    ("name=..", "must be letters, digits"),
])
def test_names_the_file_system_would_refuse_fail_before_any_work(capsys, tmp_path, override, message):
    out_dir = tmp_path / "out"
    status, out = cli(["run", "digits", "--model", "logreg", "--set", override, "--out", out_dir], capsys)
    assert status == 2 and message in out.err, out.err
    assert not out_dir.exists()


def test_names_checked_against_the_output_file_system(monkeypatch, tmp_path):
    import os

    from qboost_tn.experiments import load_config

    monkeypatch.setattr(os, "pathconf", lambda path, name: 100)  # e.g. a file system with short names
    with pytest.raises(QBoostTNError, match=r"models\[0\].name: gives file names of up to 1\d\d characters; the "
                                            r"file system of .* takes 100"):
        load_config("digits", [f"output={tmp_path}", "models[0].name=" + "n" * 40])
    cfg = load_config("digits", [f"output={tmp_path}"])  # the usual names still fit
    assert cfg["name"] == "digits"


# -- fuzz: YAML structure with anchors, aliases and depth ------------------------------------------------------
@st.composite
def yaml_documents(draw):
    """A config with one value (description, a model parameter, seeds, or a --set) holding random anchors,
    aliases that may multiply, nesting up to 1,000 levels and scalars Python cannot hold."""
    mode = draw(st.sampled_from(["plain", "random", "chain"]))
    if mode == "plain":  # what a user writes: these load
        value = draw(st.sampled_from(["1.0", "[0.1, 1.0]", "&c [0.5]", "2"]))
        return BASE.replace("{C: 1.0}", "{C: " + value + "}"), []
    anchors, defs = [], []
    fan = draw(st.integers(2, 12))
    for i in range(draw(st.integers(4, 8) if mode == "chain" else st.integers(0, 8))):
        if mode == "chain" and anchors:  # each level repeats the one before: fan ** levels items
            items = [f"*{anchors[-1]}"] * fan
        else:
            items = [("*" + draw(st.sampled_from(anchors))) if anchors and draw(st.integers(0, 3)) else
                     draw(st.sampled_from(["0", "1", "2.5"])) for _ in range(draw(st.integers(1, 12)))]
        body = "[" + ", ".join(items) + "]" if draw(st.booleans()) else \
            "{" + ", ".join(f"k{j}: {v}" for j, v in enumerate(items)) + "}"
        defs.append(f"&a{i} {body}")
        anchors.append(f"a{i}")
    depth = 0 if mode == "chain" else draw(st.sampled_from([0, 1, 10, 63, 64, 65, 200, 1000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")]))
    scalars = ["1", "9" * 400, "1" * 5000, "2001-13-45", "x" * 3000, ".inf", "!!binary AAAA", "~", "''"]
    leaf = "*" + draw(st.sampled_from(anchors)) if anchors and draw(st.booleans()) else \
        draw(st.sampled_from(scalars))
    inner = opener * depth + leaf + closer * depth
    value = "[" + ", ".join(defs + [inner]) + "]" if defs else inner
    place = draw(st.sampled_from(["description", "params", "set", "seeds"]))
    if place == "set":
        return BASE, [f"description={value}"]
    if place == "seeds":
        return BASE + f"seeds: [{value}]\n", []
    if place == "params":
        return BASE.replace("{C: 1.0}", "{C: " + value + "}"), []
    return BASE + f"description: {value}\n", []


@pytest.fixture(scope="module")
def config_loader():
    """``load_config`` with its imports done, so that the hypothesis deadline times the examples alone."""
    _load("digits")
    return _load


@settings(FUZZ, max_examples=80)
@given(doc=yaml_documents())
def test_fuzz_yaml_structure(tmp_path_factory, config_loader, doc):
    from qboost_tn._yaml import MAX_NODES, load_yaml

    text, overrides = doc
    path = tmp_path_factory.mktemp("yaml") / "c.yaml"
    path.write_text(text)
    try:
        config_loader(path, overrides)
        event("loaded")
    except QBoostTNError as exc:
        last = str(exc).splitlines()[-1]
        event("refused: " + " ".join(re.sub(r"[0-9,]+", "N", last.split(": ", 1)[-1]).split()[:5]))
        _one_line(str(exc), 20_000)

    try:
        tree = load_yaml(text)
    except QBoostTNError:
        return
    assert _expanded(tree) <= MAX_NODES


def _expanded(node) -> int:
    stack, count = [node], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > 10**7:
            break
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


# -- items 4, 10, 14, 20: CSV files ----------------------------------------------------------------------------
def load_csv(tmp_path, text, **options):
    from qboost_tn.data import load_dataset

    path = tmp_path / "data.csv"
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return load_dataset("csv", path=str(path), **{"target": "label", **options})


@pytest.mark.parametrize("text, message", [
    ("a,b,label\n1,2,3,x\n4,5,6,y\n", "rows have 4 fields, the header names 3"),
    ("a,b,label\n1,2,x,\n4,5,y,\n", "a separator at the end of every data line"),
    ("a,b,label\n1,2,3,4,x\n4,5,6,7,y\n", "rows have 5 fields, the header names 3"),
    ("a,b,label\n1,x\n4,y\n", "rows have 2 fields, the header names 3"),
    ("a,b,label\n1,2,x\n4,5,6,y\n7,8,z\n", "line 3 has 4 fields, the header names 3 (1 of 3 rows differ"),
    ("a,b,label\n1,2,x\n4,y\n7,8,z\n", "line 3 has 2 fields, the header names 3"),
    ('a,b,label\n1,"2,x\n4,5,y\n', "2 fields, the header names 3"),  # an unclosed quote swallows a line
    ("a;b;label\n1;2;x;\n3;4;y;\n", "rows have 4 fields"),
])
def test_csv_rows_and_header_must_agree(tmp_path, text, message):
    sep = ";" if ";" in text else ","
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        load_csv(tmp_path, text, sep=sep)


def test_csv_with_quoted_separators_and_blank_lines_still_loads(tmp_path):
    ds = load_csv(tmp_path, 'a,name,label\n1,"x, y",p\n\n2,"z",q\n3,"w,",p\n', categorical="name")
    assert ds.n_samples == 3 and ds.class_names == ["p", "q"]


@pytest.mark.parametrize("labels, classes, y", [
    (["1", "10", "2", "10"], ["1", "2", "10"], [0, 2, 1, 2]),
    (["3", "-1", "20", "100"], ["-1", "3", "20", "100"], [1, 0, 2, 3]),
    ([" x", "x", "y ", " y "], ["x", "y"], [0, 0, 1, 1]),
    ([" 2", "10", "2 ", "1"], ["1", "2", "10"], [1, 2, 1, 0]),
    (["b", "a", "10", "9"], ["10", "9", "a", "b"], [3, 2, 0, 1]),  # not all numbers: text order
    (["0.5", "0.25", "1e-1", "2"], ["0.1", "0.25", "0.5", "2.0"], [2, 1, 0, 3]),
])
def test_csv_labels_numeric_order_and_whitespace(tmp_path, labels, classes, y):
    text = "a,label\n" + "".join(f"{i},{lab}\n" for i, lab in enumerate(labels))
    ds = load_csv(tmp_path, text)
    assert ds.class_names == classes
    assert ds.y.tolist() == y


def test_csv_categorical_values_are_stripped_and_empty_labels_refused(tmp_path):
    ds = load_csv(tmp_path, "c,label\nred,x\n red,y\nblue ,x\n", categorical="c")
    assert ds.feature_names == ["c=blue", "c=red"]
    with pytest.raises(DataError, match="1 empty label"):
        load_csv(tmp_path, "a,label\n1,x\n2, \n3,y\n")


@pytest.mark.parametrize("sep", ["||", ";;", "\\s+", ".*", "", '"', "\n", 3, None])
def test_csv_separator_is_one_literal_character(tmp_path, sep):
    with pytest.raises(DataError, match="sep must be one character"):
        load_csv(tmp_path, "a||label\n1||x\n2||y\n", sep=sep)


def test_csv_regex_metacharacter_separator_is_literal(tmp_path):
    ds = load_csv(tmp_path, "a|b|label\n1|2|x\n3|4|y\n", sep="|")
    assert ds.feature_names == ["a", "b"]
    ds = load_csv(tmp_path, "a.b.label\n1.2.x\n3.4.y\n", sep=".")  # '.' would match any character as a regex
    assert ds.feature_names == ["a", "b"]


def test_csv_values_beyond_float32_are_named(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a cast to float32 may leak
        with pytest.raises(DataError, match=r"feature 'big' \(column 1\): values beyond float32's range"):
            load_csv(tmp_path, "a,big,label\n1,1e39,x\n2,3,y\n")
        ds = load_csv(tmp_path, "a,tiny,label\n1,0,x\n2,1e-309,y\n")
    assert np.isfinite(ds.X).all()


def test_csv_with_many_columns_names_them_briefly(tmp_path):
    n = 3000
    header = ",".join(f"c{j}" for j in range(n)) + ",c5,label\n"
    with pytest.raises(DataError, match=r"duplicate column name\(s\) \['c5'\]") as info:
        load_csv(tmp_path, header + ",".join(["1"] * (n + 2)) + "\n")
    _one_line(str(info.value))
    with pytest.raises(DataError, match=r"not found; the columns are .* \(3001 columns\)") as info:
        load_csv(tmp_path, ",".join(f"c{j}" for j in range(n)) + ",label\n" + ",".join(["1"] * (n + 1)) + "\n",
                 drop="nope")
    _one_line(str(info.value))


# -- fuzz: CSVs with uneven field counts -----------------------------------------------------------------------
@st.composite
def uneven_csvs(draw):
    n_cols = draw(st.integers(1, 6))
    header = [f"c{j}" for j in range(n_cols - 1)] + ["label"]
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    rows, uneven, tidy = [], draw(st.booleans()), draw(st.booleans())
    for i in range(draw(st.integers(0, 12))):
        width = draw(st.sampled_from([n_cols] * 4 + [n_cols - 1, n_cols + 1, 0, n_cols + 3])) if uneven else n_cols
        clean = tidy or draw(st.sampled_from([True, True, True, False]))
        numbers = ["1", "2.5", "-3", " 4 ", "1e-309"] if clean else ["1", "", "x", '"a' + sep + 'b"', "1e39", "nan"]
        cells = [draw(st.sampled_from(numbers)) for _ in range(max(width - 1, 0))]
        cells += [draw(st.sampled_from(["p", "q", " p", '"q"', "10", "9"]))] if width else []
        rows.append(sep.join(cells))
    trailing = draw(st.sampled_from([False, False, False, True]))
    lines = [sep.join(header)] + [r + (sep if trailing else "") for r in rows]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"])), sep


@settings(FUZZ, max_examples=3 * EXAMPLES)
@given(doc=uneven_csvs())
def test_fuzz_uneven_csv(tmp_path_factory, doc):
    import csv
    import io
    import warnings

    text, sep = doc
    folder = tmp_path_factory.mktemp("csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            ds = load_csv(folder, text, sep=sep)
        except QBoostTNError as exc:
            event(f"refused: {' '.join(re.sub(r'[0-9]+', 'N', str(exc).split(': ', 1)[-1]).split()[:5])}")
            _one_line(str(exc), 3000)
            return
    event("loaded")
    # Loaded: every data row had exactly the header's fields, and no column moved.
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if r]
    assert all(len(r) == len(rows[0]) for r in rows)
    assert ds.n_samples == len(rows) - 1
    assert set(ds.feature_names) <= set(rows[0][:-1]) | {f for f in ds.feature_names if "=" in f}


def test_csv_numbers_with_surrounding_spaces_are_numbers(tmp_path):
    ds = load_csv(tmp_path, "a,b,label\n 1 ,2,x\n3 , 4,y\n")
    assert ds.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(DataError, match=r"non-numeric column\(s\) \['a'\]"):
        load_csv(tmp_path, "a,b,label\n 1 ,2,x\nthree, 4,y\n")


# -- items 9 and 17: IDX image files ---------------------------------------------------------------------------
def _mnist_folder(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    from qboost_tn.data.idx import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", images)
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.mark.parametrize("shape, message", [
    ((0, 28, 28), "holds 0 images"),
    ((3, 0, 28), "its images are 0x28 pixels"),
    ((3, 28, 0), "its images are 28x0 pixels"),
    ((3, 0, 0), "its images are 0x0 pixels"),
])
def test_idx_with_no_images_or_no_pixels_is_refused_at_load(tmp_path, shape, message, capsys):
    from qboost_tn.data import load_dataset

    folder = _mnist_folder(tmp_path / "m", np.zeros(shape, np.uint8), np.zeros(shape[0], np.uint8))
    with pytest.raises(DataError, match=message):
        load_dataset("mnist", path=str(folder))
    status, out = cli(["info", "mnist", "-o", f"path={folder}", "-o", "size=4"], capsys)
    assert status == 2 and message in out.err


def test_idx_beyond_available_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    from qboost_tn import _memory
    from qboost_tn.data import load_dataset

    folder = _mnist_folder(tmp_path / "m", np.zeros((50, 28, 28), np.uint8), np.arange(50, dtype=np.uint8) % 10)
    monkeypatch.setattr(_memory, "available_bytes", lambda: 200_000)
    with pytest.raises(ResourceError, match=r"50 images of 56x56 as float32 features would need 612.5 KiB of memory, "
                                            r"more than the limit of 97.7 KiB"):
        load_dataset("mnist", path=str(folder), size=56)


def test_idx_resize_memory_stays_near_the_result(tmp_path):
    """10,000 images resized to 56x56: the peak grows by less than twice the float32 result (125 MB)."""
    import subprocess

    rng = np.random.default_rng(0)
    folder = _mnist_folder(tmp_path / "m", rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8),
                           rng.integers(0, 10, 10_000).astype(np.uint8))
    script = f"""
import resource
from qboost_tn.data import load_dataset
load_dataset("digits")  # imports and their memory first
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = load_dataset("mnist", path={str(folder)!r}, size=56)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(ds.X.nbytes, (after - before) * 1024)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    result, growth = map(int, done.stdout.split())
    assert result == 10_000 * 56 * 56 * 4
    assert growth < 2 * result, f"peak grew by {growth / 2**20:.0f} MiB for a {result / 2**20:.0f} MiB result"


# -- item 16: the download cache and failed downloads ----------------------------------------------------------
def _offline(url):
    import urllib.error

    raise urllib.error.URLError("Temporary failure in name resolution")


def _cache_cases(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = {
        "a file": (a_file, f"a file stands where a folder must be (path={a_file})"),
        "below a file": (a_file / "cache", f"a file stands where a folder must be (path={a_file})"),
    }
    if sys.platform == "linux" and Path("/sys").is_dir():
        cases["read-only"] = (Path("/sys/qboost-tn-cache"), "download cache: cannot create the folder")
    return cases


@pytest.mark.parametrize("case", ["a file", "below a file", "read-only"])
@pytest.mark.parametrize("dataset", ["fashion-mnist", "bank-marketing"])
def test_unusable_cache_is_one_line_with_its_path(tmp_path, monkeypatch, capsys, case, dataset):
    cases = _cache_cases(tmp_path)
    if case not in cases:
        pytest.skip("no read-only file system to point at")
    folder, message = cases[case]
    monkeypatch.setenv("QBOOST_TN_CACHE", str(folder))
    monkeypatch.setattr("qboost_tn.data.download._open_url", _offline)
    status, out = cli(["info", dataset], capsys)
    assert status == 2, out.err
    assert message in out.err and "path=" in out.err, out.err
    assert len(out.err.strip().splitlines()) == 1 and "Traceback" not in out.err


def test_read_only_cache_folder_is_refused(tmp_path, monkeypatch):
    import os

    from qboost_tn.data import load_dataset

    monkeypatch.setenv("QBOOST_TN_CACHE", str(tmp_path))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p).name == "fashion-mnist" else real_access(p, mode))
    with pytest.raises(DataError, match=r"the folder is not writable \(path=.*fashion-mnist\)"):
        load_dataset("fashion-mnist")


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_cache_variable_means_the_default_not_the_current_folder(monkeypatch, value):
    from qboost_tn.data.download import cache_dir

    monkeypatch.setenv("QBOOST_TN_CACHE", value)
    assert cache_dir() == Path.home() / ".cache" / "qboost-tn"


@pytest.mark.parametrize("failure", ["offline", "http 404", "timeout", "reset", "bad url", "incomplete"])
def test_failed_download_is_one_line_with_its_path(tmp_path, monkeypatch, capsys, failure):
    import http.client
    import urllib.error

    def network(url):
        raise {"offline": urllib.error.URLError("Temporary failure in name resolution"),
               "http 404": urllib.error.HTTPError(url, 404, "Not Found", {}, None),
               "timeout": TimeoutError("timed out"),
               "reset": ConnectionResetError(104, "Connection reset by peer"),
               "bad url": ValueError("unknown url type"),
               "incomplete": http.client.IncompleteRead(b"abc", 100)}[failure]

    monkeypatch.setenv("QBOOST_TN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("qboost_tn.data.download._open_url", network)
    status, out = cli(["info", "fashion-mnist"], capsys)
    assert status == 2 and "cannot download" in out.err and "path=" in out.err, out.err
    assert len(out.err.strip().splitlines()) == 1
    assert not any((tmp_path / "cache" / "fashion-mnist").iterdir())  # nothing half-written


# -- item 18: numbers float arithmetic would turn into inf or NaN ----------------------------------------------
def _toy(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((60, 4))
    return X, (X[:, 0] > 0.5).astype(int)


FAST = dict(num_reads=1, num_sweeps=10, random_state=0)


def _estimators():
    from qboost_tn.mps import MPSClassifier
    from qboost_tn.qubo import ShallowWideClassifier

    return {"shallow-wide": lambda: ShallowWideClassifier(n_layers=1, scaling="minmax", **FAST),
            "mps": lambda: MPSClassifier(max_bond=4, n_epochs=1, random_state=0)}


@pytest.mark.parametrize("kind", ["shallow-wide", "mps"])
@pytest.mark.parametrize("values", [(0.0, 1e-309), (-1e-310, 1e-310), (5e-324, 0.0), (1.0, 1.0 + 1e-309)])
def test_column_with_a_subnormal_range_is_named(kind, values):
    import warnings

    X, y = _toy()
    X[:, 2] = np.where(np.arange(60) % 2, values[0], values[1])
    span = abs(values[1] - values[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if span == 0 or span >= 1 / np.finfo(np.float64).max:  # 1 + 1e-309 == 1: a constant column, fine
            _estimators()[kind]().fit(X, y)
            return
        with pytest.raises(DataError, match=r"feature column 2 spans only .*cannot be scaled") as info:
            _estimators()[kind]().fit(X, y)
    assert "Q contains NaN" not in str(info.value) and "LinAlgError" not in str(info.value)


@pytest.mark.parametrize("values", [(0.0, 1e-309), (-1e-310, 1e-310), (5e-324, 0.0), (1.0, 1.0 + 1e-309),
                                    (0.0, 1e-160)])
def test_standardising_a_column_of_subnormal_spread_treats_it_as_constant_or_names_it(values):
    """Its deviation underflows to 0 (a constant column, dropped) or is too small to invert (refused, named):
    never a warning, inf or NaN."""
    import warnings

    from qboost_tn.qubo import ShallowWideClassifier

    X, y = _toy()
    X[:, 2] = np.where(np.arange(60) % 2, values[0], values[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            model = ShallowWideClassifier(n_layers=1, scaling="standard", **FAST).fit(X, y)
        except DataError as exc:
            assert "feature column 2" in str(exc) and "standard deviation" in str(exc)
            return
    assert np.isfinite(model.coef_).all() and np.isfinite(model.decision_function(X)).all()


@pytest.mark.parametrize("features", ["nystroem", "rff"])
@pytest.mark.parametrize("bandwidth, word", [(1e300, "large"), (1e-300, "small"), (1e200, "large")])
def test_rbf_bandwidth_out_of_float_range_names_the_parameter(features, bandwidth, word):
    import warnings

    from qboost_tn.qubo import ShallowWideClassifier

    X, y = _toy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(QBoostTNError, match=rf"features={features}: bandwidth=.* too {word} for float64"):
            ShallowWideClassifier(n_layers=1, features=features, bandwidth=bandwidth, n_components=8,
                                  **FAST).fit(X, y)


def test_rbf_bandwidth_through_a_config_run(capsys, tmp_path):
    status, out = cli(["run", "digits", "--model", "shallow-wide", "--set", "split.n_train=60",
                       "--set", "split.n_val=0", "--set", "models[0].params.features=nystroem",
                       "--set", "models[0].params.bandwidth=1.0e+300", "--set", "seeds=[0]", "--out", tmp_path / "r",
                       "--no-progress"], capsys)
    assert status == 1  # the model failed, and says why
    assert "bandwidth=1e+300 gives an RBF width" in out.err and "OverflowError" not in out.err


@pytest.mark.parametrize("value", [1e39, -3.5e38, np.finfo(np.float64).max])
def test_values_beyond_float32_are_named_not_warned(value):
    import warnings

    from qboost_tn.data import Dataset

    X, y = _toy()
    X[3, 1] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=r"toy: feature 'b' \(column 1\): values beyond float32's range"):
            Dataset("toy", X, y, list("abcd"), ["0", "1"])
        from qboost_tn.nets.train import _tensor

        with pytest.raises(DataError, match=r"feature column 1: values beyond float32's range"):
            _tensor(X)


# -- item 22: --executor dask on the command line --------------------------------------------------------------
def test_dask_workers_are_configurable_and_checked(capsys):
    cfg = _load("digits", ["dask.n_workers=3"])
    assert cfg["dask"] == {"n_workers": 3}
    assert _load("digits")["dask"] == {"n_workers": 2}
    status, out = cli(["run", "digits", "--set", "dask.n_workers=0", "--dry-run"], capsys)
    assert status == 2 and "dask.n_workers: must be >= 1" in out.err


def test_dask_executor_without_dask_installed_is_refused_before_any_work(monkeypatch, capsys, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    status, out = cli(["train", "--dataset", "digits", "--model", "shallow-wide", "--executor", "dask",
                       "--out", tmp_path / "r"], capsys)
    assert status == 2 and "executor: 'dask' needs dask.distributed" in out.err, out.err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_dask_executor_on_the_command_line_starts_a_local_cluster(capsys, tmp_path):
    pytest.importorskip("distributed")
    status, out = cli(["train", "--dataset", "digits", "--model", "shallow-wide", "--executor", "dask",
                       "--n-layers", "1", "--num-reads", "1", "--num-sweeps", "20", "--n-train", "100",
                       "--n-val", "100", "--out", tmp_path / "r", "--no-progress"], capsys)
    assert status == 0, out.err
    import json

    records = json.loads((tmp_path / "r" / "metrics.json").read_text())["models"]
    assert [r["status"] for r in records] == ["ok"]
    from distributed import get_client

    with pytest.raises(ValueError):
        get_client()  # the run closed the cluster it started


# -- items 12 and 23: a run folder always agrees with itself; a killed run says so -----------------------------
TINY_RUN = ["run", "digits", "--model", "logreg", "--set", "split.n_train=100", "--set", "split.n_val=100",
            "--set", "seeds=[0]", "--set", "models[2].params.C=1.0", "--no-progress"]


def _consistent(folder: Path) -> str:
    """The folder's status, after checking that metrics.json, metrics.csv, report.html and files agree."""
    import json

    import pandas as pd

    metrics = json.loads((folder / "metrics.json").read_text())
    status = metrics["run"]["status"]
    html = (folder / "report.html").read_text()
    assert f'<span class="status {status}"' in html, f"report disagrees with metrics.json ({status})"
    assert len(pd.read_csv(folder / "metrics.csv")) == len(metrics["models"])
    for record in metrics["models"]:
        for figure in record.get("figures", []):
            assert (folder / figure["path"]).is_file(), figure
    if status != "running":
        assert not (folder / "run.lock").exists()
    if status == "finished" and any(r["status"] == "ok" for r in metrics["models"]):
        assert (folder / "figures" / "auc_vs_params.png").is_file()
    return status


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("step", ["_plot_auc_vs_params", "write_report", "metrics_json"])
def test_a_signal_during_the_final_write_leaves_an_agreeing_folder(monkeypatch, capsys, tmp_path, signum, step):
    import os
    import signal

    from qboost_tn.experiments import runner

    def poke():
        os.kill(os.getpid(), getattr(signal, signum))

    if step == "_plot_auc_vs_params":
        real = runner._Recorder._plot_auc_vs_params
        monkeypatch.setattr(runner._Recorder, step, lambda self: (poke(), real(self))[1])
    elif step == "write_report":
        from qboost_tn.experiments import report

        real_report = report.write_report

        def slow_report(path, metrics=None):
            if metrics is not None and metrics["run"]["status"] != "running":
                poke()
            return real_report(path, metrics)
        monkeypatch.setattr(report, "write_report", slow_report)
    else:
        real_json = runner.write_json

        def json_then_signal(path, obj):
            out = real_json(path, obj)
            if path.name == "metrics.json" and obj["run"]["status"] != "running":
                poke()
            return out
        monkeypatch.setattr(runner, "write_json", json_then_signal)
    status, out = cli([*TINY_RUN, "--out", tmp_path / "r"], capsys)
    assert status in (130, 143), out.err
    assert _consistent(tmp_path / "r") == "finished"


def test_a_signal_while_a_model_is_saved_keeps_file_and_record_together(monkeypatch, capsys, tmp_path):
    import os
    import signal

    from qboost_tn.experiments import runner

    real = runner.save_fitted

    def save_with_signal(model, stem):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(model, stem)
    monkeypatch.setattr(runner, "save_fitted", save_with_signal)
    status, out = cli(["run", "digits", "--model", "shallow-wide", "--set", "split.n_train=100", "--set",
                       "split.n_val=0", "--set", "seeds=[0]", "--set", "models[0].params.n_layers=1", "--set",
                       "models[0].params.num_reads=1", "--set", "models[0].params.num_sweeps=10",
                       "--no-progress", "--out", tmp_path / "r"], capsys)
    assert status == 143, out.err
    folder = tmp_path / "r"
    assert _consistent(folder) == "interrupted"
    import json

    records = json.loads((folder / "metrics.json").read_text())["models"]
    saved = sorted(p.relative_to(folder).as_posix() for p in (folder / "models").iterdir())
    assert saved == sorted(r["model_file"] for r in records if r.get("model_file")) != []


def test_a_signal_during_a_model_write_ends_interrupted_and_agreeing(monkeypatch, capsys, tmp_path):
    import os
    import signal

    from qboost_tn.experiments import report

    real_report = report.write_report

    def report_with_signal(path, metrics=None):
        if metrics is not None and metrics["run"]["status"] == "running":
            os.kill(os.getpid(), signal.SIGTERM)
        return real_report(path, metrics)
    monkeypatch.setattr(report, "write_report", report_with_signal)
    status, out = cli([*TINY_RUN[:4], "--model", "mlp", *TINY_RUN[4:], "--out", tmp_path / "r"], capsys)
    assert status == 143 and "terminated" in out.err
    assert _consistent(tmp_path / "r") == "interrupted"


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running_folder(tmp_path, capsys, lock=None, touch_age=0.0) -> Path:
    """A finished run folder rewritten as a run left at "running" with ``lock`` as its run.lock."""
    import json
    import os

    folder = tmp_path / "r"
    status, out = cli([*TINY_RUN, "--out", folder], capsys)
    assert status == 0, out.err
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["run"]["status"] = "running"
    (folder / "metrics.json").write_text(json.dumps(metrics))
    if lock is not None:
        (folder / "run.lock").write_text(json.dumps(lock))
        os.utime(folder / "run.lock", (time_now() - touch_age,) * 2)
    return folder


def time_now() -> float:
    import time

    return time.time()


@pytest.mark.parametrize("case", ["dead pid", "no lock", "reused pid", "other host, stale", "garbled lock",
                                  "pid 0", "pid -1"])
def test_a_killed_run_is_reported_killed_by_the_next_reader(tmp_path, capsys, case):
    import json
    import os
    import socket

    from qboost_tn.experiments.liveness import _start_time
    from qboost_tn.experiments.report import write_report

    here = socket.gethostname()
    lock = {"dead pid": {"pid": _dead_pid(), "host": here, "process_start": None},
            "no lock": None,
            "reused pid": {"pid": os.getpid(), "host": here, "process_start": (_start_time(os.getpid()) or 0) + 1},
            "other host, stale": {"pid": 1, "host": here + "-elsewhere", "process_start": None},
            "garbled lock": "not json",
            "pid 0": {"pid": 0, "host": here, "process_start": None},
            "pid -1": {"pid": -1, "host": here, "process_start": None}}[case]
    folder = _running_folder(tmp_path, capsys, lock if lock != "not json" else None,
                             touch_age=3600 if case == "other host, stale" else 0)
    if lock == "not json":
        (folder / "run.lock").write_text("{ not json")
    # the next run over the folder
    status, out = cli([*TINY_RUN, "--out", folder], capsys)
    assert status == 2 and "it holds a run that was killed" in out.err, out.err
    # the report, rebuilt
    write_report(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["run"]["status"] == "killed" and metrics["run"]["killed"]
    assert 'class="status killed"' in (folder / "report.html").read_text()


@pytest.mark.parametrize("case", ["this process", "other host, fresh"])
def test_a_live_run_stays_running(tmp_path, capsys, case):
    import os
    import socket

    from qboost_tn.experiments.liveness import _start_time, run_status

    here = socket.gethostname()
    lock = {"this process": {"pid": os.getpid(), "host": here, "process_start": _start_time(os.getpid())},
            "other host, fresh": {"pid": 1, "host": here + "-elsewhere", "process_start": None}}[case]
    folder = _running_folder(tmp_path, capsys, lock)
    assert run_status(folder, {"status": "running"})[0] == "running"
    status, out = cli([*TINY_RUN, "--out", folder], capsys)
    assert status == 2 and "it holds a run running" in out.err


@pytest.mark.slow
def test_sigkill_mid_run_is_reported_killed(tmp_path):
    """The real thing: a run SIGKILLed after its first model; the next run over its folder says killed."""
    import json
    import os
    import signal
    import subprocess

    folder = tmp_path / "r"
    argv = [sys.executable, "-m", "qboost_tn.cli", "run", "digits", "--model", "logreg", "--model", "mlp",
            "--set", "split.n_train=100", "--set", "split.n_val=100", "--set", "seeds=[0]", "--no-progress",
            "--out", str(folder)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):
            if (folder / "metrics.json").is_file():
                break
            if child.poll() is not None:
                pytest.fail("the run ended before it could be killed")
            __import__("time").sleep(0.1)
        assert json.loads((folder / "metrics.json").read_text())["run"]["status"] == "running"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "it holds a run that was killed: process" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


# -- item 21: a reader that closed stdout ----------------------------------------------------------------------
class _ClosedPipe:
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        raise ValueError("no file descriptor")


@pytest.mark.parametrize("argv", [["run", "--list"], ["datasets"], ["run", "digits", "--dry-run"]])
def test_closed_stdout_ends_quietly(monkeypatch, capsys, argv):
    from qboost_tn.cli import main

    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(argv) == 141
    assert capsys.readouterr().err == ""


def test_closed_stdout_pipe_of_a_real_process():
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-m", "qboost_tn.cli", "run", "--list"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # `| head -c 0`: the reader is gone before anything is written
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141
    assert err == "", err
