"""Tabular data sets: any CSV a user brings, and UCI Bank Marketing as the University of Tokyo hands-on prepared it."""
from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from .dataset import Dataset
from .download import cache_dir, fetch, md5sum
from .transforms import one_hot

if TYPE_CHECKING:  # pandas is imported when a table is read, not when the registry is listed (start-up)
    import pandas as pd

BANK_URL = "https://archive.ics.uci.edu/static/public/222/bank+marketing.zip"
BANK_CSV = "bank-additional-full.csv"
BANK_MD5 = "f6cb2c1256ffe2836b36df321f46e92c"
BANK_CATEGORICAL = ["job", "marital", "education", "default", "housing", "loan", "contact", "month",
                    "day_of_week", "poutcome"]
BANK_NUMERIC = ["age", "campaign", "pdays", "previous", "emp.var.rate", "cons.price.idx", "cons.conf.idx",
                "euribor3m", "nr.employed"]
_OTHER_SEPARATORS = [";", ",", "\t", "|"]


def _read_csv(path: Path, sep, target=None) -> pd.DataFrame:
    """The CSV as a frame, refusing what pandas would silently repair: an empty file, duplicate header names."""
    import pandas as pd

    if not isinstance(sep, str) or not sep:
        raise DataError(f"sep must be a non-empty string such as ',' or ';', got {sep!r}")
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    # A separator longer than one character is a regular expression to pandas, read by its python engine.
    engine = "c" if len(sep) == 1 else "python"
    try:
        # header=None keeps the header row as written: pandas would rename a repeated "label" to "label.1".
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, engine=engine, keep_default_na=False)
        frame = pd.read_csv(path, sep=sep, engine=engine)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header row)") from None
    except (ValueError, re.error, csv.Error) as exc:  # ParserError and UnicodeDecodeError are ValueErrors
        raise DataError(f"{path}: cannot parse as CSV with separator {sep!r}: {exc}") from exc
    names = [str(v) for v in header.iloc[0].tolist()]
    if target is not None and names.count(target) > 1:
        raise DataError(f"{path}: the target column {target!r} appears {names.count(target)} times in the header; "
                        "a copy of the label would become a feature (target leakage) - remove the copies")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{path}: duplicate column name(s) {repeated} in the header; rename them so each "
                        "column has one name")
    if frame.empty:
        raise DataError(f"{path}: has a header but no data rows")
    return frame


def _shown(columns) -> str:
    columns = [str(c) for c in columns]
    return str(columns) if len(columns) <= 30 else f"{columns[:30]} ... ({len(columns)} columns)"


def _check_columns(frame: pd.DataFrame, wanted, path: Path, sep: str, role: str) -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if not missing:
        return
    hint = ""
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        guesses = [s for s in _OTHER_SEPARATORS if s != sep and s in header]
        if guesses:
            hint = f"; the file parsed as a single column - is the separator {guesses[0]!r} (sep={guesses[0]!r})?"
    raise DataError(f"{path}: {role} column(s) {missing} not found; the columns are {_shown(frame.columns)}{hint}")


def column_names(value, option: str, columns=()) -> list[str] | None:
    """Normalise a column-list option: None, one name, a comma-separated string of names, or a list of names.

    A string that is itself a column name is that one column (so a name holding a comma still works);
    otherwise it is split at commas, as the command line's ``-o categorical=colour,size`` means.

    Raises
    ------
    DataError
        For any other type, an empty name, or a name given twice.
    """
    if value is None:
        return None
    if isinstance(value, str):
        names = [value] if value in set(map(str, columns)) else [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        names = list(value)
    else:
        raise DataError(f"{option} must be a column name, a comma-separated string of names or a list of names; "
                        f"got {value!r}")
    if any(not name for name in names):
        raise DataError(f"{option}: empty column name in {value!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{option}: column(s) {repeated} named more than once")
    return names


def frame_to_dataset(frame: pd.DataFrame, *, target: str, name: str, provenance: str, features=None,
                     categorical=(), drop=(), source="data") -> Dataset:
    """Turn a DataFrame into a Dataset: numeric features as they are, ``categorical`` ones one-hot encoded.

    Labels are the target's distinct values in sorted order (so ``"no"/"yes"`` become 0/1). Features are not
    scaled here: scaling is fitted on the training part only, by :func:`qboost_tn.data.prepare`.
    """
    categorical = column_names(categorical, "categorical", frame.columns) or []
    drop = column_names(drop, "drop", frame.columns) or []
    features = column_names(features, "features", frame.columns)
    if not isinstance(target, str):
        raise DataError(f"target must be the label column's name (a string), got {target!r}")
    if frame.empty:
        raise DataError(f"{source}: no data rows")
    if frame[target].isna().any():
        raise DataError(f"{source}: target column {target!r} has {int(frame[target].isna().sum())} missing values")
    if features is None:
        features = [c for c in frame.columns if c != target and c not in set(drop)]
    elif drop:
        raise DataError(f"{source}: give features or drop, not both (features already names every column used)")
    if target in features:
        raise DataError(f"{source}: target column {target!r} is also listed as a feature")
    if not features:
        raise DataError(f"{source}: no feature columns left (features={features}, drop={drop}); "
                        f"the columns are {_shown(frame.columns)}")
    unknown_cat = [c for c in categorical if c not in features]
    if unknown_cat:
        raise DataError(f"{source}: categorical column(s) {unknown_cat} are not among the features {_shown(features)}")
    numeric = [c for c in features if c not in categorical]
    from pandas.api.types import is_numeric_dtype

    non_numeric = [c for c in numeric if not is_numeric_dtype(frame[c])]
    if non_numeric:
        raise DataError(f"{source}: non-numeric column(s) {non_numeric} - declare them categorical=[...] "
                        "or leave them out of features")
    with_nan = [c for c in features if frame[c].isna().any()]
    if with_nan:
        raise DataError(f"{source}: missing values (NaN) in feature column(s) {with_nan}")
    X_num = frame[numeric].to_numpy(dtype=np.float64)
    if not np.isfinite(X_num).all():
        bad = [numeric[j] for j in np.unique(np.nonzero(~np.isfinite(X_num))[1])]
        raise DataError(f"{source}: infinite values in feature column(s) {bad}")
    X_cat, cat_names = one_hot(frame, categorical)
    classes, y = np.unique(frame[target].astype(str).to_numpy(), return_inverse=True)
    if classes.size < 2:
        raise DataError(f"{source}: target column {target!r} has only one class ({classes[0]!r})")
    X = np.hstack([X_num, X_cat]).astype(np.float32)
    return Dataset(name, X, y, list(map(str, numeric)) + cat_names, list(classes), None, provenance)


def load_csv(path, target, features=None, categorical=None, sep=",", drop=None, name="csv") -> Dataset:
    """Any CSV: write the path, pick the target (and optionally features / categorical columns), load.

    Column lists may be given as a list of names, one name, or one comma-separated string (``"colour,size"``).

    Parameters
    ----------
    path : str or Path
    target : str
        Label column; its distinct values (sorted) become the classes.
    features : str or list of str, optional
        Feature columns (default: every column but ``target`` and ``drop``).
    categorical : str or list of str, optional
        Columns to one-hot encode. Any other non-numeric column is an error, not a silent guess.
    sep : str
        Field separator (``";"`` for the UCI Bank Marketing file).
    drop : str or list of str, optional
        Columns to ignore (with the default ``features`` only).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataError
        If the file is empty or malformed, repeats a column name, or the options name unknown columns.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"path must be a file path, got {path!r}")
    path = Path(path).expanduser()
    if not isinstance(target, str):
        raise DataError(f"target must be the label column's name (a string), got {target!r}")
    frame = _read_csv(path, sep, target)
    _check_columns(frame, [target], path, sep, "target")
    for option, value in (("features", features), ("categorical", categorical), ("drop", drop)):
        _check_columns(frame, column_names(value, option, frame.columns) or [], path, sep, f"{option}")
    return frame_to_dataset(frame, target=target, name=name, features=features, categorical=categorical,
                            drop=drop, source=str(path), provenance=f"CSV {path} (md5 {md5sum(path)})")


def _download_bank() -> Path:
    """Fetch UCI's archive (MD5 of the CSV checked) and cache the one CSV we need."""
    target = cache_dir() / "bank-marketing" / BANK_CSV
    if target.is_file() and md5sum(target) == BANK_MD5:
        return target
    archive = fetch(BANK_URL, cache_dir() / "bank-marketing" / "bank+marketing.zip", md5=None)
    payload = _find_in_zip(archive.read_bytes(), BANK_CSV)
    if payload is None:
        raise RuntimeError(f"{archive}: no {BANK_CSV} inside the downloaded archive")
    from .._io import atomic_path

    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(payload)
        if md5sum(tmp) != BANK_MD5:
            raise RuntimeError(f"{BANK_CSV} from {BANK_URL} failed its checksum; nothing was cached")
    return target


def _find_in_zip(data: bytes, member: str) -> bytes | None:
    # UCI ships the CSV inside bank-additional.zip inside bank+marketing.zip.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RuntimeError(f"downloaded Bank Marketing archive is not a zip file: {exc}") from exc
    for info in archive.infolist():
        if info.filename.endswith("/" + member) or info.filename == member:
            return archive.read(info)
    for info in archive.infolist():
        if info.filename.endswith(".zip"):
            found = _find_in_zip(archive.read(info), member)
            if found is not None:
                return found
    return None


def load_bank_marketing(path=None, download=True) -> Dataset:
    """UCI Bank Marketing (``bank-additional-full.csv``), prepared as the University of Tokyo hands-on did.

    ``duration`` is dropped (it is only known after the call and leaks the label), ``y`` yes -> 1, the 10
    categorical columns are one-hot encoded; the 9 numeric columns are left unscaled here and min-max scaled by
    :func:`qboost_tn.data.prepare` on the training part only (the hands-on scaled before splitting). 62 features.

    Parameters
    ----------
    path : str or Path, optional
        The CSV, or a folder holding it. Without it the file is downloaded from UCI into the cache.
    """
    if path is None:
        if not download and not (cache_dir() / "bank-marketing" / BANK_CSV).is_file():
            raise FileNotFoundError("bank-marketing: not cached and download=False; pass path=...")
        csv = _download_bank()
    else:
        csv = Path(path).expanduser()
        if csv.is_dir():
            csv = csv / BANK_CSV
    frame = _read_csv(csv, ";", "y")
    _check_columns(frame, ["y", "duration", *BANK_CATEGORICAL, *BANK_NUMERIC], csv, ";", "Bank Marketing")
    digest = md5sum(csv)
    note = "" if digest == BANK_MD5 else f" - differs from the UCI release (md5 {BANK_MD5})"
    return frame_to_dataset(frame, target="y", name="bank-marketing", features=BANK_NUMERIC + BANK_CATEGORICAL,
                            categorical=BANK_CATEGORICAL, source=str(csv),
                            provenance=f"UCI Bank Marketing {csv} (md5 {digest}{note}); duration dropped")
