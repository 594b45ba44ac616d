"""Annealer-trained learners: the shallow-wide Ising model and classic QBoost (``qboost_tn.qubo``).

Defaults are read from the estimators themselves, so a config that leaves a parameter out gets exactly what
``ShallowWideClassifier()`` / ``QBoostClassifier()`` would use. Any parameter marked searchable may be a list;
the combination with the best validation macro ROC-AUC is kept.
"""
from __future__ import annotations

import numpy as np

from ...qubo import SOLVERS, QBoostClassifier, ShallowWideClassifier
from ..schema import Bool, Field, Float, Int, Nullable, OneOf, Record, Str
from .base import Outcome, Timer, estimator_scores, fit_tuned, register, searchable

SW = ShallowWideClassifier().get_params()
QB = QBoostClassifier().get_params()
_SOLVING = {
    "solver": Str(choices=tuple(SOLVERS)),
    "num_reads": Int(min=1),
    "num_sweeps": Int(min=1),
    "n_jobs": Nullable(Int()),
}


def _fields(defaults, specs):
    return {key: Field(spec, defaults[key]) for key, spec in specs.items()}


def _outcome(model, task, timer, info):
    scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
    maps = np.asarray(model.weight_maps())
    maps = maps.reshape(maps.shape[0], -1)  # (tasks, H, W) for square inputs; the runner reshapes itself
    return Outcome(scores=scores, proba=proba, fit_time=timer.seconds, n_params=int(model.n_params_),
                   sparsity=float(model.sparsity_), weight_maps=maps, info=info)


def _estimator(cls, task, p):
    p = dict(p, random_state=task.seed, verbose=int(task.progress))
    return cls(**p)


@register("shallow-wide", Record(_fields(SW, {
    "n_layers": searchable(Int(min=1)),
    "k": searchable(OneOf(Float(0.0, None, exclusive=True), Str(choices=("auto",)))),
    "lam": searchable(Float(min=0.0)),
    "regularizer": searchable(Str(choices=("squared", "linear"))),
    "batch_size": Nullable(Int(min=2)),
    "zero_to_minus_one": OneOf(Bool(), Str(choices=("auto",))),
    "class_weight": Nullable(Str(choices=("balanced",))),
    **_SOLVING,
})), family="annealer")
def shallow_wide(task, params):
    """Shallow-wide Ising learner (spin-layer weights trained by annealing); lists of n_layers/k/lam are searched."""
    with Timer() as timer:
        model, info = fit_tuned(lambda p: _estimator(ShallowWideClassifier, task, p), params, task,
                                ["n_layers", "k", "lam", "regularizer"])
    yield _outcome(model, task, timer, info)


@register("qboost", Record(_fields(QB, {
    "lam": searchable(Nullable(Float(min=0.0))),
    **_SOLVING,
})), family="annealer")
def qboost(task, params):
    """Classic QBoost: annealed selection of decision stumps; a list of lam values is searched."""
    with Timer() as timer:
        model, info = fit_tuned(lambda p: _estimator(QBoostClassifier, task, p), params, task, ["lam"])
    info["selected"] = int(model.selected_.sum())
    yield _outcome(model, task, timer, info)
