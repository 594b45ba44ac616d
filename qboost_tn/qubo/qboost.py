"""QBoostClassifier: choose a subset of weak classifiers by annealing the QBoost selection energy."""
from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .base import AnnealedClassifier, reshape_maps
from .qboost_model import fit_stumps, qboost_problem, stump_outputs
from .solvers import DEFAULT_SOLVER


class QBoostClassifier(AnnealedClassifier):
    """Classic QBoost (Neven et al. 2008; dwave-examples/qboost), one-vs-rest for more than two classes.

    For each binary task with targets ``y = ±1``, weak classifiers ``h_i(x) ∈ {−1, +1}`` get selection
    weights ``w_i ∈ {0, 1}`` minimising

        E(w) = (1/S) Σ_s ((1/N) Σ_i w_i h_i(x_s) − y_s)² + λ Σ_i w_i

    and the score is ``f(x) = (1/N) Σ_i w_i h_i(x)``.

    Parameters
    ----------
    weak_learners : "stumps" or list of fitted classifiers, default="stumps"
        ``"stumps"``: one decision stump per feature, fitted per task (threshold among 16 quantiles, chosen
        by balanced accuracy). A list: fitted scikit-learn classifiers; ``h_i(x) = +1`` when classifier i
        predicts the task's class, else −1.
    lam : float or None, default=None
        λ ≥ 0 as in the energy above. ``None`` uses ``0.05 / N``: a weak classifier's vote weighs ``1/N``, so
        this keeps the trade-off the same for any number N of weak classifiers (``lam_`` holds the value).
    solver, num_reads, num_sweeps, n_jobs, executor, random_state, verbose
        As in :class:`~qboost_tn.ShallowWideClassifier`.

    Attributes
    ----------
    classes_, n_features_in_
    selected_ : ndarray of bool, shape (n_tasks, N)
        Which weak classifiers each task selected (``n_tasks`` = 1 for two classes).
    thresholds_, polarities_ : ndarray, shape (n_tasks, N)
        The stumps (``weak_learners="stumps"`` only); stump i looks at feature i.
    energies_ : ndarray, shape (n_tasks,)
    lam_ : float
    sparsity_ : float
        Fraction of weak classifiers not selected.
    n_params_ : int
        Numbers a deployed model stores: a threshold and a polarity per selected stump (one per selected
        classifier otherwise).
    """

    _parameter_constraints: dict = {
        **AnnealedClassifier._parameter_constraints,
        "weak_learners": [StrOptions({"stumps"}), list],
        "lam": [Interval(Real, 0, None, closed="left"), None],
    }

    def __init__(self, weak_learners="stumps", lam=None, solver=DEFAULT_SOLVER, num_reads=None, num_sweeps=None,
                 n_jobs=None, executor=None, random_state=None, verbose=0):
        self.weak_learners = weak_learners
        self.lam = lam
        self.solver = solver
        self.num_reads = num_reads
        self.num_sweeps = num_sweeps
        self.n_jobs = n_jobs
        self.executor = executor
        self.random_state = random_state
        self.verbose = verbose

    def _check_weak_learners(self):
        """What the declared constraints cannot say: a list must hold fitted classifiers."""
        if not isinstance(self.weak_learners, str):
            if not self.weak_learners or not all(callable(getattr(c, "predict", None)) for c in self.weak_learners):
                raise ValueError("weak_learners must be 'stumps' or a non-empty list of fitted classifiers "
                                 "with a predict method")

    def _outputs(self, X, task_index):
        """(n_samples, N) weak outputs for one task."""
        if self._stumps:
            return stump_outputs(X, self.thresholds_[task_index], self.polarities_[task_index])
        label = self._task_labels[task_index]
        return np.column_stack([np.where(c.predict(X) == label, 1.0, -1.0) for c in self.weak_learners])

    @property
    def _stumps(self):
        return isinstance(self.weak_learners, str)

    @property
    def _task_labels(self):
        return self.classes_[1:] if len(self.classes_) == 2 else self.classes_

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit weak classifiers per task, then anneal which of them to keep.

        Returns
        -------
        self
        """
        self._check_weak_learners()
        X, _, targets = self._validate_training_data(X, y)
        if self._stumps:
            stumps = [fit_stumps(X, t) for t in targets]
            self.thresholds_ = np.array([s[0] for s in stumps])
            self.polarities_ = np.array([s[1] for s in stumps])
        outputs = [self._outputs(X, i) for i in range(len(targets))]
        n_weak = outputs[0].shape[1]
        self.lam_ = 0.05 / n_weak if self.lam is None else float(self.lam)
        problems = [qboost_problem(H, t, self.lam_) for H, t in zip(outputs, targets)]
        spins, energies = self._solve(problems, desc=f"{type(self).__name__} solves")
        self.selected_ = np.array([s[0] > 0 for s in spins])
        self.energies_ = energies
        self.sparsity_ = float(1.0 - self.selected_.mean())
        self.n_params_ = int(self.selected_.sum() * (2 if self._stumps else 1))
        return self

    def decision_function(self, X):
        """Per-class vote ``(1/N) Σ_i w_i h_i(x)``; shape (n_samples,) for two classes."""
        X = self._check_X(X)
        scores = np.column_stack([self._outputs(X, i) @ self.selected_[i] / self.selected_.shape[1]
                                  for i in range(len(self.selected_))])
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def selected_features(self):
        """For stumps: per task, the indices of the features whose stumps were selected."""
        check_is_fitted(self)
        return [np.flatnonzero(row) for row in self.selected_]

    def weight_maps(self, image_shape=None):
        """Per-class map of selected stumps' polarities (+1 / −1 / 0 where not selected), like a weight map."""
        check_is_fitted(self)
        if not self._stumps:
            raise ValueError("weight_maps needs weak_learners='stumps' (one stump per feature)")
        return reshape_maps(self.selected_ * self.polarities_, image_shape)
