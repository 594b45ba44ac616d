"""QBoostClassifier: a sparse, annealer-chosen ensemble from a large dictionary of weak learners."""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._init_params import store_params
from .._memory import check_memory, number
from ..errors import QBoostTNError
from ..eval.weight_maps import reshape_maps
from ..eval.bits import register_model_bytes
from ..persistence import register_model_class
from .base import PERSISTED_COMMON, AnnealedClassifier
from .qboost_model import fit_stumps, selection_moments, selection_problem, stump_outputs, uniform_gain
from .model import check_bqm_size
from .size_rules import qboost_bits
from .solvers import DEFAULT_SOLVER, DimodLayeredSolver, get_solver
from .weak_learners import TreeDictionary, fit_tree_dictionary
from .._text import shown

WEAK_LEARNERS = ("trees", "stumps", "trees+stumps")
# Shallow levels of a fully grown dictionary (max_depth=None) halve from this depth: None, 8, 4, 2, ...
_FULL_LADDER_TOP = 16
_EFFECT_ROWS = 64  # training rows kept for weight_maps: each costs a pass of every input through its trees


class QBoostClassifier(AnnealedClassifier):
    """QBoost (Neven et al. 2008): the annealer picks a sparse weighted subset of a dictionary of weak learners.

    One binary task per class (one-vs-rest; a single task for two classes) with targets ``y = ±1``. Weak
    learner ``i`` answers ``h_i(x) ∈ [−1, 1]``; the task's score is

        f(x) = c Σ_i w_i h_i(x) + b,    w_i ∈ {0, 1/L, …, 1}

    with the weights from ``L`` spin layers (``w = (W + L) / (2L)``; ``L = 1``: keep or drop) minimising

        E(w) = mean_s (f(x_s) − y_s)² + (λ / N) Σ_i w_i

    on outputs the learners did not memorise (see ``selection``), the bias ``b`` minimised out. The scale
    ``c = g / (keep_fraction · N)`` is fixed before annealing from the gain ``g`` of the plain average of all
    N learners, so keeping about ``keep_fraction`` of them at full weight reproduces that average's fit.

    Parameters
    ----------
    weak_learners : {"trees", "stumps", "trees+stumps"} or list of fitted classifiers, default="trees"
        The dictionary. ``"trees"``: ``n_estimators`` randomised trees (below), shared by all classes, each
        answering ``2 p − 1`` with ``p`` its leaf's share of the task's class. ``"stumps"``: one decision stump
        per feature and task (threshold among 16 quantiles, by balanced accuracy), answering ±1.
        ``"trees+stumps"``: both. A list: fitted scikit-learn classifiers answering ``2 p − 1`` from
        ``predict_proba`` (±1 from ``predict`` without it); fit them on other rows than ``fit``'s, since
        their outputs on ``fit``'s rows are taken as they are. Such a model cannot be saved without pickle.
    n_estimators : int, default=600
        Number of trees in the dictionary.
    max_depth : int or None, default=None
        Depth of the deepest trees (None: grown until their leaves are pure).
    depth_levels : int, default=3
        The trees cycle through this many depths: ``max_depth`` and successive halvings of it (of 16 when
        ``max_depth`` is None), e.g. None, 8, 4 for the defaults.
    max_features : int, float, {"sqrt", "log2"} or None, default="sqrt"
        Features considered at each split, as in :class:`sklearn.tree.DecisionTreeClassifier`.
    splitter : {"random", "best"}, default="random"
        ``"random"``: extremely randomised trees (random thresholds), more diverse than ``"best"`` (a random
        forest's trees), and on small data the better ensemble.
    subsample : float in (0, 1), default=0.8
        Fraction of the training rows each tree is grown on (drawn without replacement); the rest are its
        out-of-bag rows.
    selection : {"oob", "holdout"}, default="oob"
        Which outputs the weights are fitted on. ``"oob"``: every tree's outputs on its out-of-bag rows only
        (each moment of ``E`` is estimated from the rows where it is out of bag), so trees are judged as on new
        data while all rows serve to grow them; stumps (one threshold each) and user classifiers are taken on
        all rows. ``"holdout"``: the dictionary is grown on ``1 − validation_fraction`` of the rows and the
        weights are fitted on the rest.
    validation_fraction : float in (0, 1), default=0.25
        The held-out fraction for ``selection="holdout"`` (stratified).
    n_layers : int, default=2
        ``L``: spin layers per weight, so weights take ``L + 1`` levels ``0, 1/L, …, 1``.
    keep_fraction : float in (0, 1], default=0.5
        Sets the score scale ``c`` (above): the fraction of the dictionary that, kept at full weight, fits
        like the whole dictionary's average.
    lam : float, default=0.01
        Sparsity penalty λ ≥ 0: the cost, in squared-error units, of keeping every learner at full weight.
    solver, num_reads, num_sweeps, n_jobs, executor, random_state, verbose
        As in :class:`~qboost_tn.ShallowWideClassifier`; ``random_state`` also fixes the trees.

    Attributes
    ----------
    classes_, n_features_in_
    weights_ : ndarray, shape (n_tasks, N)
        Selection weights in ``{0, 1/L, …, 1}`` of the ``N`` learners: the trees, then the stumps, or the
        user's classifiers in their order (``n_tasks`` = 1 for two classes).
    selected_ : ndarray of bool, shape (n_tasks, N)
        ``weights_ > 0``.
    n_selected_ : ndarray of int, shape (n_tasks,)
        How many learners each task kept.
    coef_ : ndarray, shape (n_tasks, N)
        ``c · w``: each learner's weight in the score.
    intercept_ : ndarray, shape (n_tasks,)
    energies_ : ndarray, shape (n_tasks,)
        Selection energy ``E(w)`` of each task's solution.
    tree_feature_, tree_threshold_, tree_left_, tree_right_, tree_value_, tree_offsets_, tree_depth_ : ndarray
        The tree dictionary as flat arrays (see :class:`~qboost_tn.qubo.weak_learners.TreeDictionary`).
    thresholds_, polarities_ : ndarray, shape (n_tasks, n_features)
        The stumps; stump ``j`` looks at feature ``j``.
    sparsity_ : float
        Fraction of (task, learner) weights that are 0.
    n_params_ : int
        Numbers a deployed model stores: the nodes of trees some task keeps (feature and threshold of a split,
        one value per class at a leaf), a threshold and polarity per kept stump, and every non-zero
        coefficient and intercept.

    Examples
    --------
    >>> from qboost_tn import QBoostClassifier, load_dataset
    >>> ds = load_dataset("digits")
    >>> clf = QBoostClassifier(n_estimators=60, random_state=0).fit(ds.X[:300], ds.y[:300])
    >>> clf.n_selected_.shape
    (10,)
    """

    _parameter_constraints: dict = {
        **AnnealedClassifier._parameter_constraints,
        "weak_learners": [StrOptions(set(WEAK_LEARNERS)), list],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "depth_levels": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, 1, closed="right"),
                         StrOptions({"sqrt", "log2"}), None],
        "splitter": [StrOptions({"random", "best"})],
        "subsample": [Interval(RealNotInt, 0, 1, closed="neither")],
        "selection": [StrOptions({"oob", "holdout"})],
        "validation_fraction": [Interval(RealNotInt, 0, 1, closed="neither")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "keep_fraction": [Interval(Real, 0, 1, closed="right")],
        "lam": [Interval(Real, 0, None, closed="left")],
    }
    # Fitted attributes a saved model carries (qboost_tn.persistence), beyond those every learner has.
    _persisted_attributes = {
        "solver_report_": dict,  # a QPU-shaped solver's qubits, chains and QPU time (qubo/qpu/embedded.py)
        "weights_": ("f", 2), "selected_": ("b", 2), "n_selected_": ("i", 1), "coef_": ("f", 2),
        "intercept_": ("f", 1), "thresholds_": ("f", 2), "polarities_": ("f", 2), "tree_feature_": ("i", 1),
        "tree_threshold_": ("f", 1), "tree_left_": ("i", 1), "tree_right_": ("i", 1), "tree_value_": ("f", 2),
        "tree_offsets_": ("i", 1), "tree_depth_": ("i", 1), "n_trees_": int, "n_stumps_": int,
        "response_rows_": ("f", 2), "input_range_": ("f", 2),
    }

    # How the saved arrays' shapes relate (qboost_tn.persistence): N learners, the trees' nodes.
    _persisted_shapes = {
        "classes_": ("classes",), "feature_names_in_": ("features",), "energies_": ("tasks",),
        "weights_": ("tasks", "N"), "selected_": ("tasks", "N"), "n_selected_": ("tasks",), "coef_": ("tasks", "N"),
        "intercept_": ("tasks",), "thresholds_": ("tasks", "features"), "polarities_": ("tasks", "features"),
        "tree_feature_": ("nodes",), "tree_threshold_": ("nodes",), "tree_left_": ("nodes",),
        "tree_right_": ("nodes",), "tree_value_": ("nodes", "classes"), "tree_depth_": ("trees",),
    }

    def __init__(self, *, weak_learners="trees", n_estimators=600, max_depth=None, depth_levels=3,
                 max_features="sqrt", splitter="random", subsample=0.8, selection="oob", validation_fraction=0.25,
                 n_layers=2, keep_fraction=0.5, lam=0.01, solver=DEFAULT_SOLVER, num_reads=None, num_sweeps=None,
                 n_jobs=None, executor=None, random_state=None, verbose=0):
        store_params(self, locals())

    # -- the dictionary --------------------------------------------------------------------------------
    @property
    def _user_learners(self):
        return not isinstance(self.weak_learners, str)

    @property
    def _task_labels(self):
        return self.classes_[1:] if len(self.classes_) == 2 else self.classes_

    def _depths(self):
        top = _FULL_LADDER_TOP if self.max_depth is None else self.max_depth
        shallower = [max(1, top >> k) for k in range(1, self.depth_levels)]
        return [self.max_depth] + shallower

    def _check_user_learners(self):
        """What the declared constraints cannot say: a list must hold fitted classifiers."""
        if not self.weak_learners or not all(callable(getattr(c, "predict", None)) for c in self.weak_learners):
            raise QBoostTNError("weak_learners must be 'trees', 'stumps', 'trees+stumps' or a non-empty list of "
                                "fitted classifiers with a predict method")

    @property
    def _trees(self):
        return TreeDictionary.from_attributes(self)

    def _outputs(self, X, trees=None):
        """(n_samples, n_tasks, N) outputs of the whole dictionary, or of the listed trees only (``trees``)."""
        columns = []
        if self._user_learners:
            columns.append(np.stack([self._user_outputs(c, X) for c in self.weak_learners], axis=2))
        if self.n_trees_:
            task_columns = np.searchsorted(self.classes_, self._task_labels)
            columns.append(self._trees.outputs(X, trees, task_columns).transpose(0, 2, 1))
        if self.n_stumps_:
            columns.append(np.stack([stump_outputs(X, t, p) for t, p in zip(self.thresholds_, self.polarities_)],
                                    axis=1))
        return np.concatenate(columns, axis=2)

    def _user_outputs(self, classifier, X):
        """(n_samples, n_tasks) soft outputs ``2 p − 1`` of a user's classifier (±1 from ``predict`` alone)."""
        labels = self._task_labels
        if callable(getattr(classifier, "predict_proba", None)):
            known = list(classifier.classes_)
            proba = classifier.predict_proba(X)
            return np.column_stack([2.0 * proba[:, known.index(c)] - 1.0 if c in known else
                                    np.full(len(X), -1.0) for c in labels])
        predicted = classifier.predict(X)
        return np.where(predicted[:, None] == labels[None, :], 1.0, -1.0)

    def _grow(self, X, y, targets, rng, sample_weight=None):
        """Fit the dictionary on (X, y); returns the (rows, N) mask of outputs the selection may use."""
        self.n_trees_ = self.n_estimators if self.weak_learners in ("trees", "trees+stumps") else 0
        self.n_stumps_ = X.shape[1] if self.weak_learners in ("stumps", "trees+stumps") else 0
        masks = []
        if self._user_learners:
            masks.append(np.ones((len(y), len(self.weak_learners)), dtype=bool))
        if self.n_trees_:
            trees, in_bag = fit_tree_dictionary(
                X, y, self.classes_, n_estimators=self.n_estimators, depths=self._depths(),
                max_features=self.max_features, splitter=self.splitter, subsample=self.subsample,
                random_state=rng, sample_weight=sample_weight)
            for key, value in trees.to_attributes().items():
                setattr(self, key, value)
            masks.append(~in_bag)
        if self.n_stumps_:
            stumps = [fit_stumps(X, t, sample_weight=sample_weight) for t in targets]
            self.thresholds_ = np.array([s[0] for s in stumps])
            self.polarities_ = np.array([s[1] for s in stumps])
            masks.append(np.ones((len(y), self.n_stumps_), dtype=bool))
        return np.concatenate(masks, axis=1)

    # -- fitting -----------------------------------------------------------------------------------------
    def _check_params(self):
        if self._user_learners:
            self._check_user_learners()

    def _fit(self, X, y, targets, row_weights):
        """Grow the dictionary, then anneal each class's selection weights on outputs it did not memorise.

        ``row_weights`` (the positive ``sample_weight``, or None) weigh the trees' and stumps' fits and every
        mean of the selection energy.
        """
        rng = np.random.default_rng(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        grow, select = np.arange(len(y)), np.arange(len(y))
        if self.selection == "holdout":
            grow, select = self._holdout(y, rng)
        usable = self._grow(X[grow], y[grow], targets[:, grow], rng,
                            None if row_weights is None else row_weights[grow])
        if self.selection == "holdout":
            usable = np.ones((len(select), usable.shape[1]), dtype=bool)
        H = self._outputs(X[select])
        select_weights = None if row_weights is None else row_weights[select]
        moments = [selection_moments(H[:, k], targets[k, select], usable, select_weights)
                   for k in range(len(targets))]
        N, L = H.shape[2], int(self.n_layers)
        scales = np.array([uniform_gain(G, r) / (self.keep_fraction * N) for G, r, *_ in moments])
        problems = [selection_problem(G, r, y_var, scale=c, lam=self.lam, n_layers=L)
                    for (G, r, _, _, y_var), c in zip(moments, scales)]
        spins, self.energies_ = self._solve(problems, desc=f"{type(self).__name__} solves")
        self.weights_ = np.array([(s.sum(axis=0) + L) / (2.0 * L) for s in spins])
        self.coef_ = scales[:, None] * self.weights_
        # Least-squares intercept given the weights: ȳ − c Σ w_i m_i, with m_i each learner's usable mean.
        self.intercept_ = np.array([y_mean - coef @ means
                                    for (_, _, means, y_mean, _), coef in zip(moments, self.coef_)])
        self.selected_ = self.weights_ > 0
        self.n_selected_ = self.selected_.sum(axis=1)
        self.sparsity_ = float(1.0 - self.selected_.mean())
        self.n_params_ = self._count_params()
        # What weight_maps() needs, kept rather than computed: the maps cost seconds, a fit should not.
        sample = np.random.RandomState(0).choice(len(X), min(len(X), _EFFECT_ROWS), replace=False)
        self.response_rows_ = X[np.sort(sample)]
        self.input_range_ = np.stack([X.min(axis=0), X.max(axis=0)])
        return self

    def _input_effects(self):
        """(n_tasks, n_features): per task, the mean change of its score when input j moves from the bottom to
        the top of its training range, the other inputs as in each of up to 64 training rows
        (``response_rows_``).

        Trees are piecewise constant, so a gradient would be zero almost everywhere; the change over the whole
        range is what the score responds to, with its sign (the map ``ShallowWideClassifier(features="trees")``
        draws). Only the kept trees that split on j can change with j, so each input scores just those; a
        stump reads one input, so its change is the same in every row.
        """
        rows, (low, high) = self.response_rows_, self.input_range_
        if self._user_learners:  # a user's classifier may read any input: score every one, whole ensemble
            return np.stack([self._score_change(rows, j, low[j], high[j]) for j in range(rows.shape[1])], axis=1)
        effects = np.zeros((len(self.coef_), rows.shape[1]))
        if self.n_trees_:
            trees = self._trees
            owner = np.repeat(np.arange(trees.n_trees), trees.node_counts())
            kept = self.selected_[:, :self.n_trees_].any(axis=0)
            split = (trees.feature >= 0) & kept[owner]
            pairs = np.unique(np.column_stack([trees.feature[split], owner[split]]), axis=0)  # (input, tree)
            columns = np.searchsorted(self.classes_, self._task_labels)
            n = len(rows)
            for j, group in zip(*np.unique(pairs[:, 0], return_index=True)):
                used = pairs[group:group + np.count_nonzero(pairs[:, 0] == j), 1]
                ends = np.concatenate([rows, rows])
                ends[:n, j], ends[n:, j] = high[j], low[j]
                out = trees.outputs(ends, used, columns)  # (2n, trees, tasks)
                effects[:, j] += np.einsum("tk,kt->k", (out[:n] - out[n:]).mean(axis=0), self.coef_[:, used])
        if self.n_stumps_:
            for k, (t, p) in enumerate(zip(self.thresholds_, self.polarities_)):
                change = stump_outputs(high[None], t, p)[0] - stump_outputs(low[None], t, p)[0]
                effects[k] += self.coef_[k, -self.n_stumps_:] * change
        return effects

    def _score_change(self, rows, j, low, high):
        """(n_tasks,) mean score change over ``rows`` when input j goes from ``low`` to ``high``."""
        top, bottom = rows.copy(), rows.copy()
        top[:, j], bottom[:, j] = high, low
        return (self._scores(top) - self._scores(bottom)).mean(axis=0)

    def _holdout(self, y, rng):
        """(grow rows, selection rows): a stratified split when every class can give a row to each part."""
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 else None
        try:
            return train_test_split(np.arange(len(y)), test_size=self.validation_fraction, stratify=stratify,
                                    random_state=int(rng.integers(np.iinfo(np.int32).max)))
        except ValueError as exc:  # too few rows for the requested parts
            raise QBoostTNError(f"selection='holdout' cannot hold out {self.validation_fraction} of "
                                f"{len(y)} rows: {exc}") from exc

    def _check_fits(self, n_rows, n_features, n_tasks):
        """Refuse, before growing anything, a dictionary whose selection would not fit in memory: every task's
        outputs (rows x learners) and the usable mask's copies, and per task the N x N moments and problem
        (kept for all tasks), or a dense spin BQM of L x N variables when the solver takes one."""
        N = ((len(self.weak_learners) if self._user_learners else 0)
             + (self.n_estimators if self.weak_learners in ("trees", "trees+stumps") else 0)
             + (n_features if self.weak_learners in ("stumps", "trees+stumps") else 0))
        work = 8 * (n_tasks + 3) * n_rows * N + 8 * (2 * n_tasks + 1) * N * N + self._solve_bytes(N)
        check_memory(work, f"{type(self).__name__} with a dictionary of {number(N)} learners on {n_rows:,} rows and "
                           f"{n_tasks} task(s)", "lower n_estimators, or num_reads")
        if isinstance(get_solver(self.solver), DimodLayeredSolver):
            check_bqm_size(int(self.n_layers) * N)

    def _check_loaded(self):
        """What a model file could get wrong beyond its declared shapes (called by ``load_model``): the
        dictionary's sizes against the parameters, every tree walkable (:meth:`TreeDictionary.check`), values
        finite."""
        if self._user_learners:
            raise ValueError("a saved QBoostClassifier names its dictionary ('trees', 'stumps' or 'trees+stumps')")
        trees = self.n_estimators if self.weak_learners in ("trees", "trees+stumps") else 0
        stumps = self.n_features_in_ if self.weak_learners in ("stumps", "trees+stumps") else 0
        if (self.n_trees_, self.n_stumps_) != (trees, stumps):
            raise ValueError(f"n_trees_ = {self.n_trees_} and n_stumps_ = {self.n_stumps_}; "
                             f"weak_learners={shown(self.weak_learners)} with n_estimators={self.n_estimators} gives "
                             f"{trees} and {stumps}")
        if self.coef_.shape[1] != trees + stumps:
            raise ValueError(f"coef_ has {self.coef_.shape[1]} columns for {trees} trees and {stumps} stumps")
        for count, names in ((trees, [f"tree_{n}_" for n in TreeDictionary.__dataclass_fields__]),
                             (stumps, ["thresholds_", "polarities_"])):
            wrong = [n for n in names if hasattr(self, n) != bool(count)]
            if wrong:
                raise ValueError(f"weak_learners={shown(self.weak_learners)}: the file {'lacks' if count else 'holds'} "
                                 f"{wrong}")
        if trees:
            dictionary = self._trees
            if dictionary.n_trees != trees:
                raise ValueError(f"tree_offsets_ describes {dictionary.n_trees} trees; n_trees_ = {trees}")
            dictionary.check(self.n_features_in_, len(self.classes_))
        for key in ("coef_", "intercept_", "weights_", "thresholds_", "polarities_"):
            if hasattr(self, key) and not np.isfinite(getattr(self, key)).all():
                raise ValueError(f"{key} holds NaN or inf")
        if np.any((self.coef_ != 0) & ~self.selected_):
            raise ValueError("coef_ has non-zero weights on learners selected_ does not keep")

    def _count_params(self) -> int:
        n_user = len(self.weak_learners) if self._user_learners else 0
        kept = self.selected_.any(axis=0)
        count = int(np.count_nonzero(self.coef_) + len(self.intercept_))
        if self.n_trees_:
            trees = self._trees
            in_kept_tree = np.repeat(kept[n_user:n_user + self.n_trees_], trees.node_counts())
            leaves = int(np.count_nonzero(in_kept_tree & (trees.feature < 0)))
            count += 2 * (int(in_kept_tree.sum()) - leaves) + leaves * trees.value.shape[1]
        if self.n_stumps_:
            count += 2 * int(self.selected_[:, n_user + self.n_trees_:].sum())
        return count

    # -- predicting --------------------------------------------------------------------------------------
    def decision_function(self, X):
        """Per-class score ``c Σ_i w_i h_i(x) + b``; shape (n_samples,) for two classes.

        Only the trees some class kept are evaluated.
        """
        scores = self._scores(self._check_X(X))
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def _scores(self, X):
        """(n_samples, n_tasks) scores of checked input."""
        n_user = len(self.weak_learners) if self._user_learners else 0
        used = np.flatnonzero(self.selected_[:, n_user:n_user + self.n_trees_].any(axis=0))
        keep = np.concatenate([np.arange(n_user), n_user + used,
                               n_user + self.n_trees_ + np.arange(self.n_stumps_)]).astype(int)
        return np.einsum("skn,kn->sk", self._outputs(X, trees=used), self.coef_[:, keep]) + self.intercept_

    def selected_features(self):
        """For stumps: per task, the indices of the features whose stumps were selected."""
        check_is_fitted(self)
        if not self.n_stumps_:
            raise QBoostTNError("selected_features needs stumps in the dictionary (weak_learners='stumps' or "
                                "'trees+stumps')")
        return [np.flatnonzero(row) for row in self.selected_[:, -self.n_stumps_:]]

    def weight_maps(self, image_shape=None):
        """Per-class input-space maps of what the score responds to: for each input, the mean change of the
        class's score when that input moves from the bottom to the top of its training range (red raises the
        score, blue lowers it; inputs no kept learner reads are 0), averaged over up to 64 training rows kept
        at fit, for trees, stumps and user classifiers alike. The first call takes seconds (every input's two
        ends through the trees that read it); the result is kept. Reshaped like
        :meth:`ShallowWideClassifier.weight_maps`.
        """
        check_is_fitted(self)
        if not hasattr(self, "response_rows_"):
            raise QBoostTNError("this model was saved before QBoost kept the rows its maps are drawn from; refit "
                                "it to draw its maps")
        if getattr(self, "_effects", None) is None or self._effects[0] is not self.coef_:
            self._effects = (self.coef_, self._input_effects())  # recomputed if the model is refitted
        return reshape_maps(self._effects[1], image_shape)


register_model_class(QBoostClassifier, {
    **PERSISTED_COMMON, "thresholds_": ("f", 2), "polarities_": ("fi", 2), "lam_": float, "selected_": ("b", 2),
})
register_model_bytes(QBoostClassifier, qboost_bits)
