"""One evaluation entry point for every learner, built on scikit-learn's metrics."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .._io import jsonable, write_json
from .._text import shown


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one model on one labelled set.

    Attributes
    ----------
    per_class : DataFrame
        One row per class: ``class``, ``auc`` (one-vs-rest ROC-AUC; NaN where the class has no positive or
        no negative sample), ``precision``, ``recall``, ``support``.
    summary : dict
        ``macro_auc`` (mean of the defined per-class AUCs; for binary tasks the AUC itself), ``accuracy``,
        ``macro_precision``, ``macro_recall``, ``log_loss`` (None without probabilities), ``n_samples``,
        ``threshold`` (how predictions were made).
    """

    per_class: pd.DataFrame
    summary: dict

    def to_frame(self) -> pd.DataFrame:
        """Per-class table with the summary repeated as columns: the shape result tables are stacked in."""
        return self.per_class.assign(**{k: v for k, v in self.summary.items() if k != "threshold"})

    def to_dict(self) -> dict:
        return jsonable({"summary": self.summary, "per_class": self.per_class.to_dict(orient="records")})

    def to_json(self, path) -> None:
        write_json(path, self.to_dict())

    def __getitem__(self, key):
        return self.summary[key]


def _validate(y_true, scores, proba):
    y_true = np.asarray(y_true)
    if y_true.dtype.kind not in "iubf":
        from ..errors import QBoostTNError

        raise QBoostTNError(f"evaluate: labels must be integers 0 .. n_classes - 1, got {y_true.dtype} values such as "
                            f"{shown(y_true.flat[0])} (map names to integers first: np.unique(y, return_inverse=True))")
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.ndim != 1:
        raise ValueError(f"evaluate: y_true must be 1-D, got shape {y_true.shape}")
    if scores.ndim not in (1, 2) or scores.shape[0] != y_true.shape[0]:
        raise ValueError(f"evaluate: scores of shape {scores.shape} do not match {y_true.shape[0]} labels")
    if not np.isfinite(scores).all():
        raise ValueError("evaluate: scores contain NaN or inf")
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        if proba.shape != scores.shape:
            raise ValueError(f"evaluate: proba shape {proba.shape} differs from scores shape {scores.shape}")
        if not np.isfinite(proba).all() or proba.min() < 0 or proba.max() > 1:
            raise ValueError("evaluate: proba must be finite and lie in [0, 1]")
    return y_true, scores, proba


def _n_classes(y_true, scores) -> int:
    n_classes = scores.shape[1] if scores.ndim == 2 else 2
    if scores.ndim == 2 and n_classes == 1:
        raise ValueError("evaluate: a single score column; pass binary scores as a 1-D array")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
        raise ValueError(f"evaluate: labels must lie in 0..{n_classes - 1} for scores of shape {scores.shape}")
    return n_classes


def _class_aucs(y_true, scores, n_classes) -> list:
    """One-vs-rest ROC-AUC of each class (NaN where it has no positive or no negative sample); binary scores
    rank class 1 by the score and class 0 by its negation."""
    aucs = []
    for c in range(n_classes):
        column = scores[:, c] if scores.ndim == 2 else scores if c == 1 else -scores
        positive = y_true == c
        aucs.append(skm.roc_auc_score(positive, column) if 0 < positive.sum() < len(y_true) else np.nan)
    return aucs


def _macro(aucs, scores) -> float:
    if scores.ndim == 1:
        return float(aucs[1])
    defined = [a for a in aucs if np.isfinite(a)]
    return float(np.mean(defined)) if defined else float("nan")


def macro_auc(y_true, scores) -> float:
    """Macro ROC-AUC, the figure every learner is compared and tuned by: for binary scores (n,) the AUC, for
    (n, C) the mean one-vs-rest AUC over the classes with positive and negative samples (NaN if none).

    Labels are ``0 .. C-1``; the same number as ``evaluate(y_true, scores)["macro_auc"]``, without the rest.
    """
    y_true, scores, _ = _validate(y_true, scores, None)
    return _macro(_class_aucs(y_true, scores, _n_classes(y_true, scores)), scores)


def evaluate(y_true, scores, class_names=None, proba=None) -> Evaluation:
    """ROC-AUC per class, macro AUC, accuracy, precision, recall and log-loss of one model.

    Parameters
    ----------
    y_true : array of int, shape (n,)
        Labels ``0 .. C-1``.
    scores : array, shape (n,) or (n, C)
        Binary tasks: one score per sample, larger meaning class 1 (e.g. ``decision_function``).
        Multi-class: one column per class; AUC is computed one-vs-rest per column.
    class_names : list of str, optional
        Names for the rows; default ``"0" .. "C-1"``.
    proba : array like ``scores``, optional
        Probabilities (of class 1 for binary tasks); enables log-loss.

    Threshold: multi-class predictions are the argmax of ``scores``. Binary predictions are
    ``proba >= 0.5`` when ``proba`` is given, else ``scores > 0`` (the sign convention of
    ``decision_function``). Precision and recall are per class from those predictions (0 where a class is
    never predicted) and macro-averaged.
    """
    y_true, scores, proba = _validate(y_true, scores, proba)
    n_classes = _n_classes(y_true, scores)
    names = [str(c) for c in (class_names if class_names is not None else range(n_classes))]
    if len(names) != n_classes:
        raise ValueError(f"evaluate: {len(names)} class names for {n_classes} classes")
    labels = np.arange(n_classes)

    if scores.ndim == 1:
        if proba is not None:
            pred, threshold = (proba >= 0.5).astype(int), "proba >= 0.5"
        else:
            pred, threshold = (scores > 0).astype(int), "score > 0"
    else:
        pred, threshold = scores.argmax(axis=1), "argmax of scores"

    aucs = _class_aucs(y_true, scores, n_classes)
    precision, recall, _, support = skm.precision_recall_fscore_support(
        y_true, pred, labels=labels, zero_division=0)
    per_class = pd.DataFrame({"class": names, "auc": aucs, "precision": precision, "recall": recall,
                              "support": support.astype(int)})

    log_loss = None
    if proba is not None:
        full = np.column_stack([1 - proba, proba]) if proba.ndim == 1 else proba
        full = np.clip(full, 1e-15, 1.0)
        log_loss = float(skm.log_loss(y_true, full / full.sum(axis=1, keepdims=True), labels=labels))
    summary = {
        "macro_auc": _macro(aucs, scores),
        "accuracy": float(skm.accuracy_score(y_true, pred)),
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
        "log_loss": log_loss,
        "n_samples": int(len(y_true)),
        "threshold": threshold,
    }
    return Evaluation(per_class, summary)
