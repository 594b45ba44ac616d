"""``sample_weight`` as every learner of the project takes it: scikit-learn's checks plus what a fit needs."""
from __future__ import annotations

import numpy as np


def positive_sample_weight(sample_weight, X):
    """``(keep, weights)``: ``sample_weight`` checked as scikit-learn does (one finite value >= 0 per row of
    ``X``, at least two of them positive); ``keep`` the rows of positive weight (None: all) and ``weights``
    theirs as float64 - or None when they are all equal (only their ratios matter), so the fit is the
    unweighted one to the last bit."""
    from sklearn.utils.validation import _check_sample_weight

    if sample_weight is None:
        return None, None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight holds NaN or inf; every weight must be a finite number >= 0")
    if np.count_nonzero(weights) < 2:
        raise ValueError(f"sample_weight gives {np.count_nonzero(weights)} row(s) a positive weight; fitting needs "
                         "at least 2")
    keep = weights > 0
    weights = weights[keep]
    return (None if keep.all() else keep), (None if np.all(weights == weights[0]) else weights)
