"""Tabular data sets: any CSV a user brings, and UCI Bank Marketing as the University of Tokyo hands-on prepared it."""
from __future__ import annotations

import collections
import csv
import io
import os
import zipfile
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from .dataset import Dataset
from .download import cache_dir, fetch, md5sum
from .transforms import one_hot
from .._numeric import check_float32
from .._text import cut, shown

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


def _check_sep(sep) -> None:
    # pandas reads a longer separator as a regular expression ("||" matches the empty string at every
    # character): one character, taken literally, is the only reading that cannot surprise.
    if not isinstance(sep, str) or len(sep) != 1 or sep in '"\r\n':
        raise DataError(f"sep must be one character such as ',' or ';' (taken literally; not a quote or a line "
                        f"break), got {shown(sep)}")


def _header_and_widths(path: Path, sep: str) -> list[str]:
    """The header's names, after checking that every data row has as many fields as the header names.

    pandas repairs both mismatches silently: rows one field longer than the header make the first field the
    row index (every column name then sits one column off), and short rows are padded with NaN. One streaming
    pass of the csv module (same quoting rules) counts the fields of every row.
    """
    widths = collections.Counter()
    first_bad = None
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        rows = csv.reader(fh, delimiter=sep)
        header = None
        try:
            for row in rows:
                if not row:
                    continue  # blank lines, which pandas skips too
                if header is None:
                    header = row
                    continue
                widths[len(row)] += 1
                if len(row) != len(header) and first_bad is None:
                    first_bad = (rows.line_num, len(row))
        except csv.Error as exc:
            raise DataError(f"{path}: cannot parse as CSV with separator {shown(sep)}: line {rows.line_num}: "
                            f"{cut(exc)}") from None
    if header is None:
        raise DataError(f"{path}: the file is empty (no header row)")
    if first_bad is not None:
        m = len(header)
        if len(widths) == 1:
            n = first_bad[1]
            hint = ("; a separator at the end of every data line adds an empty field, and pandas would take the "
                    "first field as an index and shift every name" if n == m + 1 else "")
            raise DataError(f"{path}: rows have {n} fields, the header names {m}{hint}")
        uneven = sum(count for n, count in widths.items() if n != m)
        raise DataError(f"{path}: line {first_bad[0]} has {first_bad[1]} fields, the header names {m} "
                        f"({uneven:,} of {sum(widths.values()):,} rows differ; field counts "
                        f"{_counts(widths)}); is a separator or a quote missing or extra?")
    return header


def _counts(widths: collections.Counter) -> str:
    common = widths.most_common(5)
    more = ", ..." if len(widths) > 5 else ""
    return ", ".join(f"{n} ({count:,} rows)" for n, count in common) + more


def _read_csv(path: Path, sep, target=None) -> pd.DataFrame:
    """The CSV as a frame, refusing what pandas would silently repair: an empty file, duplicate header names,
    rows with more or fewer fields than the header names."""
    import pandas as pd

    _check_sep(sep)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    # The header as written: pandas would rename a repeated "label" to "label.1".
    names = _header_and_widths(path, sep)
    counts = collections.Counter(names)
    if target is not None and counts[target] > 1:
        raise DataError(f"{path}: the target column {shown(target)} appears {counts[target]} times in the header; "
                        "a copy of the label would become a feature (target leakage) - remove the copies")
    repeated = sorted(n for n, k in counts.items() if k > 1)
    if repeated:
        raise DataError(f"{path}: duplicate column name(s) {_shown(repeated)} in the header; rename them so each "
                        "column has one name")
    try:
        frame = pd.read_csv(path, sep=sep, index_col=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header row)") from None
    except (ValueError, csv.Error) as exc:  # ParserError and UnicodeDecodeError are ValueErrors
        raise DataError(f"{path}: cannot parse as CSV with separator {shown(sep)}: {cut(exc)}") from exc
    if frame.empty:
        raise DataError(f"{path}: has a header but no data rows")
    # read_csv builds one block per column; every later selection would walk them all (seconds for 20,000
    # columns). A copy consolidates them into one block per dtype.
    return frame.copy()


def _shown(columns) -> str:
    columns = list(columns)
    head = [cut(str(c), 60) for c in columns[:30]]
    return str(head) if len(columns) <= 30 else f"{head} ... ({len(columns)} columns)"


def _check_columns(frame: pd.DataFrame, wanted, path: Path, sep: str, role: str) -> None:
    missing = [cut(c, 60) for c in wanted if c not in frame.columns]
    if not missing:
        return
    hint = ""
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        guesses = [s for s in _OTHER_SEPARATORS if s != sep and s in header]
        if guesses:
            hint = (f"; the file parsed as a single column - is the separator {shown(guesses[0])} "
                    f"(sep={shown(guesses[0])})?")
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
                        f"got {shown(value)}")
    if any(not name for name in names):
        raise DataError(f"{option}: empty column name in {shown(value)}")
    repeated = sorted(n for n, k in collections.Counter(names).items() if k > 1)
    if repeated:
        raise DataError(f"{option}: column(s) {_shown(repeated)} named more than once")
    return names


def frame_to_dataset(frame: pd.DataFrame, *, target: str, name: str, provenance: str, features=None,
                     categorical=(), drop=(), source="data") -> Dataset:
    """Turn a DataFrame into a Dataset: numeric features as they are, ``categorical`` ones one-hot encoded.

    Labels are the target's distinct values in sorted order (so ``"no"/"yes"`` become 0/1). Features are not
    scaled here: scaling is fitted on the training part only, by :func:`qboost_tn.data.prepare`.
    """
    import pandas as pd

    categorical = column_names(categorical, "categorical", frame.columns) or []
    drop = column_names(drop, "drop", frame.columns) or []
    features = column_names(features, "features", frame.columns)
    if not isinstance(target, str):
        raise DataError(f"target must be the label column's name (a string), got {shown(target)}")
    if frame.empty:
        raise DataError(f"{source}: no data rows")
    if frame[target].isna().any():
        raise DataError(f"{source}: target column {shown(target)} has {int(frame[target].isna().sum()):,} missing "
                        "values")
    if features is None:
        dropped = set(drop)
        features = [c for c in frame.columns if c != target and c not in dropped]
    elif drop:
        raise DataError(f"{source}: give features or drop, not both (features already names every column used)")
    if target in features:
        raise DataError(f"{source}: target column {shown(target)} is also listed as a feature")
    if not features:
        raise DataError(f"{source}: no feature columns left (features={features}, drop={drop}); "
                        f"the columns are {_shown(frame.columns)}")
    feature_set, categorical_set = set(features), set(categorical)
    unknown_cat = [c for c in categorical if c not in feature_set]
    if unknown_cat:
        raise DataError(f"{source}: categorical column(s) {_shown(unknown_cat)} are not among the features "
                        f"{_shown(features)}")
    numeric = [c for c in features if c not in categorical_set]
    kinds = frame.dtypes
    non_numeric = [c for c in numeric if not pd.api.types.is_numeric_dtype(kinds[c])]
    if non_numeric:
        frame, non_numeric = _numbers_with_spaces(frame, non_numeric)
    if non_numeric:
        raise DataError(f"{source}: non-numeric column(s) {_shown(non_numeric)} - declare them categorical=[...] "
                        "or leave them out of features")
    missing = frame[features].isna().any(axis=0)
    if missing.any():
        raise DataError(f"{source}: missing values (NaN) in feature column(s) "
                        f"{_shown(missing.index[missing.to_numpy()])}")
    X_num = frame[numeric].to_numpy(dtype=np.float64)
    _check_float32(X_num, numeric, source)
    X_cat, cat_names = one_hot(frame, categorical)
    classes, y = _labels(frame[target], target, source)
    X = np.hstack([X_num, X_cat]).astype(np.float32)
    return Dataset(name, X, y, list(map(str, numeric)) + cat_names, classes, None, provenance)


def _numbers_with_spaces(frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, list]:
    """Text columns whose every value is a number once surrounding whitespace is stripped (``" 4 "``), as
    numbers; returns the frame and the columns that stay text."""
    import pandas as pd

    converted, text = {}, []
    for c in columns:
        values = frame[c]
        if values.dtype == object and values.map(type).eq(str).all():
            numbers = pd.to_numeric(values.str.strip(), errors="coerce")
            if numbers.notna().all():
                converted[c] = numbers
                continue
        text.append(c)
    return (frame.assign(**converted) if converted else frame), text


def _check_float32(X: np.ndarray, names, source) -> None:
    """Refuse values a float32 feature matrix cannot hold (they would become inf, with a RuntimeWarning)."""
    finite = np.isfinite(X)
    if not finite.all():
        bad = [names[j] for j in np.unique(np.nonzero(~finite)[1])]
        raise DataError(f"{source}: infinite values in feature column(s) {_shown(bad)}")
    check_float32(X, names, f"{source}: ")


def _labels(column: pd.Series, target: str, source) -> tuple[list[str], np.ndarray]:
    """Class names and integer labels of a target column.

    Surrounding whitespace is stripped (``" yes"`` is ``"yes"``); classes are ordered numerically when every
    label is a number (``2`` before ``10``), else as strings.
    """
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values, y = np.unique(column.to_numpy(), return_inverse=True)
        classes = [str(v.item()) for v in values]
    else:
        text = column.astype(str).str.strip()
        empty = int((text == "").sum())
        if empty:
            raise DataError(f"{source}: target column {shown(target)} has {empty:,} empty label(s)")
        names, y = np.unique(text.to_numpy(dtype=object).astype(str), return_inverse=True)
        as_numbers = pd.to_numeric(pd.Series(names), errors="coerce").to_numpy(dtype=np.float64)
        if not np.isnan(as_numbers).any():
            order = np.lexsort((np.arange(len(names)), as_numbers))  # numeric order; equal numbers keep text order
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            names, y = names[order], rank[y]
        classes = [str(n) for n in names]
    if len(classes) < 2:
        raise DataError(f"{source}: target column {shown(target)} has only one class ({shown(classes[0])})")
    return classes, np.asarray(y, dtype=np.int64).reshape(-1)


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
        raise DataError(f"path must be a file path, got {shown(path)}")
    path = Path(path).expanduser()
    if not isinstance(target, str):
        raise DataError(f"target must be the label column's name (a string), got {shown(target)}")
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
        raise DataError(f"no {BANK_CSV} inside the downloaded archive (path={archive})")
    from .._io import atomic_path

    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(payload)
        if md5sum(tmp) != BANK_MD5:
            raise DataError(f"{BANK_CSV} from {BANK_URL} failed its checksum; nothing was cached (path={target})")
    return target


def _find_in_zip(data: bytes, member: str) -> bytes | None:
    # UCI ships the CSV inside bank-additional.zip inside bank+marketing.zip.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DataError(f"the downloaded Bank Marketing archive is not a zip file: {cut(exc)}") from exc
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
