"""The ordinary baseline: scikit-learn's logistic regression."""
from __future__ import annotations

import numpy as np

from ...eval import model_bytes
from ..schema import Field, Float, Int, Record
from .base import Outcome, Timer, estimator_scores, fit_tuned, register, searchable


@register("logistic-regression", Record({
    "C": Field(searchable(Float(0.0, None, exclusive=True)), 1.0,
               "inverse regularisation strength; a list is searched on the validation part"),
    "l1_ratio": Field(Float(0.0, 1.0), 0.0, "0 = L2 penalty, 1 = L1 (sparse weights), between = elastic net"),
    "max_iter": Field(Int(min=1), 1000),
}), family="classical")
def logistic_regression(task, params):
    """Logistic regression (multinomial for several classes); weights double as per-class weight maps."""
    from sklearn.linear_model import LogisticRegression

    def build(p):
        # lbfgs has no L1 term; saga handles every l1_ratio.
        return LogisticRegression(C=p["C"], l1_ratio=p["l1_ratio"], solver="lbfgs" if p["l1_ratio"] == 0 else "saga",
                                  max_iter=p["max_iter"], random_state=task.seed)

    with Timer() as timer:
        model, info = fit_tuned(build, params, task, ["C"])
    scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
    yield Outcome(scores=scores, proba=proba, fit_time=timer.seconds,
                  n_params=int(model.coef_.size + model.intercept_.size),
                  sparsity=float(np.mean(model.coef_ == 0)) if params["l1_ratio"] > 0 else None,
                  weight_maps=model.coef_, info=info, model_bytes=model_bytes(model))
