"""Save and load fitted annealer-trained classifiers without pickle: one ``.npz`` holding arrays and JSON.

Loading a pickle runs arbitrary code; an npz read with ``allow_pickle=False`` only yields arrays, and the
parameters and scalar attributes travel as a JSON string inside it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._io import atomic_path, jsonable
from .qboost import QBoostClassifier
from .shallow_wide import ShallowWideClassifier

FORMAT = "qboost-tn-model/1"
CLASSES = {cls.__name__: cls for cls in (ShallowWideClassifier, QBoostClassifier)}
_META = "__meta__"


def _portable_params(estimator) -> dict:
    params = estimator.get_params()
    if not isinstance(params.get("weak_learners", "stumps"), str):
        raise ValueError("save: a QBoostClassifier with user-supplied weak_learners cannot be saved without "
                         "pickle; save those classifiers yourself")
    # A sampler or dask client object cannot be written as data; the loaded model predicts without them.
    for key in ("solver", "executor"):
        if not (params[key] is None or isinstance(params[key], str)):
            params[key] = None if key == "executor" else "neal"
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        params["random_state"] = None
    return params


def save_model(estimator, path) -> Path:
    """Write a fitted :class:`ShallowWideClassifier` or :class:`QBoostClassifier` to ``path`` (.npz).

    A solver given as a sampler object is stored as ``"neal"`` (it is needed only to fit again).
    """
    name = type(estimator).__name__
    if name not in CLASSES:
        raise ValueError(f"save: can save {sorted(CLASSES)}, not {name}")
    check_is_fitted(estimator)
    arrays, scalars = {}, {}
    for key, value in vars(estimator).items():
        if not key.endswith("_") or key.startswith("_"):
            continue
        if isinstance(value, np.ndarray):
            arrays[key] = value.astype(str) if value.dtype == object else value
        else:
            scalars[key] = value
    meta = {"format": FORMAT, "class": name, "params": _portable_params(estimator),
            "attributes": jsonable(scalars)}
    arrays[_META] = np.array(json.dumps(meta))
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def load_model(path):
    """Read a model written by :func:`save_model`; it predicts exactly as the saved one did."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: model file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError) as exc:
        raise ValueError(f"load: {path} is not a qboost-tn model file ({exc})") from exc
    if _META not in arrays:
        raise ValueError(f"load: {path} is not a qboost-tn model file (no metadata)")
    meta = json.loads(str(arrays.pop(_META)))
    if meta.get("format") != FORMAT or meta.get("class") not in CLASSES:
        raise ValueError(f"load: {path} has format {meta.get('format')!r} / class {meta.get('class')!r}; "
                         f"expected {FORMAT} of {sorted(CLASSES)}")
    estimator = CLASSES[meta["class"]](**meta["params"])
    for key, value in {**meta["attributes"], **arrays}.items():
        setattr(estimator, key, value)
    if hasattr(estimator, "feature_names_in_"):
        estimator.feature_names_in_ = estimator.feature_names_in_.astype(object)
    return estimator
