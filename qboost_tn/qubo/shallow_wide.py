"""ShallowWideClassifier: per-feature weights made of L layers of binary spins, trained by annealing."""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from .._init_params import store_params
from ..eval.weight_maps import reshape_maps
from ..eval.bits import register_model_bytes
from ..persistence import register_model_class
from .._memory import check_memory, number
from .._numeric import inverse_ranges, standard_scaling
from .base import PERSISTED_COMMON, AnnealedClassifier
from .features import (FEATURE_MAPS, MAP_STATE, PATCH_MAPS, POOL, SHIFTS, apply_map, check_map, fit_map, image_side,
                       map_width, map_working_bytes, mean_gradient, shifted_images)
from .model import DENSE_MAX_BYTES, check_bqm_size, feature_curvature, lattice_scale, least_squares_problem
from .size_rules import shallow_wide_bits
from .solvers import DEFAULT_SOLVER, DimodLayeredSolver, get_solver
from .._text import shown

REGULARIZERS = ("squared", "linear")
SCALINGS = ("minmax", "standard")


class ShallowWideClassifier(AnnealedClassifier):
    """Shallow-and-wide Ising learner: one linear score per class whose weights are sums of spin layers.

    For every binary task (one-vs-rest for more than two classes) the score is

        f(x) = (k / P) · Σ_j W_j z_j(x) + b,    W_j = Σ_l s[l, j],    s ∈ {−1, +1}^(L × P)

    over P features ``z(x)``: the inputs themselves (``features="identity"``, the hackathon's pixels) or a
    wide map of them (see ``features``),

    and the spins minimise ``(1/N) Σ_i (f(x_i) − y_i)² + λ · u · R(W)`` with targets ``y = +1`` for the
    class and ``−1`` for the rest, ``R`` the regulariser and ``u`` the data term's curvature unit (see
    ``lam``). The bias ``b`` is continuous: it is minimised out of the energy exactly (features and targets
    are centred), and set afterwards to the least-squares intercept ``ȳ − (k/P) Wᵀ x̄`` over all training
    samples.

    Parameters
    ----------
    features : {"identity", "rff", "nystroem", "patches", "random-patches", "trees", "auto"}, default="identity"
        What the spins weigh (:mod:`qboost_tn.qubo.features`): the min-max scaled inputs; ``"rff"``, random
        Fourier features of an RBF kernel; ``"nystroem"``, the RBF kernel against training rows; ``"patches"``
        (images), pooled ReLU responses of filters cut from random 5×5 training patches; ``"random-patches"``, the
        same with filters drawn from the seed (nothing to store but their thresholds); ``"trees"``
        (tabular data: skewed, count and one-hot columns alike), the inputs next to the leaf indicators of a
        random forest of depth-4 trees grown on the training labels; ``"auto"``:
        ``"patches"`` when ``image_shape`` is given, else ``"identity"`` (one preset for image and tabular
        data; the experiments runner passes the data set's image shape). Every map is fitted on the training
        rows, seeded by ``random_state``, and saved with the model; ``features_`` is the map used.
    n_components : int, default=1000
        Width P of a non-identity map (``"nystroem"`` uses at most one basis row per training row;
        ``"patches"`` uses ``n_components // 4`` filters, each pooled over four image quadrants; ``"trees"``
        grows ``n_components // 16`` trees of 16 leaves, and keeps the leaves training rows reach).
    bandwidth : float, default=1.0
        RBF width of ``"rff"``/``"nystroem"`` as a multiple of the median pairwise distance between training
        rows (the median heuristic).
    image_shape : tuple of int or None, default=None
        (height, width) of flattened images: what ``"patches"`` convolves over (None there: square images),
        and what tells ``zero_to_minus_one="auto"`` and ``augment`` that the inputs are pixels.
    augment : {None, "shifts"}, default=None
        ``"shifts"`` (images only: ``image_shape`` given or a patch map): every training image also enters the
        fit moved by each offset of at most two pixels in city-block distance (12 moves: thirteen rows per
        image, each with its label and weight), so the scores learn that a shape a pixel or two off is the same
        shape. Only the fit sees the copies: the stored model and ``predict`` are as without them.
    scaling : {"auto", "minmax", "standard"}, default="auto"
        How the features the spins weigh are scaled, fitted on the training rows: ``"minmax"`` to [0, 1];
        ``"standard"`` to mean 0 and variance 1, so every column meets the same penalty and the same weight
        lattice however skewed it is (on skewed counts, 16 layers, tuning seeds 4-12: 0.004 macro AUC above
        min-max; the experiments runner standardises every table); ``"auto"``: min-max for images
        (``image_shape`` given), for inputs already in [0, 1] (pixels, one-hot columns, data you scaled: on
        MNIST pixels standardising cost 0.017) and for a map's outputs, standard for the plain inputs
        otherwise (columns in their own units). Random Fourier features and patch maps keep their own scaling
        (a known range; one range per filter).
    n_layers : int, default=4
        ``L``: each weight takes one of the values −L, −L+2, ..., L (times ``k / P``), so only an even L lets
        a weight be exactly 0: with an odd L (the hackathon's 3) the sparsity is always 0 whatever ``lam``.
    k : float or "auto", default="auto"
        Scale of the score (on features scaled as ``scaling`` says). ``"auto"`` sets it per task so that the
        spins' lattice holds the weights the data ask for: of the scales mapping a quantile (median to
        maximum) of the sizes of ``w*``, the continuous (ridge) minimiser of the same energy, to ``W = ±L``,
        the one whose rounding of ``w*`` costs the least training energy
        (:func:`~qboost_tn.qubo.model.lattice_scale`). The chosen values are in ``k_``.
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
        the spins, as the hackathon did. ``"auto"``: on for images (``image_shape`` given) whose training
        pixels already lie in [0, 1], off otherwise (on tables a 0 is a count or a column's minimum, not a
        blank).
    class_weight : None, "balanced" or dict, default=None
        Weights of samples in the loss. ``"balanced"``: within each one-vs-rest task the class and the rest
        weigh the same (not scikit-learn's per-class formula, which leaves a one-vs-rest task unbalanced).
        A dict ``{label: weight}`` weighs each sample by its label, as in scikit-learn.
    solver : str or dimod.Sampler, default=qboost_tn.qubo.solvers.DEFAULT_SOLVER
        A registered solver's name: ``"layered"`` (the default: a compiled annealer over the layer sums W_j),
        ``"neal"`` (dwave-neal, the reference), ``"dense"``, ``"tabu"``, ``"steepest"``, ``"exact"`` (≤ 20
        spins), the no-search baselines ``"rounded"`` and ``"rounded-descent"``, or ``"pegasus-mock"`` /
        ``"zephyr-mock"`` / ``"dwave"`` (a quantum annealer's graph:
        :class:`~qboost_tn.qubo.qpu.embedded.EmbeddedSolver` embeds or decomposes the problems and fills
        ``solver_report_``). From Python, also any dimod sampler instance (it receives the full spin BQM of
        :meth:`to_bqm`).
    num_reads : int or None, default=None
        Annealing runs per problem; the lowest-energy one is kept. None: the solver's budget
        (for ``"layered"``: 16 reads of 50 sweeps, and for a problem of P > 400 features with a warm start
        16·(400/P)² reads, at least one; 2 reads of 1000 sweeps for spin-flip annealers).
    num_sweeps : int or None, default=None
        Sweeps over all variables per annealing run (more: slower, lower energy). None: the solver's budget
        (above).
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
    solver_report_ : dict
        Only after a fit with a QPU-shaped solver: ``physical_qubits``, ``max_chain_length``,
        ``chain_break_fraction``, ``sampler_calls``, ``qpu_access_time_s``, ``energy_gap`` (mean relative gap to
        the default solver on the same problems), ... (:func:`qboost_tn.qubo.qpu.embedded.merge_reports`).
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

    def __init__(self, *, features="identity", n_components=1000, bandwidth=1.0, image_shape=None, augment=None,
                 scaling="auto", n_layers=4,
                 k="auto", lam=5.0, regularizer="squared", batch_size=None, zero_to_minus_one="auto", class_weight=None,
                 solver=DEFAULT_SOLVER, num_reads=None, num_sweeps=None, n_jobs=None, executor=None,
                 random_state=None, verbose=0):
        store_params(self, locals())

    _parameter_constraints: dict = {
        **AnnealedClassifier._parameter_constraints,
        "features": [StrOptions({*FEATURE_MAPS, "auto"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
        "image_shape": [tuple, list, None],
        "augment": [StrOptions({"shifts"}), None],
        "scaling": [StrOptions({"auto", *SCALINGS})],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "lam": [Interval(Real, 0, None, closed="left")],
        "regularizer": [StrOptions(set(REGULARIZERS))],
        "batch_size": [Interval(Integral, 2, None, closed="left"), None],
        "zero_to_minus_one": ["boolean", StrOptions({"auto"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    # Fitted attributes a saved model carries (qboost_tn.persistence) beyond the registered ones: the
    # feature map's state and the input scaling in front of it (absent for features="identity").
    _persisted_attributes = {
        "solver_report_": dict,  # a QPU-shaped solver's qubits, chains and QPU time (qubo/qpu/embedded.py)
        "features_": str, "input_min_": ("f", 1), "input_scale_": ("f", 1), "input_gradients_": ("f", 2),
        "map_weights_": ("f", 2), "map_offsets_": ("f", 1), "map_components_": ("f", 2), "map_gamma_": float,
        "map_image_shape_": list, "map_nodes_": ("i", 2), "map_thresholds_": ("f", 2), "map_columns_": ("i", 1),
    }
    # How the saved arrays' shapes relate (qboost_tn.persistence): P is the width of the features z.
    _persisted_shapes = {
        "classes_": ("classes",), "feature_names_in_": ("features",), "energies_": ("tasks", "batches"),
        "spins_": ("tasks", "batches", "layers", "P"), "layer_sums_": ("tasks", "P"), "coef_": ("tasks", "P"),
        "intercept_": ("tasks",), "k_": ("tasks",), "data_min_": ("P",), "data_scale_": ("P",),
        "input_min_": ("features",), "input_scale_": ("features",), "input_gradients_": ("tasks", "features"),
    }
    _MAP_STATE = ("map_weights_", "map_offsets_", "map_components_", "map_gamma_", "map_image_shape_", "map_nodes_",
                  "map_thresholds_", "map_columns_")

    # -- preprocessing -----------------------------------------------------------------------------------
    def _scaling(self, X, row_weights=None):
        """(data_min, data_scale, zero_to_minus_one) fitted on training data ``X`` (rows weighted by
        ``row_weights``, the user's ``sample_weight``, where that matters: a standard deviation)."""
        if self.features_ == "rff":
            # Random Fourier features lie in [-a, a], a = sqrt(2 / D), whatever the data: scaled by that known
            # range, the map keeps nothing per feature and costs only its seed (qboost_tn.model_bytes).
            a = math.sqrt(2.0 / X.shape[1])
            lo, scale = np.full(X.shape[1], -a), np.full(X.shape[1], 0.5 / a)
        elif self.features_ in PATCH_MAPS:
            lo, scale = self._filter_minmax(X)
        elif self._scaling_kind(X) == "standard":
            lo, scale = standard_scaling(X, getattr(self, "feature_names_in_", None), row_weights)
        else:
            lo, scale = self._minmax(X)
        z2m1 = self.zero_to_minus_one
        if z2m1 == "auto":
            # Pixels, where 0 means "blank". A table's exact 0 after scaling is a zero count or a column's
            # minimum: moving it to -1 cut 0.03 macro AUC on skewed counts. A map's outputs have no such zero.
            z2m1 = (self.features_ == "identity" and self.image_shape is not None and self.scaling != "standard"
                    and bool(lo.min() >= 0 and (lo + self._span(X)).max() <= 1))
        return lo, scale, bool(z2m1)

    def _filter_minmax(self, X):
        """Min-max scaling shared by each filter's pooled regions (columns are (region, filter)): one range per
        filter, so the scale folds into the filter and its threshold (ReLU is positively homogeneous) and a
        stored model keeps no scale per feature (qboost_tn.model_bytes)."""
        regions = POOL * POOL
        lo = X.min(axis=0).reshape(regions, -1).min(axis=0)
        hi = X.max(axis=0).reshape(regions, -1).max(axis=0)
        scale = np.divide(1.0, hi - lo, out=np.zeros_like(lo), where=hi > lo)
        return np.tile(lo, regions), np.tile(scale, regions)

    def _scaling_kind(self, X):
        """The scaling ``scaling`` names, ``"auto"`` resolved for the map ``features`` names and the training
        features ``X``."""
        if self.scaling != "auto":
            return self.scaling
        if self._map_kind() != "identity" or self.image_shape is not None or self.zero_to_minus_one is True:
            return "minmax"
        with np.errstate(invalid="ignore"):
            in_unit_range = bool(np.all(X >= 0) and np.all(X <= 1))
        return "minmax" if in_unit_range else "standard"

    def _span(self, X):
        with np.errstate(over="ignore", invalid="ignore"):
            return X.max(axis=0) - X.min(axis=0)

    def _minmax(self, X):
        """(min, 1 / range) of each training column (scale 0 for constant columns)."""
        lo = X.min(axis=0)
        return lo, inverse_ranges(lo, X.max(axis=0), getattr(self, "feature_names_in_", None))

    @staticmethod
    def _apply_scaling(X, lo, scale, z2m1):
        Xs = (X - lo) * scale
        if z2m1:
            Xs[Xs == 0] = -1.0
        return Xs

    def _map_state(self):
        return {key: getattr(self, key) for key in self._MAP_STATE if hasattr(self, key)}

    def _mapped(self, X):
        """The features ``z`` of raw rows ``X`` (before their own min-max scaling)."""
        if self.features_ == "identity":
            return X
        return apply_map(self.features_, self._map_state(), (X - self.input_min_) * self.input_scale_)

    def _fit_map(self, X, y):
        """Fit the feature map on training rows ``X`` (labels ``y``) and return their features."""
        for key in (*self._MAP_STATE, "input_min_", "input_scale_"):
            self.__dict__.pop(key, None)  # a refit with another map leaves nothing of the last one
        self.features_ = self._map_kind()
        if self.features_ == "identity":
            return X
        self.input_min_, self.input_scale_ = self._minmax(X)
        state = fit_map(self.features_, (X - self.input_min_) * self.input_scale_, n_components=int(self.n_components),
                        bandwidth=float(self.bandwidth), rng=check_random_state(self.random_state),
                        image_shape=self.image_shape, y=y)
        for key, value in state.items():
            setattr(self, key, value)
        return self._mapped(X)

    def _transform(self, X):
        return self._apply_scaling(self._mapped(X), self.data_min_, self.data_scale_, self.zero_to_minus_one_)

    def _batches(self, n_samples):
        if self.batch_size is None or self.batch_size >= n_samples:
            return [np.arange(n_samples)]
        order = check_random_state(self.random_state).permutation(n_samples)
        return [np.sort(b) for b in np.array_split(order, math.ceil(n_samples / self.batch_size))]

    def _build(self, Xs, targets, weights, row_weights=None):
        """(problems, per-task scales, batches) for scaled training data, ±1 targets and sample weights (per task;
        ``row_weights``: the user's ``sample_weight``, which also weighs the curvature unit)."""
        if row_weights is None:
            curvature = feature_curvature(Xs - Xs.mean(axis=0))
        else:
            curvature = feature_curvature(Xs - row_weights @ Xs / row_weights.sum(), row_weights)
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
            # Q holds (k/P)² (x x + λ u); the annealer's temperatures are reciprocals of its energy differences,
            # so beyond sqrt(float64 max) ~ 1e154 nothing can be annealed (and past 1e308 Q is inf).
            with np.errstate(over="ignore"):
                energy_scale = np.float64(self.k / P) ** 2 * (1.0 + self.lam) * P
            if not energy_scale < np.sqrt(np.finfo(np.float64).max):
                raise InvalidParameterError(
                    f"k={self.k!r} (with lam={self.lam!r}) makes the training energy overflow float64: features "
                    "are scaled to about unit size, so k of order 1 to 100 is what a score of ±1 needs; or use "
                    "k='auto'")
            return np.full(len(targets), self.k / P)
        scales = [lattice_scale(Xs, t, lam=self.lam, curvature=curvature, n_layers=int(self.n_layers),
                                sample_weight=v) for t, v in zip(targets, weights)]
        return np.array([1.0 / P if scale is None else scale for scale in scales])

    def _sample_weights(self, y, targets):
        """(n_tasks, n_samples) weights of each sample in each task's loss."""
        if self.class_weight is None:
            return np.ones_like(targets, dtype=np.float64)
        if isinstance(self.class_weight, dict):
            for label, weight in self.class_weight.items():
                if isinstance(weight, bool) or not isinstance(weight, Real) or not (math.isfinite(weight) and weight > 0):
                    raise InvalidParameterError(
                        f"class_weight[{label!r}] = {weight!r}: every class weight must be a finite number > 0 "
                        "(a class that should not count belongs out of the training data)")
            return np.tile(compute_sample_weight(self.class_weight, y), (len(targets), 1))
        # "balanced": within each one-vs-rest task the class and the rest weigh the same.
        pos = targets > 0
        n_pos = pos.sum(axis=1, keepdims=True)
        n_neg = pos.shape[1] - n_pos
        return np.where(pos, 0.5 / np.maximum(n_pos, 1), 0.5 / np.maximum(n_neg, 1))

    # -- fitting -----------------------------------------------------------------------------------------
    def _check_params(self):
        if self.zero_to_minus_one is True and self.scaling == "standard":
            raise InvalidParameterError("zero_to_minus_one=True replaces the zeros of min-max scaled features: "
                                        "pass scaling='minmax' or 'auto' with it")
        if self.augment is not None and self.image_shape is None and self._map_kind() not in PATCH_MAPS:
            raise InvalidParameterError("augment='shifts' moves images: pass image_shape=(height, width) "
                                        "or use a patch map")

    def _augmented(self, X, y, targets, row_weights):
        """The training rows with their shifted copies (``augment="shifts"``), labels and weights repeated."""
        if self.augment is None:
            return X, y, targets, row_weights
        copies = 1 + len(SHIFTS)
        X = shifted_images(X, *image_side(X.shape[1], self.image_shape))
        return (X, np.tile(y, copies), np.tile(targets, copies),
                None if row_weights is None else np.tile(row_weights, copies))

    def _fit(self, X, y, targets, row_weights):
        """Build one Ising problem per class (and batch), anneal them, and keep the best spins.

        ``row_weights`` (the positive ``sample_weight``, or None) multiply ``class_weight``'s in the squared
        loss and its bias.
        """
        X, y, targets, row_weights = self._augmented(X, y, targets, row_weights)
        weights = self._sample_weights(y, targets)
        if row_weights is not None:
            weights = weights * row_weights
        Z = self._fit_map(X, y)
        self.data_min_, self.data_scale_, self.zero_to_minus_one_ = self._scaling(Z, row_weights)
        Xs = self._apply_scaling(Z, self.data_min_, self.data_scale_, self.zero_to_minus_one_)
        problems, scales, batches = self._build(Xs, targets, weights, row_weights)
        spins, energies = self._solve(problems, desc=f"{type(self).__name__} solves")
        n_tasks, L, P = len(targets), int(self.n_layers), Xs.shape[1]
        self.spins_ = np.asarray(spins, dtype=np.int8).reshape(n_tasks, len(batches), L, P)
        self.energies_ = energies.reshape(n_tasks, len(batches))
        self._set_weights(Xs, targets, weights, scales)
        if self.features_ == "identity":
            self.__dict__.pop("input_gradients_", None)
        else:
            # The score per unit of each input's training range, averaged over training rows.
            U = (X - self.input_min_) * self.input_scale_
            self.input_gradients_ = mean_gradient(self.features_, self._map_state(), U, self.coef_ * self.data_scale_)
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

    def _map_kind(self):
        """The feature map ``features`` names (``"auto"`` resolved)."""
        if self.features == "auto":
            return "patches" if self.image_shape is not None else "identity"
        return self.features

    def _check_fits(self, n_rows, n_inputs, n_tasks):
        """Refuse, before any work, what ``n_components`` and ``n_layers`` make too large for memory: the
        feature map and the learner's scaled, centred copies of its features, each problem's ``Q`` (dense up
        to ``DENSE_MAX_BYTES``, else factored), and a dense spin BQM when the solver takes one."""
        kind = self._map_kind()
        n_rows *= 1 if self.augment is None else 1 + len(SHIFTS)
        P = map_width(kind, n_rows, n_inputs, int(self.n_components))
        work = (map_working_bytes(kind, n_rows, n_inputs, int(self.n_components), self.image_shape)
                + 8 * 3 * n_rows * P + min(8 * P * P, DENSE_MAX_BYTES + 8 * P * n_rows)
                + n_tasks * int(self.n_layers) * P + self._solve_bytes(P))
        width = "" if kind == "identity" else f", n_components={number(self.n_components)}"
        check_memory(work, f"{type(self).__name__}(features={kind!r}{width}) on {n_rows:,} x {n_inputs:,} inputs "
                           f"({number(P)} features)", "lower n_components, or use fewer rows (batch_size does not "
                                                 "lower it: the features of all rows are formed), or num_reads")
        if isinstance(get_solver(self.solver), DimodLayeredSolver):
            check_bqm_size(int(self.n_layers) * P)

    def _check_loaded(self):
        """What a model file could get wrong beyond its declared shapes (called by ``load_model``)."""
        expected = self._map_kind()
        if self.features_ != expected:
            raise ValueError(f"features_ = {shown(self.features_)} but the parameters ask for {shown(expected)}")
        state = self._map_state()
        extra = sorted(set(state) - set(MAP_STATE[self.features_]))
        if extra:
            raise ValueError(f"features_={shown(self.features_)} keeps no {extra}")
        scaling = [key for key in ("input_min_", "input_scale_", "input_gradients_") if hasattr(self, key)]
        if (self.features_ == "identity") != (not scaling) or (scaling and len(scaling) < 3):
            raise ValueError(f"features_={shown(self.features_)} {'needs' if scaling else 'keeps no'} input_min_, "
                             "input_scale_ and input_gradients_")
        P = check_map(self.features_, state, self.n_features_in_)
        if self.coef_.shape[1] != P:
            raise ValueError(f"coef_ has {self.coef_.shape[1]} columns; the {shown(self.features_)} map gives {P} "
                             "features")
        if self.spins_.shape[2] != self.n_layers:
            raise ValueError(f"spins_ holds {self.spins_.shape[2]} layers; n_layers = {self.n_layers}")
        if not np.all(np.abs(self.spins_) == 1):
            raise ValueError("spins_ holds values other than -1 and +1")
        for key in ("coef_", "intercept_", "k_", "layer_sums_", "data_min_", "data_scale_", "input_min_",
                    "input_scale_", "input_gradients_"):
            if hasattr(self, key) and not np.isfinite(getattr(self, key)).all():
                raise ValueError(f"{key} holds NaN or inf")

    # -- exposing the model ------------------------------------------------------------------------------
    def problems(self, X, y):
        """The LayeredProblems this estimator's ``fit`` would solve on (X, y), as ``{class: [one per batch]}``.

        Nothing is fitted or stored; a two-class task is keyed by the positive class ``classes_[1]``.
        """
        self._validate_params()
        probe = type(self)(**self.get_params())
        probe._check_params()
        X, y, targets = probe._validate_training_data(X, y)
        probe._check_fits(*X.shape, len(targets))
        X, y, targets, _ = probe._augmented(X, y, targets, None)
        Z = probe._fit_map(X, y)
        lo, scale, z2m1 = probe._scaling(Z)
        problems, _, batches = probe._build(probe._apply_scaling(Z, lo, scale, z2m1), targets,
                                            probe._sample_weights(y, targets))
        keys = probe.classes_[1:] if len(probe.classes_) == 2 else probe.classes_
        return {key: problems[i * len(batches):(i + 1) * len(batches)] for i, key in enumerate(keys)}

    def to_bqm(self, X, y):
        """The SPIN BQMs of the full-batch training problems, to hand to any dimod sampler.

        Returns one :class:`dimod.BinaryQuadraticModel` for two classes, else ``{class: BQM}``. Variable
        ``l * P + j`` is spin ``s[l, j]``; the energy equals the training energy (bias minimised out).
        """
        params = self.get_params()
        params["batch_size"] = None
        if len(np.shape(X)) == 2:  # the BQMs' size, from the parameters, before any map or problem is formed
            check_bqm_size(int(self.n_layers) * map_width(self._map_kind(), *np.shape(X), int(self.n_components)))
        per_class = {key: probs[0].to_bqm() for key, probs in type(self)(**params).problems(X, y).items()}
        return next(iter(per_class.values())) if len(per_class) == 1 else per_class

    def weight_maps(self, image_shape=None):
        """Per-class maps over the input features: what raises each class's score.

        With ``features="identity"``: the weights averaged over layers (and batches), ``W / L`` in [−1, 1], as
        the hackathon plotted. With a feature map, the weights live on the map's features, so this is instead
        the mean input gradient of each class score over the training rows, ``mean_i ∂f/∂u (x_i)``, per unit
        of each input's training range ``u`` (for identity features this gradient is proportional to ``W``).

        Reshaped to ``image_shape`` if given (else ``self.image_shape``), else to a square when the input
        count is a perfect square, else shape (n_tasks, n_features_in_).
        """
        check_is_fitted(self)
        maps = self.layer_sums_ / self.spins_.shape[2] if self.features_ == "identity" else self.input_gradients_
        return reshape_maps(maps, image_shape if image_shape is not None else self.image_shape)


register_model_class(ShallowWideClassifier, {
    **PERSISTED_COMMON, "energies_": ("f", 2), "data_min_": ("f", 1), "data_scale_": ("f", 1),
    "zero_to_minus_one_": bool, "spins_": ("i", 4), "k_": ("f", 1), "layer_sums_": ("f", 2), "coef_": ("f", 2),
    "intercept_": ("f", 1), "n_spins_": int,
})
register_model_bytes(ShallowWideClassifier, shallow_wide_bits)
