"""QBoost (``qboost_tn.QBoostClassifier``): an annealer-chosen, weighted subset of a dictionary of randomised
trees (and stumps, with ``weak_learners: trees+stumps``).

The schema is generated from the estimator's ``_parameter_constraints`` and defaults, so a config that leaves a
parameter out gets what ``QBoostClassifier()`` uses. These parameters may be given as lists, searched on the
validation part (fits on the training part only; the best validation macro ROC-AUC is kept):

=================  ==========================================================================================
parameter          what it trades; a small grid worth searching
=================  ==========================================================================================
``n_estimators``   trees in the dictionary; fewer keep a model small: ``[100, 600]``
``keep_fraction``  score scale, hence about how much of the dictionary is kept: ``[0.25, 0.5, 1.0]``
``lam``            sparsity penalty λ (squared-error units for keeping everything): ``[0.0, 0.01, 0.1]``
``n_layers``       weight levels ``0, 1/L, …, 1``: ``[1, 2]``
``depth_levels``   tree depths in the dictionary (fully grown, 8, 4, …): ``[1, 3]``
``max_features``   features tried per split: ``["sqrt", 0.3]``
=================  ==========================================================================================

Each setting of a grid is a full fit (about 5 to 15 s for ten classes on 150 samples), so keep grids to two
or three settings. The outcome's ``info`` holds ``selected`` (learners kept over all classes) and, for more
than two classes, ``selected[<class>]`` (learners that class kept).
"""
from __future__ import annotations

from .base import register
from .ising import annealer_outcome, annealer_schema, fit_annealer

SEARCHABLE = ["n_estimators", "keep_fraction", "lam", "n_layers", "depth_levels", "max_features"]


@register("qboost", annealer_schema("QBoostClassifier", SEARCHABLE), family="annealer")
def qboost(task, params):
    """QBoost ensemble selector over randomised trees; lists of keep_fraction/lam/n_layers/depth_levels/max_features are searched."""
    from ...qubo import QBoostClassifier

    choices, timer = fit_annealer(
        lambda p: QBoostClassifier(**dict(p, random_state=task.seed, verbose=int(task.progress))), task, params,
        SEARCHABLE)
    for model, info, variant in choices:
        info["selected"] = int(model.n_selected_.sum())
        if len(model.n_selected_) > 1:  # one-vs-rest: one count per class, named like the auc[<class>] columns
            info.update({f"selected[{name}]": int(n) for name, n in zip(task.class_names, model.n_selected_)})
        yield annealer_outcome(model, task, timer, info, variant)
