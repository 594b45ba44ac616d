"""ShallowWideClassifier: per-feature weights made of L layers of binary spins, trained by annealing."""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted, validate_data

from .base import AnnealedClassifier, reshape_maps
from .model import feature_curvature, least_squares_problem, ridge_weights
from .solvers import DEFAULT_SOLVER

REGULARIZERS = ("squared", "linear")
AUTO_K_QUANTILE = 0.95


class ShallowWideClassifier(AnnealedClassifier):
    """Shallow-and-wide Ising learner: one linear score per class whose weights are sums of spin layers.

    For every binary task (one-vs-rest for more than two classes) the score is

        f(x) = (k / P) · Σ_j W_j x_j + b,    W_j = Σ_l s[l, j],    s ∈ {−1, +1}^(L × P)

    and the spins minimise ``(1/N) Σ_i (f(x_i) − y_i)² + λ · u · R(W)`` with targets ``y = +1`` for the
    class and ``−1`` for the rest, ``R`` the regulariser and ``u`` the data term's curvature unit (see
    ``lam``). The bias ``b`` is continuous: it is minimised out of the energy exactly (features and targets
    are centred), and set afterwards to the least-squares intercept ``ȳ − (k/P) Wᵀ x̄`` over all training
    samples.

    Parameters
    ----------
    n_layers : int, default=4
        ``L``: each weight takes one of the values −L, −L+2, ..., L (times ``k / P``). Even L lets a weight
        be exactly 0 (sparsity); odd L (the hackathon's 3) cannot.
    k : float or "auto", default="auto"
        Scale of the score (features are min-max scaled to [0, 1]). ``"auto"`` sets it per task so that the
        largest weights the data ask for fit the spins' range: ``k / P = q95(|w*|) / L``, with ``w*`` the
        continuous (ridge) minimiser of the same energy — the 95th percentile of its weight sizes maps to
        ``W = ±L``. The chosen values are in ``k_``.
    lam : float, default=5.0
        Regularisation strength λ ≥ 0, in units of ``u = (k/P)² × mean feature variance``, i.e. of the
        data term's own curvature. In terms of the effective weights ``w = (k/P) W`` the squared
        regulariser is ridge with ``α = λ × mean feature variance``, so λ means the same whatever the number
        of samples, of features, or ``k``. With ``k="auto"`` the scale follows the ridge solution, so λ
        shapes the weights relative to each other (and how many round to 0), not their overall size.
    regularizer : {"squared", "linear"}, default="squared"
        ``"squared"``: ``Σ_j W_j²`` (antiferromagnetic coupling between layers, driving W_j to 0: sparsity);
        ``"linear"``: ``Σ_j W_j``, as the hackathon's slides show.
    batch_size : int or None, default=None
        ``None``: one problem per class from all samples (its size does not grow with the sample count).
        An integer: shuffle, cut the samples into batches of about this size, solve each batch on its own
        and average the spin solutions, giving continuous weights (mini-batch bagging).
    zero_to_minus_one : bool or "auto", default="auto"
        After scaling, replace exact zeros by −1 so that every feature (e.g. a blank pixel) interacts with
        the spins, as the hackathon did. ``"auto"``: on when every training feature already lies in [0, 1]
        (pixel intensities, one-hot columns), off otherwise.
    class_weight : None, "balanced" or dict, default=None
        Weights of samples in the loss. ``"balanced"``: within each one-vs-rest task the class and the rest
        weigh the same (not scikit-learn's per-class formula, which leaves a one-vs-rest task unbalanced).
        A dict ``{label: weight}`` weighs each sample by its label, as in scikit-learn.
    solver : str or dimod.Sampler, default=qboost_tn.qubo.solvers.DEFAULT_SOLVER
        ``"layered"`` (the default: a compiled annealer over the layer sums W_j), ``"neal"`` (dwave-neal, the
        reference), ``"dense"``, ``"tabu"``, ``"steepest"``, ``"exact"`` (≤ 20 spins) or any dimod sampler
        instance, a quantum annealer included (it receives the full spin BQM of :meth:`to_bqm`).
    num_reads : int or None, default=None
        Annealing runs per problem; the lowest-energy one is kept. None: the solver's budget
        (16 reads of 50 sweeps for ``"layered"``, 2 reads of 1000 sweeps for spin-flip annealers).
    num_sweeps : int or None, default=None
    n_jobs : int or None, default=None
        Worker processes for the independent problems (classes × batches); -1 uses every core.
    executor : None, "serial", "processes", "dask" or a dask.distributed.Client
        Where the problems are solved; see :func:`qboost_tn.qubo.parallel.run_tasks`.
    random_state : int, RandomState or None
        Fixes batch shuffling and one seed per problem, so every ``n_jobs`` gives the same model.
    verbose : int, default=0
        > 0 shows a progress bar over the solves.

    Attributes
    ----------
    k_ : ndarray, shape (n_tasks,)
        The score scale used per task.
    classes_ : ndarray
    n_features_in_ : int
    spins_ : ndarray of int8, shape (n_tasks, n_batches, L, P)
        Best spins found for each task and batch (``n_tasks`` = 1 for two classes).
    layer_sums_ : ndarray, shape (n_tasks, P)
        ``W`` averaged over batches (integers in full-batch mode).
    coef_ : ndarray, shape (n_tasks, P)
        Effective weights ``(k/P) W`` on the scaled features.
    intercept_ : ndarray, shape (n_tasks,)
    energies_ : ndarray, shape (n_tasks, n_batches)
        Energy of each solution.
    sparsity_ : float
        Fraction of effective weights that are exactly 0.
    n_params_ : int
        Numbers a deployed model stores: non-zero weights plus one intercept per task. ``n_spins_`` is the
        number of binary variables annealed per batch (``n_tasks · L · P``).
    data_min_, data_scale_ : ndarray, shape (P,)
        Min-max scaling fitted on the training data (constant features get scale 0).
    zero_to_minus_one_ : bool

    Examples
    --------
    >>> from qboost_tn import ShallowWideClassifier, load_dataset
    >>> ds = load_dataset("digits")
    >>> clf = ShallowWideClassifier(random_state=0).fit(ds.X[:200], ds.y[:200])
    >>> clf.weight_maps().shape
    (10, 8, 8)
    """

    def __init__(self, n_layers=4, k="auto", lam=5.0, regularizer="squared", batch_size=None,
                 zero_to_minus_one="auto", class_weight=None, solver=DEFAULT_SOLVER, num_reads=None, num_sweeps=None, n_jobs=None,
                 executor=None, random_state=None, verbose=0):
        self.n_layers = n_layers
        self.k = k
        self.lam = lam
        self.regularizer = regularizer
        self.batch_size = batch_size
        self.zero_to_minus_one = zero_to_minus_one
        self.class_weight = class_weight
        self.solver = solver
        self.num_reads = num_reads
        self.num_sweeps = num_sweeps
        self.n_jobs = n_jobs
        self.executor = executor
        self.random_state = random_state
        self.verbose = verbose

    _parameter_constraints: dict = {
        **AnnealedClassifier._parameter_constraints,
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "lam": [Interval(Real, 0, None, closed="left")],
        "regularizer": [StrOptions(set(REGULARIZERS))],
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
        "zero_to_minus_one": ["boolean", StrOptions({"auto"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    # -- preprocessing -----------------------------------------------------------------------------------
    def _scaling(self, X):
        """(data_min, data_scale, zero_to_minus_one) fitted on training data ``X``."""
        lo, hi = X.min(axis=0), X.max(axis=0)
        span = hi - lo
        scale = np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
        z2m1 = self.zero_to_minus_one
        if z2m1 == "auto":
            z2m1 = bool(lo.min() >= 0 and hi.max() <= 1)
        return lo, scale, bool(z2m1)

    @staticmethod
    def _apply_scaling(X, lo, scale, z2m1):
        Xs = (X - lo) * scale
        if z2m1:
            Xs[Xs == 0] = -1.0
        return Xs

    def _transform(self, X):
        return self._apply_scaling(X, self.data_min_, self.data_scale_, self.zero_to_minus_one_)

    def _batches(self, n_samples):
        if self.batch_size is None or self.batch_size >= n_samples:
            return [np.arange(n_samples)]
        order = check_random_state(self.random_state).permutation(n_samples)
        return [np.sort(b) for b in np.array_split(order, math.ceil(n_samples / self.batch_size))]

    def _build(self, Xs, targets, weights):
        """(problems, per-task scales, batches) for scaled training data, ±1 targets and sample weights."""
        curvature = feature_curvature(Xs - Xs.mean(axis=0))
        scales = self._scales(Xs, targets, weights, curvature)
        batches = self._batches(Xs.shape[0])
        problems = [least_squares_problem(Xs[b], t[b], scale=scale, lam=self.lam, regularizer=self.regularizer,
                                          n_layers=int(self.n_layers), curvature=curvature, sample_weight=v[b])
                    for t, v, scale in zip(targets, weights, scales) for b in batches]
        return problems, scales, batches

    def _scales(self, Xs, targets, weights, curvature):
        """The score scale ``k / P`` of each task (from all training samples)."""
        P = Xs.shape[1]
        if self.k != "auto":
            return np.full(len(targets), self.k / P)
        scales = []
        for t, v in zip(targets, weights):
            w = ridge_weights(Xs, t, lam=self.lam, curvature=curvature, sample_weight=v)
            top = float(np.quantile(np.abs(w), AUTO_K_QUANTILE))
            scales.append(top / self.n_layers if top > 0 else 1.0 / P)
        return np.array(scales)

    def _sample_weights(self, y, targets):
        """(n_tasks, n_samples) weights of each sample in each task's loss."""
        if self.class_weight is None:
            return np.ones_like(targets)
        if isinstance(self.class_weight, dict):
            return np.tile(compute_sample_weight(self.class_weight, y), (len(targets), 1))
        # "balanced": within each one-vs-rest task the class and the rest weigh the same.
        pos = targets > 0
        n_pos = pos.sum(axis=1, keepdims=True)
        n_neg = pos.shape[1] - n_pos
        return np.where(pos, 0.5 / np.maximum(n_pos, 1), 0.5 / np.maximum(n_neg, 1))

    # -- fitting -----------------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build one Ising problem per class (and batch), anneal them, and keep the best spins.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        X, y, targets = self._validate_training_data(X, y)
        weights = self._sample_weights(y, targets)
        self.data_min_, self.data_scale_, self.zero_to_minus_one_ = self._scaling(X)
        Xs = self._transform(X)
        problems, scales, batches = self._build(Xs, targets, weights)
        spins, energies = self._solve(problems, desc=f"{type(self).__name__} solves")
        n_tasks, L, P = len(targets), int(self.n_layers), X.shape[1]
        self.spins_ = np.asarray(spins, dtype=np.int8).reshape(n_tasks, len(batches), L, P)
        self.energies_ = energies.reshape(n_tasks, len(batches))
        self._set_weights(Xs, targets, weights, scales)
        return self

    def _set_weights(self, Xs, targets, weights, scales):
        self.k_ = scales * Xs.shape[1]
        self.layer_sums_ = self.spins_.sum(axis=2, dtype=np.float64).mean(axis=1)
        self.coef_ = scales[:, None] * self.layer_sums_
        # The least-squares intercept given the weights, under the same sample weights as the loss.
        self.intercept_ = np.array([np.average(t - Xs @ c, weights=v)
                                    for t, v, c in zip(targets, weights, self.coef_)])
        self.sparsity_ = float(np.mean(self.coef_ == 0))
        self.n_params_ = int(np.count_nonzero(self.coef_) + self.coef_.shape[0])
        self.n_spins_ = int(self.spins_.shape[0] * self.spins_.shape[2] * self.spins_.shape[3])

    def decision_function(self, X):
        """Per-class scores ``f(x)``; shape (n_samples,) for two classes (positive = ``classes_[1]``)."""
        Xs = self._transform(self._check_X(X))
        scores = Xs @ self.coef_.T + self.intercept_
        return scores[:, 0] if len(self.classes_) == 2 else scores

    # -- exposing the model ------------------------------------------------------------------------------
    def problems(self, X, y):
        """The LayeredProblems this estimator's ``fit`` would solve on (X, y), as ``{class: [one per batch]}``.

        Nothing is fitted or stored; a two-class task is keyed by the positive class ``classes_[1]``.
        """
        self._validate_params()
        probe = type(self)(**self.get_params())
        X, y, targets = probe._validate_training_data(X, y)
        lo, scale, z2m1 = self._scaling(X)
        problems, _, batches = self._build(self._apply_scaling(X, lo, scale, z2m1), targets,
                                           self._sample_weights(y, targets))
        keys = probe.classes_[1:] if len(probe.classes_) == 2 else probe.classes_
        return {key: problems[i * len(batches):(i + 1) * len(batches)] for i, key in enumerate(keys)}

    def to_bqm(self, X, y):
        """The SPIN BQMs of the full-batch training problems, to hand to any dimod sampler.

        Returns one :class:`dimod.BinaryQuadraticModel` for two classes, else ``{class: BQM}``. Variable
        ``l * P + j`` is spin ``s[l, j]``; the energy equals the training energy (bias minimised out).
        """
        params = self.get_params()
        params["batch_size"] = None
        per_class = {key: probs[0].to_bqm() for key, probs in type(self)(**params).problems(X, y).items()}
        return next(iter(per_class.values())) if len(per_class) == 1 else per_class

    def weight_maps(self, image_shape=None):
        """Per-class weights averaged over layers (and batches), ``W / L`` in [−1, 1].

        Reshaped to ``image_shape`` if given, else to a square when the feature count is a perfect square,
        else shape (n_tasks, P). This is what the hackathon plotted.
        """
        check_is_fitted(self)
        return reshape_maps(self.layer_sums_ / self.spins_.shape[2], image_shape)
