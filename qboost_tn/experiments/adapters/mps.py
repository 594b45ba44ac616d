"""The matrix-product-state classifier (:class:`qboost_tn.MPSClassifier`), tuned on the validation part.

The default grid, Adam learning rate {1e-3, 3e-3} at bond dimension chi = 10, is small on purpose: the chain
has one site per feature (400 on MNIST 20x20), so each fit costs about a minute on a shared core, and on MNIST
20x20 from 150 samples chi = 10 beat chi = 4 on validation while larger rates (1e-2) diverged. Each row also carries
the chain's bond entanglement entropy (after training, and over epochs) as figures, and its per-class input
sensitivity as weight maps.
"""
from __future__ import annotations

from ..schema import Field, Float, Int, Record, Str
from .base import Outcome, Timer, estimator_scores, fit_choices, register, searchable


@register("mps", Record({
    "max_bond": Field(searchable(Int(min=1)), 10, "bond dimension chi; a list is searched on validation"),
    "learning_rate": Field(searchable(Float(0.0, None, exclusive=True)), [1e-3, 3e-3],
                           "step size (Adam for 'gradient', gradient descent for 'sweep'); a list is searched"),
    "method": Field(Str(choices=("gradient", "sweep")), "gradient",
                    "'gradient': Adam on all cores; 'sweep': the paper's two-site DMRG sweeps"),
    "feature_map": Field(Str(choices=("cos-sin", "linear")), "cos-sin", "local map of each scaled feature"),
    "n_epochs": Field(Int(min=1), 20, "epochs ('gradient') or sweeps ('sweep')"),
    "batch_size": Field(Int(min=1), 32),
    "threads": Field(Int(min=1), 1, "torch intra-op threads while fitting"),
}), family="tensor-network")
def mps(task, params):
    """Matrix-product-state classifier (Stoudenmire & Schwab); per-class input sensitivity as weight maps."""
    import torch

    from ...eval import model_bytes
    from ...mps import MPSClassifier

    def build(p):
        return MPSClassifier(max_bond=p["max_bond"], learning_rate=p["learning_rate"], method=p["method"],
                             feature_map=p["feature_map"], n_epochs=p["n_epochs"], batch_size=p["batch_size"],
                             random_state=task.seed)

    threads = torch.get_num_threads()
    torch.set_num_threads(params["threads"])
    try:
        with Timer() as timer:
            choices = fit_choices(build, params, task, ["max_bond", "learning_rate"])
    finally:
        torch.set_num_threads(threads)
    for model, info, variant in choices:
        scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
        yield Outcome(scores=scores, proba=proba, fit_time=timer.seconds, n_params=model.n_params_,
                      weight_maps=model.sensitivity_,
                      info={**info, "max_chi": int(model.core_shapes_[:, 3].max()),
                            "train_accuracy": model.history_["train_accuracy"][-1]},
                      figures=_entropy_figures(model), model_bytes=model_bytes(model), variant=variant)


def _entropy_figures(model):
    """Entropy per bond after training, and its evolution over epochs at a dozen evenly spaced bonds."""

    from ...mps.plots import plot_entropy_evolution, plot_entropy_profile

    return {"mps_entropy_profile": plot_entropy_profile(model),
            "mps_entropy_evolution": plot_entropy_evolution(model, bonds=12)}
