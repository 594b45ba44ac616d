"""The ordinary baseline: scikit-learn's logistic regression."""
from __future__ import annotations

import numpy as np

from ..schema import Field, Float, Int, List, OneOf, Record
from . import Outcome, Timer, candidates, estimator_scores, macro_auc, register

_C = OneOf(Float(0.0, None, exclusive=True), List(Float(0.0, None, exclusive=True), min_len=1))


@register("logistic-regression", Record({
    "C": Field(_C, 1.0, "inverse regularisation strength; a list is searched on the validation part"),
    "l1_ratio": Field(Float(0.0, 1.0), 0.0, "0 = L2 penalty, 1 = L1 (sparse weights), between = elastic net"),
    "max_iter": Field(Int(min=1), 1000),
}))
def logistic_regression(task, params):
    """Logistic regression (multinomial for several classes); weights double as per-class weight maps."""
    from sklearn.linear_model import LogisticRegression

    Cs = candidates(params["C"])
    if len(Cs) > 1 and not task.has_val:
        raise ValueError("logistic-regression: a list of C values needs a validation part (split.n_val > 0)")
    # lbfgs has no L1 term; saga handles every l1_ratio.
    solver = "lbfgs" if params["l1_ratio"] == 0 else "saga"
    best, chosen = None, {}
    with Timer() as timer:
        for C in Cs:
            model = LogisticRegression(C=C, l1_ratio=params["l1_ratio"], solver=solver,
                                       max_iter=params["max_iter"], random_state=task.seed)
            model.fit(task.X_train, task.y_train)
            if len(Cs) == 1:
                best = model
                break
            score = macro_auc(task.y_val, estimator_scores(model, task.X_val, task.n_classes)[0])
            if best is None or score > chosen["val_macro_auc"]:
                best, chosen = model, {"C": C, "val_macro_auc": score}
    scores, proba = estimator_scores(best, task.X_eval, task.n_classes)
    coef = best.coef_
    yield Outcome(
        scores=scores, proba=proba, fit_time=timer.seconds,
        n_params=int(coef.size + best.intercept_.size),
        sparsity=float(np.mean(coef == 0)) if params["l1_ratio"] > 0 else None,
        weight_maps=coef,
        info=chosen,
    )
