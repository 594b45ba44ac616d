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

A saved model records its class's module; loading a model of a class that is not registered yet imports
that module (only modules of this package) so that it can register itself.
"""
from __future__ import annotations

import importlib
import json
import re
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .._io import atomic_path, jsonable
from ..errors import ModelFileError, QBoostTNError
from .qboost import QBoostClassifier
from .shallow_wide import ShallowWideClassifier

FORMAT = "qboost-tn-model/1"
_META = "__meta__"
#: Largest array a model file may declare, in bytes (checked from the npy header, before reading it).
MAX_ARRAY_BYTES = 1 << 30
#: Largest metadata (JSON) member, in bytes.
MAX_META_BYTES = 16 << 20
#: Most members (arrays) a model file may hold.
MAX_MEMBERS = 256
#: Largest ``n_features_in_`` accepted (the load check predicts one row of zeros of that width).
MAX_FEATURES = 10_000_000

#: Registered classes by name: ``{class name: class}``.
CLASSES: dict[str, type] = {}
_SCHEMAS: dict[str, dict] = {}
_PACKAGE_MODULE = re.compile(r"^qboost_tn(\.[A-Za-z_][A-Za-z0-9_]*)+$")
# What a damaged or foreign file can raise while it is opened, parsed or decompressed.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, zlib.error, KeyError,
                RuntimeError, NotImplementedError, struct.error, OverflowError, RecursionError)


def _is_array_spec(spec) -> bool:
    return isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], int)


def _check_spec(cls, name, spec) -> None:
    if not (isinstance(name, str) and name.endswith("_") and not name.startswith("_")):
        raise TypeError(f"{cls.__name__}: persisted attribute {name!r} must end in '_' and not start with '_'")
    if hasattr(cls, name) or name in cls._get_param_names():
        raise TypeError(f"{cls.__name__}: {name!r} is a method, property or parameter of the class, not a fitted "
                        "attribute; a model file must not be able to replace it")
    types = spec if isinstance(spec, tuple) else (spec,)
    if not (_is_array_spec(spec) or all(isinstance(t, type) for t in types)):
        raise TypeError(f"{cls.__name__}: persisted attribute {name!r}: {spec!r} is neither (dtype kinds, ndim) "
                        "nor a type or tuple of types")


def register_model_class(cls, attributes=None):
    """Make ``cls`` savable by :func:`save_model` and loadable by :func:`load_model`; returns ``cls``.

    Parameters
    ----------
    cls : type
        A scikit-learn style estimator (``get_params``, fitted attributes ending in ``_``, ``decision_function``
        or ``predict``).
    attributes : dict, optional
        ``{name: spec}`` of its persisted fitted attributes (see the module docstring), merged under the class's
        own ``_persisted_attributes``.
    """
    schema = {**(attributes or {}), **getattr(cls, "_persisted_attributes", {})}
    for name, spec in schema.items():
        _check_spec(cls, name, spec)
    CLASSES[cls.__name__] = cls
    _SCHEMAS[cls.__name__] = schema
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
            return f"{name} has dtype {value.dtype}; expected kind(s) {kinds!r}"
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


def _read_members(path: Path) -> dict[str, np.ndarray]:
    """Every array of the npz at ``path``, each header checked against the bounds before its data is read."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ModelFileError(f"load: {path} holds {len(members)} members; a model file has at most "
                                 f"{MAX_MEMBERS}")
        for info in members:
            if not info.filename.endswith(".npy"):
                raise ModelFileError(f"load: {path}: member {info.filename!r} is not an array (.npy)")
            key = info.filename[:-4]
            with archive.open(info) as fp:
                shape, dtype = _read_header(fp)
            if dtype.hasobject:
                raise ModelFileError(f"load: {path}: {key} holds Python objects, which a model file never does")
            size = int(np.prod(shape, dtype=object)) * dtype.itemsize
            limit = MAX_META_BYTES if key == _META else MAX_ARRAY_BYTES
            if size > limit:
                raise ModelFileError(f"load: {path}: {key} declares shape {shape} of {dtype} ({size:,} bytes), more "
                                     f"than the {limit:,} a model file may hold; the file is corrupt or tampered")
            with archive.open(info) as fp:
                arrays[key] = np.lib.format.read_array(fp, allow_pickle=False)
    return arrays


def _parse_meta(path: Path, arrays: dict) -> dict:
    if _META not in arrays:
        raise ModelFileError(f"load: {path} is not a qboost-tn model file (no metadata)")
    raw = arrays.pop(_META)
    if raw.shape != () or raw.dtype.kind != "U":
        raise ModelFileError(f"load: {path}: the metadata is not a JSON string")
    meta = json.loads(str(raw))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelFileError(f"load: {path} has format {found!r}; expected {FORMAT}")
    for key in ("params", "attributes"):
        if not isinstance(meta.get(key), dict):
            raise ModelFileError(f"load: {path}: metadata {key!r} should be a mapping, got {meta.get(key)!r}")
    return meta


def _model_class(path: Path, meta: dict) -> type:
    name, module = meta.get("class"), meta.get("module")
    if not isinstance(name, str):
        raise ModelFileError(f"load: {path}: the metadata names no model class (class = {name!r})")
    if name not in CLASSES and isinstance(module, str) and _PACKAGE_MODULE.match(module):
        # The class's module registers it on import; only this package's own modules are ever imported.
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    if name not in CLASSES:
        raise ModelFileError(f"load: {path} holds a model of class {name!r}; can load {sorted(CLASSES)}")
    return CLASSES[name]


def _check_attributes(path: Path, cls, attributes: dict, arrays: dict) -> None:
    schema = _schema(cls)
    both = sorted(set(attributes) & set(arrays))
    unknown = sorted((set(attributes) | set(arrays)) - set(schema))
    if both or unknown:
        raise ModelFileError(f"load: {path}: attribute(s) {unknown or both} are not fitted attributes of "
                             f"{cls.__name__} (it saves {sorted(schema)})")
    problems = [p for key, value in {**attributes, **arrays}.items() if (p := _problem(key, schema[key], value))]
    if problems:
        raise ModelFileError(f"load: {path}: {'; '.join(problems)}")
    n_features = attributes.get("n_features_in_")
    if isinstance(n_features, int) and not 1 <= n_features <= MAX_FEATURES:
        raise ModelFileError(f"load: {path}: n_features_in_ = {n_features} is outside 1..{MAX_FEATURES}")
    names = arrays.get("feature_names_in_")
    if names is not None and (names.ndim != 1 or len(names) != n_features):
        raise ModelFileError(f"load: {path}: {names.size} feature names for n_features_in_ = {n_features}")


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
                             f"{exc})") from exc
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
        arrays = _read_members(path)
        meta = _parse_meta(path, arrays)
    except ModelFileError:
        raise
    except _READ_ERRORS as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelFileError(f"load: {path} is damaged or not a qboost-tn model file "
                             f"({type(exc).__name__}: {exc})") from exc
    cls = _model_class(path, meta)
    params, attributes = meta["params"], meta["attributes"]
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ModelFileError(f"load: {path}: {cls.__name__} has no parameter(s) {unknown}")
    _check_attributes(path, cls, attributes, arrays)
    estimator = cls(**params)
    try:
        if hasattr(estimator, "_parameter_constraints"):  # scikit-learn's declared parameter rules
            estimator._validate_params()
    except ValueError as exc:  # InvalidParameterError
        raise ModelFileError(f"load: {path}: stored parameters are invalid: {exc}") from exc
    for key, value in {**attributes, **arrays}.items():
        setattr(estimator, key, value)
    if "feature_names_in_" in arrays:
        estimator.feature_names_in_ = estimator.feature_names_in_.astype(object)
    _check_predicts(path, estimator)
    return estimator


_LABELS = ("biufU", 1)
_COMMON = {"classes_": _LABELS, "n_features_in_": int, "feature_names_in_": ("U", 1), "solver_": (str, type(None)),
           "energies_": ("f", 1), "sparsity_": float, "n_params_": int}
register_model_class(ShallowWideClassifier, {
    **_COMMON, "energies_": ("f", 2), "data_min_": ("f", 1), "data_scale_": ("f", 1), "zero_to_minus_one_": bool,
    "spins_": ("i", 4), "k_": ("f", 1), "layer_sums_": ("f", 2), "coef_": ("f", 2), "intercept_": ("f", 1),
    "n_spins_": int,
})
# The linear baseline every comparison holds: saved like the learners it is compared with.
register_model_class(LogisticRegression, {
    "classes_": _LABELS, "n_features_in_": int, "feature_names_in_": ("U", 1), "coef_": ("f", 2),
    "intercept_": ("f", 1), "n_iter_": ("i", 1),
})
register_model_class(QBoostClassifier, {
    **_COMMON, "thresholds_": ("f", 2), "polarities_": ("fi", 2), "lam_": float, "selected_": ("b", 2),
})
