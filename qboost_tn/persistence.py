"""Save and load fitted classifiers without pickle: one ``.npz`` holding arrays and JSON, checked on load.

Loading a pickle runs arbitrary code; an npz read with ``allow_pickle=False`` only yields arrays, and the
parameters and scalar attributes travel as a JSON string inside it. A model file is data a user may have
received from anyone, so :func:`load_model` checks it against its class's declared schema *before* building
anything, and every problem - not a zip, truncated, flipped bits, unknown or misshapen attributes, sizes
beyond :data:`MAX_ARRAY_BYTES` - is one :class:`~qboost_tn.errors.ModelFileError` naming it.

Making a class persistable
--------------------------
A class is registered once, with the fitted attributes a saved model carries and their expected form::

    register_model_class(MyClassifier, {
        "classes_": ("biufU", 1),      # an ndarray: numpy dtype kind(s) accepted, number of dimensions
        "coef_": ("f", 2),
        "n_features_in_": int,         # a JSON scalar: a type, or a tuple of types
        "solver_": (str, type(None)),
    })

``register_model_class`` also works as a class decorator. A class may declare (or extend) the same mapping
as class data, ``_persisted_attributes = {...}``, which is merged over the registration's: a learner adding a
fitted attribute declares it in its own module. Names must end in ``_`` and must not be anything the class
already has (a method, a property, a parameter): a file can never replace ``predict``. Dtype kinds are
numpy's codes: ``"f"`` float, ``"i"``/``"u"`` int, ``"b"`` bool, ``"U"`` str (object arrays are saved as
str). An ``int`` is accepted where ``float`` is declared; ``bool`` is never an ``int`` here.

A class may also declare how its arrays' shapes relate, ``_persisted_shapes = {name: (dim, ...)}``: each
dim an int or a symbol. ``"classes"`` is ``len(classes_)``, ``"tasks"`` is 1 for two classes and
``len(classes_)`` otherwise, ``"features"`` is ``n_features_in_``; any other symbol takes the size where it
is first met and must agree everywhere else (``{"coef_": ("tasks", "P"), "data_min_": ("P",)}``). And it may
define ``_check_loaded(self)``, called on the built model before it is used, raising ``ValueError`` with a
message for anything else a file could get wrong (indices out of range, cycles in trees, non-finite values,
sizes whose working memory would not fit). A model that passes scores one row of zeros as a last check.

Loading imports nothing a file names. The file's class name is looked up in :data:`CLASSES`; the project's
own learners are found through the fixed table :data:`PROJECT_CLASSES` (class name -> the module of this
package that defines and registers it), so a model file can be loaded in a fresh process. A user's class must
be registered before its files are loaded. Any other name is refused with :class:`ModelFileError`.
"""
from __future__ import annotations

import importlib
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ._io import atomic_path, jsonable
from ._text import cut, shown
from .errors import ModelFileError, QBoostTNError

FORMAT = "qboost-tn-model/1"
_META = "__meta__"
#: Largest array a model file may declare, in bytes (checked from the npy header, before reading it).
MAX_ARRAY_BYTES = 1 << 30
#: Largest metadata (JSON) member, in bytes.
MAX_META_BYTES = 16 << 20
#: Most members (arrays) a model file may hold.
MAX_MEMBERS = 256
#: Largest sum of the members' declared (uncompressed) sizes, checked from the zip directory before reading.
MAX_TOTAL_BYTES = 2 << 30
#: Largest npy header of a member (numpy writes under 4 KiB).
_MAX_HEADER = 1 << 16
#: Largest ``n_features_in_`` accepted (the load check predicts one row of zeros of that width).
MAX_FEATURES = 10_000_000

#: Registered classes by name: ``{class name: class}``.
CLASSES: dict[str, type] = {}
_SCHEMAS: dict[str, dict] = {}
_SHAPES: dict[str, dict] = {}
# The project's own savable learners and the modules that register them: the only modules a load may import,
# chosen by this table, never by the file.
PROJECT_CLASSES = {
    "ShallowWideClassifier": "qboost_tn.qubo.shallow_wide",
    "QBoostClassifier": "qboost_tn.qubo.qboost",
    "MPSClassifier": "qboost_tn.mps.classifier",
}



def _is_array_spec(spec) -> bool:
    return isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], int)


def _check_spec(cls, name, spec) -> None:
    if not (isinstance(name, str) and name.endswith("_") and not name.startswith("_")):
        raise TypeError(f"{cls.__name__}: persisted attribute {shown(name)} must end in '_' and not start with '_'")
    if hasattr(cls, name) or name in cls._get_param_names():
        raise TypeError(f"{cls.__name__}: {shown(name)} is a method, property or parameter of the class, not a fitted "
                        "attribute; a model file must not be able to replace it")
    types = spec if isinstance(spec, tuple) else (spec,)
    if not (_is_array_spec(spec) or all(isinstance(t, type) for t in types)):
        raise TypeError(f"{cls.__name__}: persisted attribute {shown(name)}: {shown(spec)} is neither (dtype kinds, ndim) "
                        "nor a type or tuple of types")


def register_model_class(cls, attributes=None, shapes=None):
    """Make ``cls`` savable by :func:`save_model` and loadable by :func:`load_model`; returns ``cls``.

    Parameters
    ----------
    cls : type
        A scikit-learn style estimator (``get_params``, fitted attributes ending in ``_``, ``decision_function``
        or ``predict``).
    attributes : dict, optional
        ``{name: spec}`` of its persisted fitted attributes (see the module docstring), merged under the class's
        own ``_persisted_attributes``.
    shapes : dict, optional
        ``{name: (dim, ...)}``: how the arrays' shapes relate (see the module docstring), merged under the
        class's own ``_persisted_shapes`` (for a class one cannot add class data to, e.g. scikit-learn's).
    """
    schema = {**(attributes or {}), **getattr(cls, "_persisted_attributes", {})}
    for name, spec in schema.items():
        _check_spec(cls, name, spec)
    relations = {**(shapes or {}), **getattr(cls, "_persisted_shapes", {})}
    for name, dims in relations.items():
        if not (_is_array_spec(schema.get(name)) and isinstance(dims, tuple) and len(dims) == schema[name][1]
                and all(isinstance(d, (int, str)) for d in dims)):
            raise TypeError(f"{cls.__name__}: _persisted_shapes[{shown(name)}] = {shown(dims)} should be a tuple of one int "
                            "or symbol per dimension of a declared array attribute")
    CLASSES[cls.__name__] = cls
    _SCHEMAS[cls.__name__] = schema
    _SHAPES[cls.__name__] = shapes or {}
    return cls


def _schema(cls) -> dict:
    # Class data read again at use: a subclass or a later edit of ``_persisted_attributes`` counts.
    return {**_SCHEMAS[cls.__name__], **getattr(cls, "_persisted_attributes", {})}


def _problem(name, spec, value) -> str | None:
    """What is wrong with ``value`` as the attribute ``name`` declared as ``spec`` (None: nothing)."""
    if _is_array_spec(spec):
        kinds, ndim = spec
        if not isinstance(value, np.ndarray):
            return f"{name} should be an array, got {type(value).__name__}"
        if value.dtype.kind not in kinds or value.dtype.hasobject or value.dtype.fields:
            return f"{name} has dtype {value.dtype}; expected kind(s) {shown(kinds)}"
        if value.ndim != ndim:
            return f"{name} has shape {value.shape}; expected {ndim} dimension(s)"
        return None
    types = spec if isinstance(spec, tuple) else (spec,)
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, bool) and bool not in types:
        return f"{name} should be {' or '.join(t.__name__ for t in types)}, got bool"
    if not isinstance(value, types):
        return f"{name} should be {' or '.join(t.__name__ for t in types)}, got {type(value).__name__}"
    return None


def _portable_params(estimator) -> dict:
    params = estimator.get_params()
    if not isinstance(params.get("weak_learners", "stumps"), str):
        raise QBoostTNError("save: a QBoostClassifier with user-supplied weak_learners cannot be saved without "
                            "pickle; save those classifiers yourself")
    # A sampler or dask client object cannot be written as data; the loaded model predicts without them.
    for key in ("solver", "executor"):
        if key in params and not (params[key] is None or isinstance(params[key], str)):
            params[key] = None if key == "executor" else "neal"
    if not (params.get("random_state") is None or isinstance(params["random_state"], int)):
        params["random_state"] = None
    return params


def save_model(estimator, path) -> Path:
    """Write a fitted registered classifier (:class:`ShallowWideClassifier`, :class:`QBoostClassifier`, ...)
    to ``path`` (.npz), atomically.

    A solver given as a sampler object is stored as ``"neal"`` (it is needed only to fit again).

    Raises
    ------
    QBoostTNError
        If the class is not registered or the model cannot be written without pickle.
    TypeError
        If the model holds a fitted attribute its class does not declare (a bug of the class: a loaded copy
        would lack it).
    """
    cls = type(estimator)
    if CLASSES.get(cls.__name__) is not cls:
        raise QBoostTNError(f"save: can save {sorted(CLASSES)}, not {cls.__name__}")
    check_is_fitted(estimator)
    schema = _schema(cls)
    fitted = {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("_")}
    undeclared = sorted(set(fitted) - set(schema))
    if undeclared:
        raise TypeError(f"save: {cls.__name__} has fitted attribute(s) {undeclared} that its persisted schema "
                        "does not declare; add them to its _persisted_attributes")
    arrays, scalars = {}, {}
    for key, value in fitted.items():
        if isinstance(value, np.ndarray):
            value = value.astype(str) if value.dtype == object else value
            arrays[key] = value
        else:
            value = scalars[key] = jsonable(value)
        problem = _problem(key, schema[key], value)
        if problem:
            raise TypeError(f"save: {cls.__name__}: {problem} (its _persisted_attributes say otherwise)")
    meta = {"format": FORMAT, "class": cls.__name__, "module": cls.__module__,
            "params": _portable_params(estimator), "attributes": scalars}
    arrays[_META] = np.array(json.dumps(meta))
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def _read_header(fp):
    """``(shape, dtype)`` from an npy stream's header, without reading its data."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"npy format version {version} is not supported")
    return shape, dtype


def _directory(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """``{array name: member}`` from the zip directory alone: names, count and declared sizes checked before
    any member is read (a member declaring gigabytes is refused without inflating it)."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ModelFileError(f"load: {path} holds {len(members)} members; a model file has at most {MAX_MEMBERS}")
    found, total = {}, 0
    for info in members:
        key = info.filename[:-4]
        if not (info.filename.endswith(".npy") and key.isidentifier()):
            raise ModelFileError(f"load: {path}: member {shown(info.filename)} is not a named array (NAME.npy)")
        if key in found:
            raise ModelFileError(f"load: {path}: member {shown(key)} appears twice")
        limit = (MAX_META_BYTES if key == _META else MAX_ARRAY_BYTES) + _MAX_HEADER
        if info.file_size > limit:
            raise ModelFileError(f"load: {path}: member {shown(key)} declares {info.file_size:,} bytes, more than the "
                                 f"{limit:,} a model file may hold; the file is corrupt or tampered")
        total += info.file_size
        found[key] = info
    if total > MAX_TOTAL_BYTES:
        raise ModelFileError(f"load: {path}: its members declare {total:,} bytes together, more than the "
                             f"{MAX_TOTAL_BYTES:,} a model file may hold; the file is corrupt or tampered")
    if _META not in found:
        raise ModelFileError(f"load: {path} is not a qboost-tn model file (no metadata)")
    return found


def _read_array(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One member's array, its npy header checked against the bounds and its declared size before reading."""
    key = info.filename[:-4]
    with archive.open(info) as fp:
        shape, dtype = _read_header(fp)
        if dtype.hasobject:
            raise ModelFileError(f"load: {path}: {key} holds Python objects, which a model file never does")
        size = int(np.prod(shape, dtype=object)) * dtype.itemsize
        limit = MAX_META_BYTES if key == _META else MAX_ARRAY_BYTES
        if size > min(limit, info.file_size):
            raise ModelFileError(f"load: {path}: {key} declares shape {cut(shape)} of {dtype} ({size:,} bytes) in "
                                 f"a member of {info.file_size:,} bytes (at most {limit:,}); the file is corrupt "
                                 "or tampered")
    with archive.open(info) as fp:
        return np.lib.format.read_array(fp, allow_pickle=False)


def _check_names(path: Path, cls, meta: dict, members: dict) -> None:
    """Every stored array is a declared attribute of ``cls`` and none is also stored as a scalar (before reading)."""
    schema = _schema(cls)
    attributes = meta["attributes"]
    both = sorted(set(attributes) & set(members))
    unknown = sorted((set(attributes) | set(members)) - set(schema))
    if both or unknown:
        raise ModelFileError(f"load: {path}: attribute(s) {cut(unknown or both)} are not fitted attributes of "
                             f"{cls.__name__} (it saves {sorted(schema)})")


def _parse_meta(path: Path, raw: np.ndarray) -> dict:
    if raw.shape != () or raw.dtype.kind != "U":
        raise ModelFileError(f"load: {path}: the metadata is not a JSON string")
    meta = json.loads(str(raw))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelFileError(f"load: {path} has format {shown(found)}; expected {FORMAT}")
    for key in ("params", "attributes"):
        if not isinstance(meta.get(key), dict):
            raise ModelFileError(f"load: {path}: metadata {shown(key)} should be a mapping, got "
                                 f"{type(meta.get(key)).__name__}")
    return meta


def _model_class(path: Path, meta: dict) -> type:
    name = meta.get("class")
    if not isinstance(name, str):
        raise ModelFileError(f"load: {path}: the metadata names no model class")
    if name not in CLASSES and name in PROJECT_CLASSES:
        importlib.import_module(PROJECT_CLASSES[name])
    if name not in CLASSES:
        raise ModelFileError(f"load: {path} holds a model of class {shown(name)}; can load "
                             f"{sorted(set(CLASSES) | set(PROJECT_CLASSES))} (a class of your own must be "
                             "registered with register_model_class before loading)")
    return CLASSES[name]


def _check_attributes(path: Path, cls, attributes: dict, arrays: dict) -> None:
    schema = _schema(cls)
    problems = [p for key, value in {**attributes, **arrays}.items() if (p := _problem(key, schema[key], value))]
    if problems:
        raise ModelFileError(f"load: {path}: {'; '.join(problems)}")
    n_features = attributes.get("n_features_in_")
    if isinstance(n_features, int) and not 1 <= n_features <= MAX_FEATURES:
        raise ModelFileError(f"load: {path}: n_features_in_ = {n_features} is outside 1..{MAX_FEATURES}")
    names = arrays.get("feature_names_in_")
    if names is not None and (names.ndim != 1 or len(names) != n_features):
        raise ModelFileError(f"load: {path}: {names.size} feature names for n_features_in_ = {n_features}")
    classes = arrays.get("classes_")
    if classes is not None and classes.size > 1 and not np.all(classes[1:] > classes[:-1]):
        raise ModelFileError(f"load: {path}: classes_ is not sorted and unique (as np.unique gives)")


def _shape_problems(estimator, relations: dict) -> list[str]:
    """What breaks the declared shape relations (see the module docstring) among the attributes present."""
    classes = getattr(estimator, "classes_", None)
    sizes = {}
    if classes is not None:
        sizes["classes"] = len(classes)
        sizes["tasks"] = 1 if len(classes) == 2 else len(classes)
    if isinstance(getattr(estimator, "n_features_in_", None), int):
        sizes["features"] = estimator.n_features_in_
    problems = []
    where = {"classes": "classes_", "tasks": "classes_", "features": "n_features_in_"}
    for name, dims in relations.items():
        value = getattr(estimator, name, None)
        if not isinstance(value, np.ndarray):
            continue
        for axis, (dim, size) in enumerate(zip(dims, value.shape)):
            if isinstance(dim, str) and dim not in sizes:
                sizes[dim], where[dim] = size, name
            expected = dim if isinstance(dim, int) else sizes[dim]
            if size != expected:
                problems.append(f"{name} has {size} along axis {axis} where {dim} = {expected}"
                                + (f" (from {where[dim]})" if isinstance(dim, str) else ""))
    return problems


def _check_predicts(path: Path, estimator) -> None:
    """Score one row of zeros: shapes that do not fit together (classes vs coefficient rows) fail here."""
    try:
        n_classes = len(estimator.classes_)
        X = np.zeros((1, estimator.n_features_in_))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a model fitted on a DataFrame warns about unnamed columns
            if hasattr(estimator, "decision_function"):
                scores = np.asarray(estimator.decision_function(X))
                expected = (1,) if n_classes == 2 else (1, n_classes)
            else:
                scores, expected = np.asarray(estimator.predict_proba(X)), (1, n_classes)
    except Exception as exc:  # noqa: BLE001 - whatever a misshapen model raises, the file is what is wrong
        raise ModelFileError(f"load: {path}: the stored attributes do not fit together ({type(exc).__name__}: "
                             f"{cut(exc)})") from exc
    if n_classes < 2 or scores.shape != expected:
        raise ModelFileError(f"load: {path}: {n_classes} classes but the stored coefficients give scores of "
                             f"shape {scores.shape[1:]} per sample")
    if not np.isfinite(scores).all():
        raise ModelFileError(f"load: {path}: the stored attributes give non-finite scores (NaN or inf)")


def load_model(path):
    """Read a model written by :func:`save_model`; it predicts exactly as the saved one did.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a model file of a registered class, or is truncated, tampered or inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: model file not found: {path}")
    try:
        # is_zipfile raises, rather than answers False, for some damaged end records (multi-disk archives).
        if not zipfile.is_zipfile(path):
            raise ModelFileError(f"load: {path} is not a qboost-tn model file (not an .npz archive, or truncated)")
        with zipfile.ZipFile(path) as archive:
            members = _directory(path, archive)
            meta = _parse_meta(path, _read_array(path, archive, members.pop(_META)))
            cls = _model_class(path, meta)
            _check_names(path, cls, meta, members)
            arrays = {key: _read_array(path, archive, info) for key, info in members.items()}
    except (ModelFileError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - JSONDecodeError, zlib.error, ...: the file is what is wrong
        raise ModelFileError(f"load: {path} is damaged or not a qboost-tn model file "
                             f"({type(exc).__name__}: {cut(exc)})") from exc
    try:
        return _build(path, cls, meta, arrays)
    except (ModelFileError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: whatever building a file's model raises, the
        # file is what is wrong, and loading data must never end the process
        raise ModelFileError(f"load: {path}: a {cls.__name__} cannot be built from it ({type(exc).__name__}: "
                             f"{cut(exc)})") from exc


def _build(path: Path, cls, meta: dict, arrays: dict):
    """The model of class ``cls`` from checked metadata and arrays, every declared relation and hook checked."""
    params, attributes = meta["params"], meta["attributes"]
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ModelFileError(f"load: {path}: {cls.__name__} has no parameter(s) {cut(unknown)}")
    _check_attributes(path, cls, attributes, arrays)
    estimator = cls(**params)
    try:
        if hasattr(estimator, "_parameter_constraints"):  # scikit-learn's declared parameter rules
            estimator._validate_params()
    except ValueError as exc:  # InvalidParameterError
        raise ModelFileError(f"load: {path}: stored parameters are invalid: {cut(exc)}") from exc
    for key, value in {**attributes, **arrays}.items():
        setattr(estimator, key, value)
    if "feature_names_in_" in arrays:
        estimator.feature_names_in_ = estimator.feature_names_in_.astype(object)
    problems = _shape_problems(estimator, {**_SHAPES[cls.__name__], **getattr(cls, "_persisted_shapes", {})})
    if problems:
        raise ModelFileError(f"load: {path}: the stored arrays do not fit together: {cut('; '.join(problems), 600)}")
    check = getattr(estimator, "_check_loaded", None)
    if callable(check):
        try:
            check()
        except ValueError as exc:  # QBoostTNError included: the class's own checks of what a file holds
            raise ModelFileError(f"load: {path}: {cut(exc, 600)}") from exc
    _check_predicts(path, estimator)
    return estimator


# The linear baseline every comparison holds: saved like the learners it is compared with. One row of
# coefficients per one-vs-rest task (one for a binary problem), one column per feature.
register_model_class(LogisticRegression, {
    "classes_": ("biufU", 1), "n_features_in_": int, "feature_names_in_": ("U", 1), "coef_": ("f", 2),
    "intercept_": ("f", 1), "n_iter_": ("i", 1),
}, shapes={"classes_": ("classes",), "feature_names_in_": ("features",), "coef_": ("tasks", "features"),
           "intercept_": ("tasks",)})
