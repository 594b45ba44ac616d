"""Train one annealer-trained model on a registered data set, evaluate it, and write metrics, maps and model.

The library side of ``qboost-tn train`` (and of ``qboost-tn demo``): load -> split -> scale -> fit ->
evaluate -> files.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .._io import write_json
from ..data import load_dataset, prepare, split
from ..eval import evaluate
from ..eval.plots import plot_weight_maps
from .persistence import save_model
from .qboost import QBoostClassifier
from .shallow_wide import ShallowWideClassifier

MODELS = {"shallow-wide": ShallowWideClassifier, "qboost": QBoostClassifier}
IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")


@dataclass
class TrainResult:
    """What :func:`train_and_evaluate` produced.

    Attributes
    ----------
    estimator : fitted classifier
    metrics : dict
        ``config``, ``fit_seconds``, ``sparsity``, ``n_params`` and, per evaluated part (``"val"``,
        ``"test"``), the evaluation's summary and per-class rows: the content of ``metrics.json``.
    evaluations : dict of str -> qboost_tn.eval.Evaluation
    paths : dict of str -> Path
        Files written (``metrics``, ``weight_maps``, ``model``); empty without ``out``.
    """

    estimator: object
    metrics: dict
    evaluations: dict
    paths: dict = field(default_factory=dict)


def build_model(model: str, **params):
    """A ShallowWideClassifier (``"shallow-wide"``) or QBoostClassifier (``"qboost"``) with ``params``."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; use one of {list(MODELS)}")
    cls = MODELS[model]
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        raise ValueError(f"model {model!r} does not take parameter(s) {unknown}")
    return cls(**params)


def train_and_evaluate(dataset="mnist", *, model="shallow-wide", params=None, dataset_options=None,
                       n_train=150, n_val=300, n_test=None, seed=0, out=None, progress=True) -> TrainResult:
    """Fit ``model`` on ``n_train`` stratified samples of ``dataset`` and evaluate on the other parts.

    Parameters
    ----------
    dataset : str
        A name of :data:`qboost_tn.data.DATASETS`.
    model : {"shallow-wide", "qboost"}
    params : dict, optional
        Estimator parameters (e.g. ``{"n_layers": 3, "n_jobs": 2}``); ``random_state`` defaults to ``seed``.
    dataset_options : dict, optional
        Passed to :func:`qboost_tn.load_dataset` (e.g. ``{"size": 20}``, ``{"path": ...}``).
    n_train, n_val, n_test : int
        Split sizes; ``n_test=None`` tests on everything left over.
    seed : int
        Seeds the split and (unless ``params`` sets ``random_state``) the annealing.
    out : str or Path, optional
        Directory for ``metrics.json``, ``weight_maps.png`` and ``model.npz``.
    progress : bool
        A progress bar over the solves.
    """
    params = {"random_state": seed, **(params or {})}
    if progress:
        params.setdefault("verbose", 1)
    estimator = build_model(model, **params)
    ds = load_dataset(dataset, **(dataset_options or {}))
    parts = split(ds, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed)
    data = prepare(ds, parts)

    start = time.perf_counter()
    estimator.fit(data.X_train, data.y_train)
    fit_seconds = time.perf_counter() - start

    evaluations = {}
    for part, X, y in (("val", data.X_val, data.y_val), ("test", data.X_test, data.y_test)):
        if len(y):
            proba = estimator.predict_proba(X)
            evaluations[part] = evaluate(y, estimator.decision_function(X), ds.class_names,
                                         proba=proba[:, 1] if proba.shape[1] == 2 else proba)
    metrics = {
        "config": {"dataset": dataset, "dataset_options": dataset_options or {}, "model": model,
                   "params": {k: v for k, v in estimator.get_params().items() if k != "executor"},
                   "split": parts.sizes(), "seed": seed},
        "fit_seconds": fit_seconds,
        "sparsity": estimator.sparsity_,
        "n_params": estimator.n_params_,
        **{part: ev.to_dict() for part, ev in evaluations.items()},
    }
    result = TrainResult(estimator, metrics, evaluations)
    if out is not None:
        result.paths = write_outputs(result, ds, Path(out))
    return result


def write_outputs(result: TrainResult, ds, out: Path) -> dict:
    """``metrics.json``, ``weight_maps.png`` and ``model.npz`` in ``out``; returns their paths."""
    estimator = result.estimator
    names = ds.class_names if len(estimator.classes_) > 2 else [ds.class_names[int(estimator.classes_[1])]]
    shape = ds.image_shape or (1, ds.n_features)
    maps = estimator.weight_maps(shape)
    kind = "mean spin over layers" if isinstance(estimator, ShallowWideClassifier) else "selected stump polarity"
    paths = {"weight_maps": out / "weight_maps.png", "model": out / "model.npz", "metrics": out / "metrics.json"}
    plot_weight_maps(maps, shape, names, path=paths["weight_maps"],
                     title=f"{type(estimator).__name__} on {ds.name}: {kind}")
    save_model(estimator, paths["model"])
    write_json(paths["metrics"], {**result.metrics, "files": {k: v.name for k, v in paths.items()}})
    return paths
