"""Pick hyper-parameters on a validation split, then return the best setting refitted (never the last tried).

:class:`BudgetChoice` is the one place a size budget filters candidates: a candidate larger than a budget is
dropped before the best validation score within that budget is chosen. :func:`validation_search` and the
experiments' adapters both choose through it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid, train_test_split

from .eval import evaluate, model_bytes


class BudgetChoice:
    """The best-scoring candidate within each size budget, offered one at a time in grid order.

    Parameters
    ----------
    budgets : sequence of int or None
        Largest allowed sizes in bytes; None is unbounded.

    ``offer(score, size, payload)`` keeps ``payload`` for every budget it fits (``size <= budget``) and beats
    (a strictly higher score: ties go to the earlier candidate). :meth:`choices` lists each distinct winner
    once with the budgets it won.
    """

    def __init__(self, budgets=(None,)):
        self.budgets = list(dict.fromkeys(budgets))
        self._best = {b: None for b in self.budgets}
        self._order = 0

    def offer(self, score, size, payload) -> bool:
        """Offer one candidate; True when it is now the best of some budget."""
        self._order += 1
        won = False
        for budget, best in self._best.items():
            if (budget is None or (size is not None and size <= budget)) and (best is None or score > best[0]):
                self._best[budget] = (float(score), size, self._order, payload)
                won = True
        return won

    def best(self, budget=None):
        """``(score, size, payload)`` of the winner of ``budget``, or None when no candidate fits it."""
        entry = self._best[budget]
        return None if entry is None else (entry[0], entry[1], entry[3])

    def choices(self) -> list:
        """``[(payload, score, size, budgets_won)]``, one per distinct winner, in grid order."""
        won = {}
        for budget, entry in self._best.items():
            if entry is not None:
                won.setdefault(entry[2], [entry, []])[1].append(budget)
        return [(e[3], e[0], e[1], budgets) for _, (e, budgets) in sorted(won.items())]


@dataclass
class Candidate:
    """One fitted setting of :func:`fit_and_choose`: its model, what fitting reported (``info``), its
    validation ``metrics`` (``"macro_auc"`` decides) and its size in bytes (None: no size rule)."""

    setting: dict
    model: object
    info: dict
    metrics: dict
    size: int | None


def fit_and_choose(settings, fit, score, *, budgets=(None,), skip=()):
    """Fit every setting, score it on the validation part, and choose the best within each budget.

    Parameters
    ----------
    settings : iterable of dict
    fit : callable ``setting -> (fitted model, info dict)``
    score : callable ``model -> dict`` of validation metrics holding ``"macro_auc"``
    budgets : sequence of int or None
        :class:`BudgetChoice`'s budgets in bytes (None: unbounded).
    skip : tuple of exception types
        A setting whose fit raises one of them is passed over (e.g. an image feature map on a table).

    Returns
    -------
    (BudgetChoice, list of Candidate, list of Exception)
        The choice (its payloads are the :class:`Candidate` objects), every candidate in order, and the
        errors of the settings passed over.
    """
    choice, candidates, errors = BudgetChoice(budgets), [], []
    for setting in settings:
        try:
            model, info = fit(setting)
        except skip as exc:
            errors.append(exc)
            continue
        candidate = Candidate(setting, model, info, score(model), _size(model))
        candidates.append(candidate)
        choice.offer(candidate.metrics["macro_auc"], candidate.size, candidate)
    return choice, candidates, errors


@dataclass
class SearchResult:
    """Outcome of :func:`validation_search`.

    Attributes
    ----------
    best_estimator : fitted estimator with ``best_params``
    best_params : dict
    best_score : float
        Validation macro ROC-AUC of the best setting.
    results : DataFrame
        One row per setting: its parameters, ``macro_auc``, ``accuracy``, ``sparsity``, ``n_params``.
    """

    best_estimator: object
    best_params: dict
    best_score: float
    results: pd.DataFrame


def decision_scores(model, X, proba=None) -> np.ndarray:
    """What a fitted classifier ranks samples by, the one rule every row and :func:`validation_search` use.

    Two classes: ``decision_function``, or for a model without it (a random forest, k-NN) ``predict_proba``
    of class 1. Several classes: each class's log-probability (``predict_proba``, floored at the smallest
    positive float so it stays finite) where the model has probabilities, else ``decision_function``. A class's
    raw score does not compare across samples — a softmax ignores a per-sample shift of the logits, and a
    one-vs-rest score ignores the other classes' evidence — so ranking by it cost logistic regression 0.04
    macro AUC on nine classes of skewed counts and the annealer learners 0.003-0.009 on MNIST digits.
    ``proba``: the model's ``predict_proba(X)`` when the caller has it already.
    """
    if len(model.classes_) > 2 and hasattr(model, "predict_proba"):
        proba = model.predict_proba(X) if proba is None else proba
        return np.log(np.maximum(proba, np.finfo(np.float64).tiny))
    if hasattr(model, "decision_function"):
        return model.decision_function(X)
    proba = model.predict_proba(X)
    return proba[:, 1] if proba.shape[1] == 2 else proba


def validation_search(estimator, X, y, param_grid, *, X_val=None, y_val=None, validation_fraction=0.3,
                      refit=True, random_state=0, max_bytes=None) -> SearchResult:
    """Fit every setting of ``param_grid`` on a training part, score it on a validation part, keep the best.

    Parameters
    ----------
    estimator : ShallowWideClassifier, QBoostClassifier or any classifier (see :func:`decision_scores`)
        Or a callable ``setting -> unfitted classifier`` (a setting is one dict of ``param_grid``), for
        settings that are not plain constructor parameters (a wrapped or adjusted estimator).
    X, y : training data
    param_grid : dict or list of dicts
        As for :class:`sklearn.model_selection.ParameterGrid`, e.g. ``{"lam": [1, 3, 10], "n_layers": [2, 4]}``.
    X_val, y_val : optional
        The validation part. Without them a stratified ``validation_fraction`` of ``(X, y)`` is held out.
    refit : bool, default=True
        True: fit the best setting again on all labelled data the search saw (training and validation part).
        False: return the best setting's model as fitted on the training part.
    random_state : int
        Seeds the held-out split (the estimator's own ``random_state`` seeds its annealing).
    max_bytes : int, optional
        A size budget: settings whose fitted model is larger (:func:`qboost_tn.eval.model_bytes`) are dropped
        before the best is chosen. A refitted model (more rows) may differ in size from the one chosen.

    Returns
    -------
    SearchResult
        Ties go to the earlier setting in grid order.
    """
    X, y = np.asarray(X), np.asarray(y)
    if (X_val is None) != (y_val is None):
        raise ValueError("validation_search: give both X_val and y_val, or neither")
    if X_val is None:
        if not 0 < validation_fraction < 1:
            raise ValueError(f"validation_fraction must lie in (0, 1), got {validation_fraction}")
        X, X_val, y, y_val = train_test_split(X, y, test_size=validation_fraction, stratify=y,
                                              random_state=random_state)
    X_val, y_val = np.asarray(X_val), np.asarray(y_val)
    grid = list(ParameterGrid(param_grid))
    if not grid:
        raise ValueError("validation_search: param_grid is empty")
    if callable(estimator) and not hasattr(estimator, "fit"):
        build = estimator
    else:
        def build(params):
            return clone(estimator).set_params(**params)
    def score(model):
        labels = np.searchsorted(model.classes_, y_val)
        if not np.array_equal(model.classes_[np.clip(labels, 0, len(model.classes_) - 1)], y_val):
            raise ValueError("validation_search: the validation part holds labels the training part lacks")
        return evaluate(labels, decision_scores(model, X_val))

    choice, candidates, _ = fit_and_choose(grid, lambda params: (build(params).fit(X, y), {}), score,
                                           budgets=[max_bytes])
    rows = [{**c.setting, "macro_auc": c.metrics["macro_auc"], "accuracy": c.metrics["accuracy"],
             "sparsity": getattr(c.model, "sparsity_", np.nan), "n_params": getattr(c.model, "n_params_", np.nan),
             "model_bytes": c.size} for c in candidates]
    if choice.best(max_bytes) is None:
        sizes = [row["model_bytes"] for row in rows if row["model_bytes"] is not None]
        raise ValueError(f"validation_search: no setting fits max_bytes={max_bytes}"
                         + (f" (the smallest takes {min(sizes)})" if sizes else " (no size rule for this model)"))
    score, _, best = choice.best(max_bytes)
    params, model = best.setting, best.model
    if refit:
        model = build(params).fit(np.concatenate([X, X_val]), np.concatenate([y, y_val]))
    return SearchResult(model, params, float(score), pd.DataFrame(rows))


def _size(model):
    """The model's bytes, or None for a model type without a size rule (it then fits only an unbounded search)."""
    try:
        return model_bytes(model)
    except TypeError:
        return None
