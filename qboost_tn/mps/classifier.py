"""MPSClassifier: Stoudenmire & Schwab's matrix-product-state classifier as a scikit-learn estimator."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._init_params import store_params
from ..eval.bits import FLOAT, affine_bits, register_model_bytes
from ..eval.weight_maps import reshape_maps
from .._memory import check_memory, number
from .._sample_weight import positive_sample_weight
from ..persistence import register_model_class
from .feature_maps import FEATURE_MAPS
from .._numeric import inverse_ranges
from .._text import shown

if TYPE_CHECKING:  # torch loads when the estimator fits or scores, not when its parameters are declared
    import torch

# Learning rates that work for each method with the default batch sizes (measured on MNIST 14x14 and the
# 8x8 digits): Adam on all cores, plain gradient descent on the merged bond tensor of the sweeps.
DEFAULT_LEARNING_RATE = {"gradient": 1e-3, "sweep": 1.0}
_PREDICT_BATCH = 8192  # rows contracted at once when predicting: bounds memory, not results ...
_PREDICT_BYTES = 256 << 20  # ... fewer when wide bonds make each row's contraction large


class MPSClassifier(ClassifierMixin, BaseEstimator):
    """Matrix-product-state classifier (Stoudenmire & Schwab, NeurIPS 2016).

    Each feature, min-max scaled to [0, 1] on the training rows, becomes a site of a chain; a local feature
    map turns it into a ``d``-vector, and the class scores are the contraction of that product state with an
    MPS whose label site carries the class index. Scores are normalised per sample (the chain's environments
    are renormalised at every site so 784 or 196 sites do not overflow) and used as softmax logits.

    Parameters
    ----------
    max_bond : int, default=10
        Bond dimension chi: the largest size of any bond between cores.
    feature_map : {"cos-sin", "linear"}, default="cos-sin"
        Local map of a scaled feature ``x``: the paper's ``(cos(pi x / 2), sin(pi x / 2))``, or ``(1, x)``
        (the MPS is then a multilinear polynomial). New maps go in :data:`qboost_tn.mps.feature_maps.FEATURE_MAPS`.
    label_site : int or "center", default="center"
        Site that carries the class index (0-based; "center" is ``n_features // 2``). The sweeps move the
        label along the chain and bring it back here.
    method : {"gradient", "sweep"}, default="gradient"
        "gradient": Adam on all cores at fixed bond size ``max_bond``. "sweep": the paper's two-site DMRG
        sweeps, gradient steps on the merged bond tensor then a truncated SVD (bond sizes adapt, up to
        ``max_bond``). "gradient" is the default: on the 5,000 digits at 14x14 (chi = 10, one thread) it
        reached 0.934 test accuracy after 62 s and 0.946 after 140 s, while the sweeps levelled off at 0.85
        (0.849 after 119 s); see ``benchmarks/mps_mnist.py methods``.
    n_epochs : int, default=10
        Passes over the data ("gradient") or full sweeps right-left-right ("sweep").
    learning_rate : float or "auto", default="auto"
        Adam's initial step, decaying by a cosine to 0 ("gradient", auto = 1e-3), or the gradient-descent step
        on bond tensors ("sweep", auto = 1.0).
    batch_size : int, default=128
        Rows per gradient step (both methods).
    cutoff : float, default=1e-10
        "sweep" only: drop the smallest singular values whose squares sum to at most this fraction of the
        bond tensor's squared norm (besides truncating to ``max_bond``).
    init_std : float, default=1e-2
        Scale of the noise added to the near-identity initial cores.
    random_state : int, RandomState instance or None, default=None
        Seeds initial cores and batch order.
    verbose : int, default=0
        Print one line per epoch or sweep.

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    n_features_in_ : int
    data_min_, data_scale_ : ndarray (n_features,)
        Min-max scaling learnt on the training rows: ``clip((X - data_min_) * data_scale_, 0, 1)``.
    core_data_ : ndarray of float64
        All cores flattened and concatenated (see :meth:`cores`).
    core_shapes_ : ndarray (n_features, 4)
        ``(chi_left, d, n_classes or 1, chi_right)`` of each core.
    label_site_ : int
    history_ : dict of lists
        Per epoch or sweep: ``epoch, loss, train_accuracy, seconds`` and ``S[k]``, the entanglement entropy
        (nats) of bond ``k`` (and ``max_chi``, ``truncation_error`` for sweeps).
    sensitivity_ : ndarray (n_classes, n_features)
        Mean ``|d score_c / d x_j|`` over training rows of class ``c`` (scaled inputs); see :meth:`weight_maps`.
    n_params_ : int
        Numbers in all cores.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from qboost_tn import MPSClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MPSClassifier(max_bond=6, n_epochs=2, random_state=0).fit(X[:500], y[:500])
    >>> clf.weight_maps().shape
    (10, 8, 8)
    """

    _parameter_constraints: dict = {
        "max_bond": [Interval(Integral, 1, None, closed="left")],
        "feature_map": [StrOptions(set(FEATURE_MAPS))],
        "label_site": [Interval(Integral, 0, None, closed="left"), StrOptions({"center"})],
        "method": [StrOptions({"gradient", "sweep"})],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cutoff": [Interval(Real, 0, 1, closed="left")],
        "init_std": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, max_bond=10, feature_map="cos-sin", label_site="center", method="gradient", n_epochs=10,
                 learning_rate="auto", batch_size=128, cutoff=1e-10, init_std=1e-2, random_state=None, verbose=0):
        store_params(self, locals())

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Scale ``X`` to [0, 1] per feature, embed it and train the chain; returns ``self``.

        ``sample_weight`` (n_samples,), optional, weighs each row's cross-entropy (an integer weight counts
        like that many copies of the row); rows of weight 0 are left out entirely, scaling included.
        """
        import torch  # here, not at the top: the estimator's declarations load without torch

        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        keep, weights = positive_sample_weight(sample_weight, X)
        if keep is not None:
            X, y_idx = X[keep], y_idx[keep]
        if weights is not None:
            weights = torch.as_tensor(weights, dtype=torch.float32)
        if len(self.classes_) < 2:
            raise ValueError(f"MPSClassifier needs samples of at least 2 classes; y holds only class "
                             f"{shown(self.classes_[0])}")
        n_features = X.shape[1]
        label_site = n_features // 2 if self.label_site == "center" else self.label_site
        if label_site >= n_features:
            raise ValueError(f"label_site={label_site} is past the last of the {n_features} sites")
        if self.method == "sweep" and n_features < 2:
            raise ValueError("method='sweep' merges neighbouring sites and needs at least 2 features")
        self._check_fits(len(X), n_features, len(self.classes_), label_site)
        lo, hi = X.min(axis=0), X.max(axis=0)
        # A constant feature maps to 0 (a fixed local vector), contributing nothing to tell classes apart.
        self.data_min_ = lo
        self.data_scale_ = inverse_ranges(lo, hi, getattr(self, "feature_names_in_", None))

        seed = int(np.random.default_rng(
            self.random_state if isinstance(self.random_state, (int, np.integer)) else None).integers(2 ** 62)
            if not isinstance(self.random_state, np.random.RandomState)
            else self.random_state.randint(np.iinfo(np.int32).max))

        from . import core
        from .train import train_gradient, train_sweep

        generator = torch.Generator().manual_seed(seed)
        Phi = core.embed(torch.as_tensor(self._scale(X), dtype=torch.float32), self.feature_map)
        d = Phi.shape[2]
        cores = core.init_cores(n_features, d, len(self.classes_), self.max_bond, label_site, self.init_std,
                                generator)
        target = torch.as_tensor(y_idx, dtype=torch.int64)
        lr = DEFAULT_LEARNING_RATE[self.method] if self.learning_rate == "auto" else float(self.learning_rate)
        if self.method == "gradient":
            history = train_gradient(cores, label_site, Phi, target, n_epochs=self.n_epochs, learning_rate=lr,
                                     batch_size=self.batch_size, generator=generator, callback=_entropies,
                                     verbose=bool(self.verbose), sample_weight=weights)
        else:
            history = train_sweep(cores, label_site, Phi, target, n_sweeps=self.n_epochs, learning_rate=lr,
                                  batch_size=self.batch_size, max_bond=self.max_bond, cutoff=self.cutoff,
                                  generator=generator, callback=_entropies, verbose=bool(self.verbose),
                                  sample_weight=weights)
        self.label_site_ = label_site
        self.core_data_, self.core_shapes_ = core.pack_cores(cores)
        self.n_params_ = int(self.core_data_.size)
        self.history_ = {key: [row[key] for row in history] for key in history[0]}
        self.sensitivity_ = self._sensitivity(X, y_idx, generator)
        return self

    def _local_dim(self) -> int:
        """d, the length of the feature map's local vector."""
        import torch

        return FEATURE_MAPS[self.feature_map](torch.zeros(1)).shape[-1]

    def _check_fits(self, n_samples, n_sites, n_classes, label_site):
        """Refuse a ``max_bond`` whose cores and training would not fit in memory, before allocating them:
        the cores (float32) with Adam's two moments and the gradient, and the contraction's working memory:
        per batch row an environment and its product with a core at every bond ("gradient"), or the merged
        two-site tensor, its SVD and every row's environment at every bond ("sweep")."""
        from .core import bond_dims

        d = self._local_dim()
        chis = bond_dims(n_sites, d, self.max_bond)
        params = sum(a * d * b for a, b in zip(chis[:-1], chis[1:]))
        params += (n_classes - 1) * chis[label_site] * d * chis[label_site + 1]
        if self.method == "gradient":
            work = 4 * params + 3 * min(self.batch_size, n_samples) * (d + 1) * sum(chis)
        else:
            work = 2 * params + 5 * d * d * n_classes * max(chis) ** 2 + n_samples * sum(chis)
        check_memory(4 * work, f"MPSClassifier(max_bond={number(self.max_bond)}, method={shown(self.method)}) on "
                               f"{n_sites} features ({number(params)} parameters)",
                     "lower max_bond (a bond k sites from an end is at most min(max_bond, d^k) wide)")

    def _check_loaded(self):
        """What a model file could get wrong beyond its declared shapes (called by ``load_model``): the core
        shape table must describe one chain over the features, with the label site's class axis, and account
        for every stored number."""
        shapes = self.core_shapes_
        n_sites, d = self.n_features_in_, self._local_dim()
        if shapes.shape != (n_sites, 4):
            raise ValueError(f"core_shapes_ has shape {shapes.shape}; expected ({n_sites}, 4), one row per feature")
        if not 0 <= self.label_site_ < n_sites:
            raise ValueError(f"label_site_ = {self.label_site_} is not a site of the {n_sites}-site chain")
        label = np.arange(n_sites) == self.label_site_
        chis = shapes[:, [0, 3]]
        if (np.any(shapes < 1) or chis[0, 0] != 1 or chis[-1, 1] != 1 or np.any(chis[1:, 0] != chis[:-1, 1])
                or np.any(shapes[:, 1] != d) or np.any(shapes[:, 2] != np.where(label, len(self.classes_), 1))):
            raise ValueError(f"core_shapes_ does not describe a chain of (chi, {d}, 1 or {len(self.classes_)} "
                             "classes at the label site, chi) cores whose bonds match and whose ends are 1")
        size = sum(int(np.prod(row, dtype=object)) for row in shapes.tolist())
        if size != self.core_data_.size:
            raise ValueError(f"core_shapes_ accounts for {size:,} numbers; core_data_ holds {self.core_data_.size:,}")
        for key in ("core_data_", "data_min_", "data_scale_"):
            if not np.isfinite(getattr(self, key)).all():
                raise ValueError(f"{key} holds NaN or inf")
        check_memory(self._row_bytes(), "predicting one row with the stored cores")

    def _row_bytes(self) -> int:
        """Bytes one row's contraction works with at the widest core (float64): environment times core."""
        shapes = self.core_shapes_
        return 8 * 3 * int(max(row[1] * row[2] * max(row[0], row[3]) for row in shapes.tolist()))

    def _scale(self, X):
        return np.clip((X - self.data_min_) * self.data_scale_, 0.0, 1.0)

    def cores(self) -> list[torch.Tensor]:
        """The fitted cores as float64 tensors: ``(chi_l, d, chi_r)``, the label core ``(chi_l, d, C, chi_r)``."""
        from . import core

        check_is_fitted(self)
        return core.unpack_cores(self.core_data_, self.core_shapes_, self.label_site_)

    # ------------------------------------------------------------------ prediction
    def _scores(self, X, with_log_scale=False):
        import torch

        from . import core

        X = validate_data(self, X, dtype=np.float64, reset=False)
        cores = self.cores()
        out, logs = [], []
        rows = max(1, min(_PREDICT_BATCH, _PREDICT_BYTES // self._row_bytes()))
        with torch.no_grad():
            for start in range(0, len(X), rows):
                Phi = core.embed(torch.as_tensor(self._scale(X[start:start + rows])), self.feature_map)
                s, log_scale = core.scores(cores, self.label_site_, Phi)
                out.append(s.numpy())
                logs.append(log_scale.numpy())
        s = np.concatenate(out) if out else np.zeros((0, len(self.classes_)))
        return (s, np.concatenate(logs)) if with_log_scale else s

    def decision_function(self, X):
        """Class log-probabilities ``(n_samples, n_classes)``; for two classes the margin
        ``score_1 - score_0``, ``(n_samples,)``.

        The raw logits (:meth:`contract`) of one sample carry a per-sample offset and scale from the
        environments' normalisation; the log-softmax removes the offset, so that one class's scores rank
        samples (ROC curves) as the probabilities do.
        """
        check_is_fitted(self)
        s = self._scores(X)
        if len(self.classes_) == 2:
            return s[:, 1] - s[:, 0]
        s = s - s.max(axis=1, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))

    def predict_proba(self, X):
        """Softmax of the normalised scores, ``(n_samples, n_classes)``."""
        check_is_fitted(self)
        s = self._scores(X)
        s = np.exp(s - s.max(axis=1, keepdims=True))
        return s / s.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Class with the largest score."""
        check_is_fitted(self)
        return self.classes_[self._scores(X).argmax(axis=1)]

    def contract(self, X):
        """The unnormalised MPS output ``f(x)`` as ``(scores, log_scale)``: ``f = scores * exp(log_scale)``.

        The factor is kept apart because over hundreds of sites it leaves the range of floats.
        """
        check_is_fitted(self)
        return self._scores(X, with_log_scale=True)

    # ------------------------------------------------------------------ analysis
    def _sensitivity(self, X, y_idx, generator, max_rows=100):
        """Mean |d score_c / d x| over up to ``max_rows`` training rows of each class (scaled inputs)."""
        import torch

        from . import core

        cores = self.cores()
        maps = np.zeros((len(self.classes_), X.shape[1]))
        for c in range(len(self.classes_)):
            rows = np.flatnonzero(y_idx == c)[:max_rows]
            if rows.size == 0:  # a class whose every row has weight 0: nothing to respond to
                continue
            x = torch.as_tensor(self._scale(X[rows])).requires_grad_(True)
            s, _ = core.scores(cores, self.label_site_, core.embed(x, self.feature_map))
            grad, = torch.autograd.grad(s[:, c].sum(), x)
            maps[c] = grad.abs().mean(0).numpy()
        # A feature constant on the training rows is not an input the model can respond to.
        return maps * (self.data_scale_ > 0)

    def weight_maps(self, image_shape=None):
        """Per-class input sensitivity ``sensitivity_`` reshaped to ``image_shape`` (a square when it is one).

        The MPS has no weight per feature; the mean size of each score's gradient with respect to each input
        plays that part in the comparison's weight-map view.
        """
        check_is_fitted(self)
        return reshape_maps(self.sensitivity_, image_shape)

    def entanglement_table(self):
        """One row per bond: ``bond, chi, entropy`` (nats), ``max_entropy`` (= ln chi) and ``max_bond``."""
        import pandas as pd

        from ..mpo.entanglement import bond_spectra, entropy

        rows = [{"bond": k, "chi": len(s), "entropy": entropy(s), "max_entropy": math.log(len(s)),
                 "max_bond": self.max_bond}
                for k, s in enumerate(bond_spectra(self.cores()), start=1)]
        return pd.DataFrame(rows)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _entropies(row, cores, label_site):
    """Training callback: entanglement entropy of every bond, as ``S[k]`` columns."""
    from ..mpo.entanglement import bond_spectra, entropy

    return {f"S[{k}]": entropy(s) for k, s in enumerate(bond_spectra(cores), start=1)}


# Saved and loaded by the project's npz + JSON format (no pickle): the cores travel as one flat array and a
# shape table, so every fitted attribute is an array or JSON.
MPSClassifier._persisted_shapes = {
    "classes_": ("classes",), "feature_names_in_": ("features",), "data_min_": ("features",),
    "data_scale_": ("features",), "sensitivity_": ("classes", "features"), "core_shapes_": ("features", 4),
}
register_model_class(MPSClassifier, {
    "classes_": ("biufU", 1), "n_features_in_": int, "feature_names_in_": ("U", 1), "data_min_": ("f", 1),
    "data_scale_": ("f", 1), "core_data_": ("f", 1), "core_shapes_": ("i", 2), "label_site_": int,
    "history_": dict, "sensitivity_": ("f", 2), "n_params_": int,
})


def _stored_bits(model) -> int:
    """:func:`qboost_tn.eval.model_bytes` of a fitted MPS: its cores' elements and its input scaling."""
    return int(np.size(model.core_data_)) * FLOAT + affine_bits(model.data_min_, model.data_scale_)


register_model_bytes(MPSClassifier, _stored_bits)
