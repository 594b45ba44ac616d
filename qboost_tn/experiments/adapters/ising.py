"""Annealer-trained learners: the shallow-wide Ising model (``qboost_tn.qubo``; QBoost is in :mod:`.qboost`).

Schemas are generated from the estimators' own ``_parameter_constraints`` and defaults
(:func:`qboost_tn.experiments.params.estimator_record`), so a config that leaves a parameter out gets exactly
what ``ShallowWideClassifier()`` would use. Any parameter marked searchable may be a list;
the combination with the best validation macro ROC-AUC is kept.
"""
from __future__ import annotations

import numpy as np

from ..params import estimator_record
from .base import Outcome, Timer, estimator_scores, fit_choices, register


def _outcome(model, task, timer, info, variant=None):
    scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
    maps = np.asarray(model.weight_maps())
    maps = maps.reshape(maps.shape[0], -1)  # (tasks, H, W) for square inputs; the runner reshapes itself
    info = {**info, **getattr(model, "solver_report_", {})}  # a QPU-shaped solver's qubits, chains, QPU time
    return Outcome(scores=scores, proba=proba, fit_time=timer.seconds, n_params=int(model.n_params_),
                   sparsity=float(model.sparsity_), weight_maps=maps, info=info, model=model, variant=variant)


def _estimator(cls, task, p):
    p = dict(p, random_state=task.seed, verbose=int(task.progress))
    if task.image_shape is not None and len(task.image_shape) == 2:
        p["image_shape"] = tuple(task.image_shape)  # what features="patches" convolves over
    return cls(**p)


# Searched on the validation part when given as lists: the feature map, its width and bandwidth, and λ are
# what a preset tunes (configs/small-data.yaml).
SEARCHED = ["features", "n_components", "bandwidth", "n_layers", "k", "lam", "regularizer"]


def _schema():
    from ...qubo import ShallowWideClassifier

    return estimator_record(ShallowWideClassifier, searchable=SEARCHED)


@register("shallow-wide", _schema, family="annealer")
def shallow_wide(task, params):
    """Shallow-wide Ising learner (spin-layer weights trained by annealing); list-valued settings are searched."""
    from ...qubo import ShallowWideClassifier, warm_up

    warm_up()  # numba's start-up (cache load, or compile) is not the model's fit time
    with Timer() as timer:
        choices = fit_choices(lambda p: _estimator(ShallowWideClassifier, task, p), params, task, SEARCHED)
    for model, info, variant in choices:
        yield _outcome(model, task, timer, info, variant)
