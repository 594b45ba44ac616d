"""What every model adapter builds on: one per model kind, each turning a config entry into fitted models and their scores.

An adapter is a generator function ``fit(task, params)`` registered with :func:`register`. It fits on
``task.X_train`` (and uses ``task.X_val`` where it tunes or stops early), then yields one :class:`Outcome` per
model it produced — most kinds yield one; a kind that sweeps a setting (an MPO bond dimension, say) yields one
per value, so a sweep shares its expensive common work. The runner evaluates each outcome on the evaluation
part and records it; an exception fails only that model.

Adding a model kind = one module beside this one that calls :func:`register`, plus one line in
``adapters/__init__.py`` importing it. Heavy libraries (torch) are imported inside the functions, so
validating a config stays fast.
"""
from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from ..._text import shown
from ..schema import AnyOf, Field, Int, Record

#: scikit-learn's and joblib's ``n_jobs``: threads or workers, -1 every core, -2 all but one; 0 is no setting.
N_JOBS = AnyOf(Int(max=-1), Int(min=1))
#: Keys older configs used, refused with their new name.
RENAMED = {"threads": "n_jobs"}
TORCH_N_JOBS = Field(N_JOBS, 1, "torch intra-op threads while fitting (-1: every core); small models are fastest "
                                "on one, and on a shared machine more threads oversubscribe the cores (5x slower)")


@dataclass(frozen=True)
class Task:
    """What every adapter receives: scaled arrays of one split plus what is known about the data."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_eval: np.ndarray
    y_eval: np.ndarray
    class_names: list
    image_shape: tuple | None
    seed: int
    progress: bool = True
    feature_names: list | None = None  # names of the input columns, for tabular weight charts
    budgets: tuple = (None,)  # size budgets in bytes (None: unbounded) that tuning chooses within

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def has_val(self) -> bool:
        return len(self.y_val) > 0


@dataclass
class Outcome:
    """One fitted model's results on the evaluation part.

    Attributes
    ----------
    scores : ndarray, shape (n,) for binary tasks or (n, n_classes)
        Larger means more likely (``decision_function`` convention), on ``task.X_eval``.
    n_params : int
        Numbers the fitted model stores, as it reports them (Ising models: non-zero weights plus intercepts).
    model_bytes : int, optional
        Bytes to store it (:func:`qboost_tn.eval.model_bytes`); default: counted from ``model`` by the runner.
        An adapter that yields no ``model`` gives it here (every built-in adapter does one or the other).
    fit_time : float
        Seconds spent fitting (and tuning), not predicting.
    proba : ndarray like ``scores``, optional
    sparsity : float, optional
        Fraction of weights that are exactly zero, where the model has a notion of it.
    weight_maps : ndarray (n_maps, n_features), optional
        Per-class (or per-output) weights over the input features; drawn as images for image data.
    variant : str, optional
        Distinguishes outcomes of one config entry (``"max_bond=4"``); appended to the model's name.
    info : dict
        Extra scalar columns for the table (chosen hyper-parameters, compression ratio, ...).
    figures : dict
        ``file stem -> matplotlib Figure`` to save and show in the report (e.g. entanglement plots).
    model : object, optional
        The fitted model, for the run's ``models/`` folder: saved if its class is registered for model files
        (``.npz``: the annealer-trained estimators, MPS, logistic regression) or it is a torch module (``.pt``
        state_dict). Give it whenever it can be saved; the pickle-only peers leave it out.
    """

    scores: np.ndarray
    n_params: int
    fit_time: float
    proba: np.ndarray | None = None
    sparsity: float | None = None
    weight_maps: np.ndarray | None = None
    variant: str | None = None
    info: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    model: object | None = None
    model_bytes: int | None = None


FAMILIES = ("annealer", "classical", "network", "mpo-network", "tensor-network")
# The project's own compact learners; the other families are the peers they are measured against.
COMPACT_FAMILIES = ("annealer", "mpo-network", "tensor-network")


@dataclass
class Adapter:
    kind: str
    fit: Callable[[Task, dict], Iterator[Outcome]]
    schema: Record | Callable[[], Record]
    doc: str
    family: str
    _params: Record | None = field(default=None, repr=False)

    def live_params(self) -> Record:
        """The kind's schema built from its source: a factory given to :func:`register` is called (an
        estimator's schema imports the estimator: scikit-learn, numba, torch)."""
        return self.schema if isinstance(self.schema, Record) else self.schema()

    @property
    def params(self) -> Record:
        """The kind's parameter schema, built the first time it is asked for: from the stored copy when the
        kind's factory has one (:mod:`qboost_tn.experiments.stored_schemas`), so checking a config imports
        no estimator, else from :meth:`live_params`."""
        if self._params is None:
            if not isinstance(self.schema, Record):
                from ..stored_schemas import stored_schema

                self._params = stored_schema(self.kind, self.schema)
            if self._params is None:
                self._params = self.live_params()
        return self._params


ADAPTERS: dict[str, Adapter] = {}


def register(kind: str, params: Record | Callable[[], Record], family: str):
    """Decorator: make ``fit(task, params)`` the adapter of model kind ``kind`` with parameter schema ``params``
    (a :class:`Record`, or a function returning it when first needed).

    ``family`` (one of :data:`FAMILIES`) groups the kind in reports: the best row of each family is marked.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {shown(family)}")

    def deco(fit):
        ADAPTERS[kind] = Adapter(kind, fit, params, (fit.__doc__ or "").strip().splitlines()[0], family)
        return fit
    return deco


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``; adapters time fitting only."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


def estimator_scores(estimator, X, n_classes):
    """(scores, proba) from a fitted scikit-learn classifier, in the shapes :func:`qboost_tn.evaluate` takes;
    scores as :func:`qboost_tn.search.decision_scores` ranks them."""
    from ...search import decision_scores

    proba = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else None
    scores = np.asarray(decision_scores(estimator, X, proba=proba), dtype=np.float64)
    return scores, (proba[:, 1] if n_classes == 2 and proba is not None else proba)


def with_torch_threads(fit):
    """Run an adapter generator with ``params["n_jobs"]`` torch threads, restoring the caller's setting."""
    @functools.wraps(fit)
    def wrapped(task, params):
        from ...nets import torch_threads

        with torch_threads(params["n_jobs"]):
            yield from fit(task, params)
    return wrapped


def searchable(spec):
    """Schema of a parameter given as one value or as a list of values to choose from on the validation part."""
    from ..schema import List, OneOf

    return OneOf(spec, List(spec, min_len=1))


def fit_choices(build, params, task, searched):
    """Fit ``build(params)`` on the training part for every combination of the list-valued ``searched`` params
    and choose on the validation part, within each of ``task.budgets``.

    Returns ``[(model, info, variant)]``: with one combination, that model, ``{}`` and None. With several, per
    budget the combination with the best validation macro ROC-AUC (ties: the first) among those whose fitted
    size (:func:`qboost_tn.eval.model_bytes`) fits it (:class:`qboost_tn.search.BudgetChoice`, the one place
    a budget filters), each distinct model once: ``info`` holds the chosen values, that AUC and the budgets
    it won; ``variant`` is None for the unbounded choice, else ``"<=4 KiB"`` for the tightest budget it won.
    Fitting on the training part only, a chosen model needs no refit.

    A combination the data cannot take (a ``ValueError`` on fitting, e.g. an image feature map on a table) is
    skipped, so one preset serves images and tables; ``info["skipped"]`` counts them. If every combination
    fails, the first error is raised.
    """
    from ...eval import macro_auc
    from ...search import fit_and_choose

    keys = [k for k in searched if isinstance(params[k], list)]
    grid = [dict(zip(keys, combo)) for combo in itertools.product(*(params[k] for k in keys))]
    if len(grid) == 1:
        return [(build({**params, **grid[0]}).fit(task.X_train, task.y_train), {}, None)]
    if not task.has_val:
        raise ValueError(f"lists of values for {', '.join(keys)} need a validation part to choose from "
                         "(split.n_val > 0)")
    choice, _, errors = fit_and_choose(
        grid, lambda setting: (build({**params, **setting}).fit(task.X_train, task.y_train), dict(setting)),
        lambda model: {"macro_auc": macro_auc(task.y_val, estimator_scores(model, task.X_val, task.n_classes)[0])},
        budgets=task.budgets, skip=(ValueError,))
    if len(errors) == len(grid):
        raise errors[0]
    return [(model, {**info, "skipped": len(errors)} if errors else info, variant)
            for model, info, variant in budget_outcomes(choice)]


def budget_outcomes(choice):
    """``[(model, info, variant)]`` of a :func:`~qboost_tn.search.fit_and_choose` choice: see
    :func:`fit_choices`."""
    out = []
    for candidate, score, _, budgets in choice.choices():
        model, info = candidate.model, {**candidate.info, "val_macro_auc": score}
        variant = None
        if None not in budgets:
            tightest = min(budgets)
            info["budget_kib"] = tightest / 1024
            variant = f"<={tightest / 1024:g} KiB"
        out.append((model, info, variant))
    return out
