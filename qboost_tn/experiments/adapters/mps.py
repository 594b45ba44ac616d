"""The matrix-product-state classifier (:class:`qboost_tn.MPSClassifier`), tuned on the validation part.

The schema is generated from the estimator (:func:`qboost_tn.experiments.params.estimator_record`): a config
that leaves a parameter out gets what ``MPSClassifier()`` uses, and ``qboost-tn train --model mps`` offers
the same options. ``max_bond`` and ``learning_rate`` may be lists, searched on the validation part.

The shipped configs search Adam's learning rate over {1e-3, 3e-3} at chi = 10 with 20 epochs of batch 32:
the chain has one site per feature (400 on MNIST 20x20), so each fit costs about a minute on a shared core,
and on MNIST 20x20 from 150 samples chi = 10 beat chi = 4 on validation while larger rates (1e-2) diverged;
the estimator's own batch of 128 suits thousands of samples, not 150. Each row also carries the chain's
bond entanglement entropy (after training, and over epochs) as figures, and its per-class input sensitivity
as weight maps.
"""
from __future__ import annotations

from ..params import estimator_record
from ..schema import Record
from .base import RENAMED, TORCH_N_JOBS, Outcome, Timer, estimator_scores, fit_choices, register, with_torch_threads

SEARCHED = ["max_bond", "learning_rate"]


def _estimator_record():
    # Built when a config first names the kind: importing the estimator loads scikit-learn (start-up).
    from ...mps import MPSClassifier

    return estimator_record(MPSClassifier, searchable=SEARCHED)


def _schema():
    from ...mps import MPSClassifier

    return Record({**_estimator_record().fields, "n_jobs": TORCH_N_JOBS}, source=MPSClassifier, renamed=RENAMED)


@register("mps", _schema, family="tensor-network")
@with_torch_threads
def mps(task, params):
    """Matrix-product-state classifier (Stoudenmire & Schwab); per-class input sensitivity as weight maps."""
    from ...eval import model_bytes
    from ...mps import MPSClassifier

    fields = _estimator_record().fields

    def build(p):
        return MPSClassifier(**{k: v for k, v in p.items() if k in fields}, random_state=task.seed)

    with Timer() as timer:
        choices = fit_choices(build, params, task, SEARCHED)
    for model, info, variant in choices:
        scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
        yield Outcome(scores=scores, proba=proba, fit_time=timer.seconds, n_params=model.n_params_,
                      weight_maps=model.sensitivity_,
                      info={**info, "max_chi": int(model.core_shapes_[:, 3].max()),
                            "train_accuracy": model.history_["train_accuracy"][-1]},
                      figures=_entropy_figures(model), model_bytes=model_bytes(model), variant=variant, model=model)


def _entropy_figures(model):
    """Entropy per bond after training, and its evolution over epochs at a dozen evenly spaced bonds."""

    from ...mps.plots import plot_entropy_evolution, plot_entropy_profile

    return {"mps_entropy_profile": plot_entropy_profile(model),
            "mps_entropy_evolution": plot_entropy_evolution(model, bonds=12)}
