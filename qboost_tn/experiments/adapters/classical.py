"""Classical peers of the annealer-trained learners: random forest, extra trees, RBF-SVM, k-nearest neighbours
and histogram gradient boosting (scikit-learn).

Each kind is tuned the way the annealer-trained learners are: every parameter whose default below is a list is
searched, the model with the best validation macro ROC-AUC is kept (fitted on the training part only, never
refitted on the validation part), and a config may replace a list by one value to fix it or by another list.
When the config sets ``budget_kib``, the choice is also made within each budget (a candidate larger than the
budget is dropped before choosing), so each budget gets the strongest peer that fits it. The forests' grids
therefore hold small forests too (few trees, few leaves), which only a budget would choose:

============================  ==============================================================================
kind                          default grid
============================  ==============================================================================
``random-forest``             ``n_estimators`` in {5, 10, 50, 200, 500} x ``max_leaf_nodes`` in {8, 32, unlimited}
                              x ``max_features`` in {"sqrt", 0.3}
``extra-trees``               the same grid, extremely randomised trees (no bootstrap, random thresholds)
``rbf-svm``                   ``C`` in {1, 10, 100}; ``gamma`` = "scale" (1 / (n_features · var(X))); one-vs-rest
``knn``                       ``n_neighbors`` in {1, 3, 5, 10}; distance-weighted votes
``gradient-boosting``         200 rounds, learning rate 0.1; ``min_samples_leaf`` in {5, 20}
============================  ==============================================================================
"""
from __future__ import annotations

from ...eval import model_bytes
from ..schema import Field, Float, Int, Nullable, OneOf, Record, Str
from .base import N_JOBS, Outcome, Timer, estimator_scores, fit_choices, register, searchable


def _outcomes(choices, task, timer, n_params):
    """One outcome per choice of :func:`fit_choices` (one per budget that chose a different model)."""
    for model, info, variant in choices:
        scores, proba = estimator_scores(model, task.X_eval, task.n_classes)
        yield Outcome(scores=scores, proba=proba, fit_time=timer.seconds, n_params=int(n_params(model)), info=info,
                      model_bytes=model_bytes(model), variant=variant)


def _tree_nodes(trees) -> int:
    return sum(int(tree.tree_.node_count) for tree in trees)


FOREST_FIELDS = {
    "n_estimators": Field(searchable(Int(min=1)), [5, 10, 50, 200, 500], "number of trees; a list is searched"),
    "max_leaf_nodes": Field(searchable(Nullable(Int(min=2))), [8, 32, None],
                            "leaves per tree (null: grown until pure); a list is searched"),
    "max_features": Field(searchable(OneOf(Float(0.0, 1.0, closed="right"), Str(choices=("sqrt", "log2")))),
                          ["sqrt", 0.3], "features tried per split: a fraction, 'sqrt' or 'log2'; a list is searched"),
    "min_samples_leaf": Field(searchable(Int(min=1)), 1, "smallest leaf"),
    "n_jobs": Field(N_JOBS, 1, "threads for fitting and predicting (-1: every core)"),
}
_FOREST_SEARCHED = ["n_estimators", "max_leaf_nodes", "max_features", "min_samples_leaf"]


def _forest(cls, task, params):
    def build(p):
        return cls(n_estimators=p["n_estimators"], max_leaf_nodes=p["max_leaf_nodes"], max_features=p["max_features"],
                   min_samples_leaf=p["min_samples_leaf"], n_jobs=p["n_jobs"], random_state=task.seed)

    with Timer() as timer:
        choices = fit_choices(build, params, task, _FOREST_SEARCHED)
    # A stored tree node holds a feature index and a threshold (or a leaf's class distribution).
    yield from _outcomes(choices, task, timer, lambda m: _tree_nodes(m.estimators_))


@register("random-forest", Record(FOREST_FIELDS), family="classical")
def random_forest(task, params):
    """Random forest; trees, leaves and max_features searched on the validation part (within each budget)."""
    from sklearn.ensemble import RandomForestClassifier

    yield from _forest(RandomForestClassifier, task, params)


@register("extra-trees", Record(FOREST_FIELDS), family="classical")
def extra_trees(task, params):
    """Extremely randomised trees; trees, leaves and max_features searched on validation (within each budget)."""
    from sklearn.ensemble import ExtraTreesClassifier

    yield from _forest(ExtraTreesClassifier, task, params)


@register("rbf-svm", Record({
    "C": Field(searchable(Float(0.0, None, exclusive=True)), [1.0, 10.0, 100.0],
               "inverse regularisation strength; a list is searched"),
    "gamma": Field(searchable(OneOf(Float(0.0, None, exclusive=True), Str(choices=("scale", "auto")))), "scale",
                   "RBF kernel width exp(-gamma |x - x'|^2); 'scale' = 1 / (n_features var(X))"),
}), family="classical")
def rbf_svm(task, params):
    """Support-vector machine with an RBF kernel, one-vs-rest for several classes; C searched."""
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    def build(p):
        svm = SVC(C=p["C"], gamma=p["gamma"], random_state=task.seed)
        # One margin per class against the rest: scikit-learn's one-vs-one votes (its "ovr" shape) are nearly
        # discrete, which costs ~0.01 macro ROC-AUC on MNIST 20x20 / 150 samples.
        return svm if task.n_classes == 2 else OneVsRestClassifier(svm)

    with Timer() as timer:
        choices = fit_choices(build, params, task, ["C", "gamma"])
    yield from _outcomes(choices, task, timer, lambda model: sum(m.support_vectors_.size + m.dual_coef_.size
                                                                 for m in getattr(model, "estimators_", [model])))


@register("knn", Record({
    "n_neighbors": Field(searchable(Int(min=1)), [1, 3, 5, 10], "neighbours that vote; a list is searched"),
    "weights": Field(searchable(Str(choices=("uniform", "distance"))), "distance",
                     "'distance': closer neighbours weigh more"),
}), family="classical")
def knn(task, params):
    """k-nearest neighbours (Euclidean on the scaled features); n_neighbors searched."""
    from sklearn.neighbors import KNeighborsClassifier

    def build(p):
        # Never more neighbours than training samples (a grid written for large data still runs on small).
        return KNeighborsClassifier(n_neighbors=min(p["n_neighbors"], len(task.y_train)), weights=p["weights"])

    with Timer() as timer:
        choices = fit_choices(build, params, task, ["n_neighbors", "weights"])
    # The model is its training set.
    yield from _outcomes(choices, task, timer, lambda model: task.X_train.size)


@register("gradient-boosting", Record({
    "learning_rate": Field(searchable(Float(0.0, None, exclusive=True)), 0.1, "shrinkage per round"),
    "max_iter": Field(searchable(Int(min=1)), 200, "boosting rounds (trees per class)"),
    "max_leaf_nodes": Field(searchable(Int(min=2)), 15, "leaves per tree"),
    "min_samples_leaf": Field(searchable(Int(min=1)), [5, 20], "smallest leaf; a list is searched"),
    "n_jobs": Field(N_JOBS, 1, "OpenMP threads for fitting and predicting (-1: every core)"),
}), family="classical")
def gradient_boosting(task, params):
    """Histogram gradient boosting (scikit-learn's HistGradientBoostingClassifier); min_samples_leaf searched."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from joblib import effective_n_jobs
    from threadpoolctl import threadpool_limits

    def build(p):
        # No internal early stopping: the validation part is for the grid, as for every other kind.
        return HistGradientBoostingClassifier(learning_rate=p["learning_rate"], max_iter=p["max_iter"],
                                              max_leaf_nodes=p["max_leaf_nodes"],
                                              min_samples_leaf=p["min_samples_leaf"], early_stopping=False,
                                              random_state=task.seed)

    # Its OpenMP loops spin-wait for every thread: on cores shared with other work one fit took 160 s with all
    # threads and 2 s with one (MNIST 150, measured), so it gets the thread count the row asks for, like n_jobs.
    with threadpool_limits(effective_n_jobs(params["n_jobs"]), user_api="openmp"):
        with Timer() as timer:
            choices = fit_choices(build, params, task,
                                  ["learning_rate", "max_iter", "max_leaf_nodes", "min_samples_leaf"])
        yield from _outcomes(choices, task, timer,
                             lambda model: sum(p.nodes.size for predictors in model._predictors for p in predictors))
