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


def annealer_schema(name, searched):
    """The config schema of the annealer-trained estimator ``qboost_tn.qubo.<name>``, built when a config first
    names the kind (importing the estimator loads scikit-learn)."""
    def schema():
        from ... import qubo

        return estimator_record(getattr(qubo, name), searchable=searched)
    return schema


def fit_annealer(build, task, params, searched):
    """``(choices, timer)``: :func:`fit_choices` timed after numba's start-up (cache load, or compile), which is
    not the model's fit time."""
    from ...qubo import warm_up

    warm_up()
    with Timer() as timer:
        choices = fit_choices(build, params, task, searched)
    return choices, timer


def annealer_outcome(model, task, timer, info, variant=None):
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


# Searched on the validation part when given as lists: the feature map, its width and bandwidth, the training
# images' shifted copies, and λ are what a preset tunes (configs/small-data.yaml).
SEARCHED = ["features", "n_components", "bandwidth", "augment", "n_layers", "k", "lam", "regularizer"]


@register("shallow-wide", annealer_schema("ShallowWideClassifier", SEARCHED), family="annealer")
def shallow_wide(task, params):
    """Shallow-wide Ising learner (spin-layer weights trained by annealing); list-valued settings are searched."""
    from ...qubo import ShallowWideClassifier

    def build(p):
        if task.image_shape is None and p.get("scaling", "auto") == "auto":
            # A table: its columns arrive min-max scaled like pixels, which the estimator alone cannot tell apart;
            # standardised, every column meets the same penalty and lattice (0.004 macro AUC on skewed counts).
            p = {**p, "scaling": "standard"}
        return _estimator(ShallowWideClassifier, task, p)

    choices, timer = fit_annealer(build, task, params, SEARCHED)
    for model, info, variant in choices:
        yield annealer_outcome(model, task, timer, info, variant)
