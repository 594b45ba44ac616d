"""The ordinary baseline: scikit-learn's logistic regression, stored as float32 or quantised to int8.

``precision: int8`` quantises each class's weights to int8 with one float scale per class (symmetric,
``scale = max |w| / 127``) after fitting, and predicts with the quantised weights, so the validation choice and
the scores are those of the model that would be stored. ``l1_ratio`` may be a list: an L1 (sparse) fit is
stored as its non-zeros and their indices where that is smaller (:func:`qboost_tn.eval.model_bytes`), which a
size budget may prefer.

With several classes the per-class AUC ranks samples by log-probability, as every row does
(:func:`qboost_tn.search.decision_scores`).
"""
from __future__ import annotations

import numpy as np

from ..schema import Field, Float, Int, Record, Str
from .base import Outcome, Timer, estimator_scores, fit_choices, register, searchable


@register("logistic-regression", Record({
    "C": Field(searchable(Float(0.0, None, exclusive=True)), 1.0,
               "inverse regularisation strength; a list is searched on the validation part"),
    "l1_ratio": Field(searchable(Float(0.0, 1.0)), 0.0,
                      "0 = L2 penalty, 1 = L1 (sparse weights), between = elastic net; a list is searched"),
    "precision": Field(Str(choices=("float32", "int8")), "float32",
                       "how the weights are stored and used: float32, or int8 with one scale per class"),
    "max_iter": Field(Int(min=1), 1000),
}), family="classical")
def logistic_regression(task, params):
    """Logistic regression (multinomial for several classes); weights double as per-class weight maps."""
    from sklearn.linear_model import LogisticRegression

    from ...eval import model_bytes
    from ._int8 import Int8LogisticRegression

    def build(p):
        # lbfgs has no L1 term; saga handles every l1_ratio.
        model = LogisticRegression(C=p["C"], l1_ratio=p["l1_ratio"], solver="lbfgs" if p["l1_ratio"] == 0 else "saga",
                                   max_iter=p["max_iter"], random_state=task.seed)
        return Int8LogisticRegression(estimator=model) if p["precision"] == "int8" else model

    with Timer() as timer:
        choices = fit_choices(build, params, task, ["C", "l1_ratio"])
    for model, info, variant in choices:
        coef = getattr(model, "estimator", model).coef_
        scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
        yield Outcome(scores=scores, proba=proba, fit_time=timer.seconds,
                      n_params=int(coef.size + getattr(model, "estimator", model).intercept_.size),
                      sparsity=float(np.mean(coef == 0)) if params["l1_ratio"] != 0 else None,
                      weight_maps=coef, info=info, model_bytes=model_bytes(model), variant=variant,
                      model=model)
