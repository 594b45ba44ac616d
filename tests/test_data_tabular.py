"""Tabular loaders: a user's CSV and Bank Marketing (real copy, generated file, download path)."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from qboost_tn.data import load_dataset, tabular
from qboost_tn.data.download import md5sum
from qboost_tn.errors import DataError

from test_data_images import FakeNetwork


def write_csv(path, frame, sep=","):
    frame.to_csv(path, sep=sep, index=False)
    return path


@pytest.fixture
def small_csv(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0, 1, 0, 1], "colour": ["red", "blue", "red", "green"],
                          "label": ["yes", "no", "yes", "no"]})
    return write_csv(tmp_path / "small.csv", frame), frame


def test_csv_numeric_and_categorical(small_csv):
    path, _ = small_csv
    ds = load_dataset("csv", path=path, target="label", categorical=["colour"])
    assert ds.feature_names == ["a", "b", "colour=blue", "colour=green", "colour=red"]
    assert ds.class_names == ["no", "yes"] and ds.y.tolist() == [1, 0, 1, 0]
    np.testing.assert_array_equal(ds.X[0], [1, 0, 0, 0, 1])
    assert ds.image_shape is None and md5sum(path) in ds.provenance


def test_csv_feature_selection_and_separator(tmp_path, small_csv):
    _, frame = small_csv
    path = write_csv(tmp_path / "semi.csv", frame, sep=";")
    ds = load_dataset("csv", path=path, target="label", features=["b", "a"], sep=";")
    assert ds.feature_names == ["b", "a"]


@pytest.mark.parametrize("options, error, message", [
    ({"target": "missing"}, ValueError, r"target column\(s\) \['missing'\] not found"),
    ({"target": "label"}, ValueError, r"non-numeric column\(s\) \['colour'\].*categorical"),
    ({"target": "label", "features": ["a", "nope"]}, ValueError, r"\['nope'\] not found"),
    ({"target": "label", "features": ["a", "label"]}, ValueError, "also listed as a feature"),
])
def test_csv_column_errors(small_csv, options, error, message):
    with pytest.raises(error, match=message):
        load_dataset("csv", path=small_csv[0], **options)


def test_csv_wrong_separator_is_diagnosed(tmp_path, small_csv):
    path = write_csv(tmp_path / "semi.csv", small_csv[1], sep=";")
    with pytest.raises(ValueError, match="separator ';'"):
        load_dataset("csv", path=path, target="label")


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="CSV file not found"):
        load_dataset("csv", path=tmp_path / "absent.csv", target="y")


@pytest.mark.parametrize("value, message", [(np.nan, r"missing values \(NaN\).*\['a'\]"),
                                            (np.inf, r"infinite values.*\['a'\]")])
def test_csv_nan_and_inf(tmp_path, small_csv, value, message):
    frame = small_csv[1].copy()
    frame.loc[2, "a"] = value
    path = write_csv(tmp_path / "bad.csv", frame)
    with pytest.raises(ValueError, match=message):
        load_dataset("csv", path=path, target="label", categorical=["colour"])


def test_csv_one_class_only(tmp_path, small_csv):
    frame = small_csv[1].assign(label="yes")
    with pytest.raises(ValueError, match="only one class"):
        load_dataset("csv", path=write_csv(tmp_path / "one.csv", frame), target="label", categorical=["colour"])


@pytest.mark.parametrize("options, features", [
    ({"categorical": "colour"}, ["a", "b", "colour=blue", "colour=green", "colour=red"]),
    ({"categorical": "colour", "drop": "a"}, ["b", "colour=blue", "colour=green", "colour=red"]),
    ({"categorical": "colour", "drop": "a, b"}, ["colour=blue", "colour=green", "colour=red"]),
    ({"features": "b,a"}, ["b", "a"]),
    ({"features": ("a",)}, ["a"]),
])
def test_column_options_given_as_strings_are_names_not_letters(small_csv, options, features):
    """Issue 12 item 7: "colour" is one column, "a,b" two, never the letters c, o, l, ..."""
    assert load_dataset("csv", path=small_csv[0], target="label", **options).feature_names == features


@pytest.mark.parametrize("options, message", [
    ({"categorical": "color"}, r"categorical column\(s\) \['color'\] not found; the columns are "
                               r"\['a', 'b', 'colour', 'label'\]"),
    ({"categorical": "colour", "drop": "ab"}, r"drop column\(s\) \['ab'\] not found"),
    ({"categorical": 3}, "categorical must be a column name, a comma-separated string of names or a list"),
    ({"features": ["a", 1]}, r"features must be a column name.*got \['a', 1\]"),
    ({"features": "a,,b"}, "features: empty column name in 'a,,b'"),
    ({"features": "a,a"}, r"features: column\(s\) \['a'\] named more than once"),
    ({"features": []}, r"no feature columns left \(features=\[\]"),
    ({"features": "a", "drop": "b"}, "give features or drop, not both"),
    ({"target": 1}, "target must be the label column's name"),
    ({"sep": ""}, "sep must be one character"),
])
def test_column_options_are_validated(small_csv, options, message):
    options = {"target": "label", **options}
    with pytest.raises(DataError, match=message):
        load_dataset("csv", path=small_csv[0], **options)


@pytest.mark.parametrize("text, message", [
    ("x,label,label\n1,0,0\n2,1,1\n", "the target column 'label' appears 2 times in the header; a copy of the "
                                      "label would become a feature"),
    ("x,x,label\n1,2,0\n2,3,1\n", r"duplicate column name\(s\) \['x'\] in the header"),
    ("", "the file is empty"),
    ("x,label\n", "has a header but no data rows"),
])
def test_silent_csv_problems_are_errors_naming_the_file(tmp_path, text, message):
    """Issue 12 item 10: no target leakage, no silent renames, and the file's name in every message."""
    path = tmp_path / "user.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        load_dataset("csv", path=path, target="label")
    assert str(info.value).startswith(f"{path}: ")


def test_unknown_dataset_and_option():
    with pytest.raises(ValueError, match="unknown data set 'cifar'.*mnist"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match=r"does not take option\(s\) \['colour'\]"):
        load_dataset("digits", colour=True)


def bank_frame(n=30, seed=0) -> pd.DataFrame:
    """A generated file with the real Bank Marketing columns (values invented)."""
    rng = np.random.default_rng(seed)
    frame = {c: rng.choice(["a", "b", "unknown"], n) for c in tabular.BANK_CATEGORICAL}
    frame.update({c: rng.normal(size=n).round(3) for c in tabular.BANK_NUMERIC})
    frame["duration"] = rng.integers(0, 500, n)
    frame["y"] = np.where(np.arange(n) % 3 == 0, "yes", "no")
    return pd.DataFrame(frame)


def test_bank_marketing_from_generated_file(tmp_path):
    path = write_csv(tmp_path / tabular.BANK_CSV, bank_frame(), sep=";")
    ds = load_dataset("bank-marketing", path=tmp_path)
    assert ds.X.shape == (30, 9 + 10 * 3)
    assert "duration" not in ds.feature_names
    assert ds.class_names == ["no", "yes"] and ds.y.sum() == 10
    assert "differs from the UCI release" in ds.provenance


def test_bank_marketing_real_file_gives_62_features(shared_data):
    ds = load_dataset("bank-marketing", path=shared_data / "bank-marketing" / tabular.BANK_CSV)
    assert ds.X.shape == (41188, 62)
    assert ds.y.sum() == 4640
    assert ds.feature_names[:9] == tabular.BANK_NUMERIC
    assert "duration" not in ds.feature_names and "differs" not in ds.provenance


def nested_zip(payload: bytes) -> bytes:
    """The shape of UCI's archive: bank-additional.zip inside bank+marketing.zip."""
    def archive(members):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        return buffer.getvalue()

    return archive({"bank.zip": archive({"bank/bank-full.csv": b"older variant"}),
                    "bank-additional.zip": archive({"bank-additional/" + tabular.BANK_CSV: payload})})


def test_bank_marketing_download_unpacks_and_verifies(cache, tmp_path, monkeypatch):
    csv = write_csv(tmp_path / "b.csv", bank_frame(), sep=";")
    monkeypatch.setattr(tabular, "BANK_MD5", md5sum(csv))
    network = FakeNetwork({"bank+marketing.zip": nested_zip(csv.read_bytes())})
    monkeypatch.setattr("qboost_tn.data.download._open_url", network)
    ds = load_dataset("bank-marketing")
    assert ds.n_samples == 30 and (cache / "bank-marketing" / tabular.BANK_CSV).is_file()
    load_dataset("bank-marketing")
    assert len(network.calls) == 1


def test_bank_marketing_download_with_wrong_checksum_caches_no_csv(cache, tmp_path, monkeypatch):
    csv = write_csv(tmp_path / "b.csv", bank_frame(), sep=";")
    monkeypatch.setattr("qboost_tn.data.download._open_url",
                        FakeNetwork({"bank+marketing.zip": nested_zip(csv.read_bytes())}))
    with pytest.raises(DataError, match="checksum"):
        load_dataset("bank-marketing")
    assert not (cache / "bank-marketing" / tabular.BANK_CSV).exists()
    assert not list((cache / "bank-marketing").glob("*.part"))


def test_bank_marketing_offline(cache, monkeypatch):
    monkeypatch.setattr("qboost_tn.data.download._open_url", FakeNetwork(offline=True))
    with pytest.raises(DataError, match="offline"):
        load_dataset("bank-marketing")
    with pytest.raises(FileNotFoundError, match="path="):
        load_dataset("bank-marketing", download=False)
