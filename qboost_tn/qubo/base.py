"""What every annealer-trained classifier shares: input checks, ±1 one-vs-rest targets, seeded parallel
solves, and probabilities and predictions from per-class scores."""
from __future__ import annotations

from numbers import Integral

import dimod
import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._sample_weight import positive_sample_weight
from . import solvers
# The default solver's module (compiled kernels, scipy's factorisations) loads with the learners, not inside
# the first fit: a fresh process's first fit then costs about what later ones do.
from .anneal import layered as _default_solver  # noqa: F401
from .parallel import EXECUTORS, run_tasks
from .solvers import solve
from .._text import shown


# How sharply predict_proba's logistic reads a score fitted to the targets ±1 (see predict_proba).
PROBA_SHARPNESS = 5.0
# Fitted attributes every annealed learner's saved model carries (qboost_tn.persistence).
PERSISTED_COMMON = {"classes_": ("biufU", 1), "n_features_in_": int, "feature_names_in_": ("U", 1),
                    "solver_": (str, type(None)), "energies_": ("f", 1), "sparsity_": float, "n_params_": int}


class RegisteredSolvers(StrOptions):
    """The solver names registered in :data:`qboost_tn.qubo.solvers.SOLVERS` when a parameter is validated.

    A :class:`~sklearn.utils._param_validation.StrOptions` whose ``options`` are read at validation time, not
    frozen at import, so a solver registered later (a plugin) is accepted by estimators created before.
    ``registry`` names the registry for schemas stored without importing this module
    (:class:`qboost_tn.experiments.schema.Str`).
    """

    registry = "qboost_tn.qubo.solvers:SOLVERS"

    def __init__(self):
        # Options.__init__ would assign ``options``; here it is a live view of the registry.
        super(StrOptions.__mro__[1], self).__init__()
        self.type = str
        self.deprecated = set()

    @property
    def options(self):
        return set(solvers.SOLVERS)

    def __str__(self):
        return f"a str among {{{', '.join(repr(name) for name in sorted(self.options))}}}"


# Rules of the parameters every annealer-trained classifier shares, in scikit-learn's declarative form
# (``_parameter_constraints``); each estimator merges this dict into its own. ``n_jobs`` follows joblib's
# convention: -1 is every core, -2 all but one, and 0 means nothing, so it is refused.
SOLVING_CONSTRAINTS = {
    "solver": [RegisteredSolvers(), solvers.LayeredSolver, dimod.Sampler],
    "num_reads": [Interval(Integral, 1, None, closed="left"), None],
    "num_sweeps": [Interval(Integral, 1, None, closed="left"), None],
    "n_jobs": [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
    # A dask.distributed.Client and a concurrent.futures.Executor both submit work.
    "executor": [StrOptions(set(EXECUTORS)), HasMethods(["submit"]), None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def task_seeds(random_state, n_tasks: int) -> list[int]:
    """One independent seed in [0, 2^31) per task, fixed by ``random_state`` and the task's position only.

    So the same task gets the same seed whether tasks run serially or in parallel, in any order. (dwave-neal
    rejects seeds of 2^31 and above, despite its message.)
    """
    if isinstance(random_state, (int, np.integer)):
        entropy = int(random_state)
    else:  # None (fresh) or a RandomState: draw the root entropy from it
        entropy = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    children = np.random.SeedSequence(entropy).spawn(n_tasks)
    return [int(child.generate_state(1, np.uint32)[0] >> 1) for child in children]


def solve_task(task):
    """Worker entry point: ``task = (problem, solver, num_reads, num_sweeps, seed)`` -> (spins, energy, report),
    ``report`` the solver's per-problem facts (``info["qpu_report"]``, None for annealers)."""
    problem, solver, num_reads, num_sweeps, seed = task
    spins, energy, info = solve(problem, solver, num_reads=num_reads, num_sweeps=num_sweeps, seed=seed,
                                with_info=True)
    return spins, energy, info.get("qpu_report")


class AnnealedClassifier(ClassifierMixin, BaseEstimator):
    """Base of :class:`ShallowWideClassifier` and :class:`QBoostClassifier` (not used on its own).

    Subclasses take the solving parameters (``solver``, ``num_reads``, ``num_sweeps``, ``n_jobs``,
    ``executor``, ``random_state``, ``verbose``), declare their rules in ``_parameter_constraints`` (merging
    :data:`SOLVING_CONSTRAINTS`), and implement ``_fit`` (on validated, weighted rows), ``_check_fits`` (sizes
    before allocating) and ``decision_function``.
    """

    _parameter_constraints: dict = dict(SOLVING_CONSTRAINTS)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Build one annealing problem per class (and batch) from the training data, solve them, keep the best
        spins.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Weight of each row in every loss the learner fits (and in its intercept): an integer weight counts
            like that many copies of the row, and rows of weight 0 are left out entirely (they set no scaling,
            grow no tree and fit no feature map). The class docstring says where else a learner uses them.

        Returns
        -------
        self
        """
        self._check_params()
        X, y, targets = self._validate_training_data(X, y)
        X, y, targets, row_weights = self._weighted_rows(X, y, targets, sample_weight)
        self._check_fits(len(y), X.shape[1], len(targets))
        return self._fit(X, y, targets, row_weights)

    def _check_params(self):
        """What the declared constraints cannot say, checked before the data (none by default)."""

    def _validate_training_data(self, X, y):
        """Validated X (float64), y, and the ±1 targets: one row per binary task (one task for two classes)."""
        solvers.preflight(self.solver)  # e.g. "dwave" without an Ocean configuration: fail before any work
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; y holds only "
                             f"class {shown(classes[0].item())}")  # 1, not np.int64(1)
        self.classes_ = classes
        tasks = classes[1:] if len(classes) == 2 else classes
        targets = np.where(y[None, :] == tasks[:, None], 1.0, -1.0)
        return X, y, targets

    def _solve_bytes(self, n_features) -> int:
        """Bytes one solve's reads take at most (``num_reads`` and ``num_sweeps`` are a user's numbers): per
        read the layer sums (int64) and energies' float copy, and the spins in the sample set and their
        reordered copies; the β schedule holds one float per sweep."""
        reads, sweeps = self.num_reads or 16, self.num_sweeps or 1000
        return reads * (16 * n_features + 4 * int(self.n_layers) * n_features) + 8 * sweeps

    def _weighted_rows(self, X, y, targets, sample_weight):
        """(X, y, targets, weights) keeping the rows of positive ``sample_weight`` (weights None without one).

        A row of weight 0 is as if it were absent: it sets no scaling, grows no tree and fits no feature map.
        """
        keep, weights = positive_sample_weight(sample_weight, X)
        if keep is None:
            return X, y, targets, weights
        return X[keep], y[keep], targets[:, keep], weights

    def _solve(self, problems, desc="solves"):
        """Best spins and energies of every problem, one seed per problem, in problem order."""
        seeds = task_seeds(self.random_state, len(problems))
        tasks = [(p, self.solver, self.num_reads, self.num_sweeps, s) for p, s in zip(problems, seeds)]
        results = run_tasks(solve_task, tasks, n_jobs=self.n_jobs, executor=self.executor,
                            progress=bool(self.verbose), desc=desc)
        self.solver_ = solvers.solver_name(self.solver)  # what was used, for the saved model and reports
        energies = np.array([r[1] for r in results])
        self._report_solver([r[2] for r in results], problems, seeds, energies)
        return [r[0] for r in results], energies

    def _report_solver(self, reports, problems, seeds, energies):
        """``solver_report_`` when the solver reports per-problem facts (a QPU-shaped solver,
        :class:`~qboost_tn.qubo.qpu.embedded.EmbeddedSolver`): its merged facts and the relative energy gap to the
        default solver on the same problems and seeds (``energy_gap`` mean, ``energy_gap_max``)."""
        self.__dict__.pop("solver_report_", None)
        if not any(reports):
            return
        from .qpu.embedded import merge_reports

        tasks = [(p, solvers.DEFAULT_SOLVER, None, None, s) for p, s in zip(problems, seeds)]
        default = np.array([r[1] for r in run_tasks(solve_task, tasks, n_jobs=self.n_jobs, executor=self.executor,
                                                    progress=bool(self.verbose), desc="default solver")])
        gap = (energies - default) / np.maximum(np.abs(default), np.finfo(np.float64).tiny)
        self.solver_report_ = {**merge_reports(reports), "energy_gap": float(gap.mean()),
                               "energy_gap_max": float(gap.max())}

    def __sklearn_is_fitted__(self):
        # Fitted once the solutions are in, not when a failed fit has only validated the input.
        return hasattr(self, "energies_")

    def predict_proba(self, X):
        """Class probabilities: a logistic of each one-vs-rest score (fitted to ±1), rows normalised.

        ``sigmoid(PROBA_SHARPNESS · f)`` maps a score at its target ±1 to 0.993 / 0.007; scikit-learn's
        one-vs-rest wrapper normalises per-class probabilities the same way. Ranking samples of several classes
        by these (:func:`qboost_tn.search.decision_scores`), the sharpness mattered: on tuning seeds, 5
        instead of 2 gained 0.002-0.003 macro AUC on MNIST patch maps and 0.014-0.016 on skewed counts, where
        the flat logistic saturated the high scores of classes that overlap (4 to 8 all did about as well).
        """
        scores = self.decision_function(X)
        p = expit(PROBA_SHARPNESS * scores)
        if scores.ndim == 1:
            return np.column_stack([1.0 - p, p])
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _check_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
