"""Scaling for skewed tabular columns: ``log1p`` where a column is a long-tailed non-negative quantity."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.validation import check_is_fitted, validate_data


class LogMinMaxScaler(TransformerMixin, BaseEstimator):
    """Min-max scaling to [0, 1] after ``log1p`` of the skewed non-negative training columns.

    A column is logged when on the training rows it is non-negative, takes more than two values (so one-hot
    and binary columns stay as they are) and its sample skewness exceeds ``skew_limit``: counts, durations and
    amounts, whose few large values would otherwise squeeze every other row into a corner of [0, 1], where a
    linear model (and the spins' few weight levels) cannot tell them apart.

    Parameters
    ----------
    skew_limit : float, default=2.0
        Skewness above which a non-negative column is logged (2 leaves mildly skewed columns such as ages
        alone; counts of rare events are far above it).

    Attributes
    ----------
    logged_ : ndarray of bool, shape (n_features,)
        Which columns are logged.
    minmax_ : MinMaxScaler
        The min-max scaling after the log.
    """

    def __init__(self, *, skew_limit=2.0):
        self.skew_limit = skew_limit

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        centred = X - X.mean(axis=0)
        spread = np.sqrt(np.mean(centred**2, axis=0))
        skewness = np.divide(np.mean(centred**3, axis=0), spread**3, out=np.zeros(X.shape[1]), where=spread > 0)
        n_values = np.array([len(np.unique(column)) for column in X.T])
        self.logged_ = (X.min(axis=0) >= 0) & (n_values > 2) & (skewness > self.skew_limit)
        self.minmax_ = MinMaxScaler().fit(self._log(X))
        return self

    def _log(self, X):
        X = np.array(X, dtype=np.float64)
        # New rows may hold negatives where training rows had none: clip them to the log's domain.
        X[:, self.logged_] = np.log1p(np.maximum(X[:, self.logged_], 0.0))
        return X

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.minmax_.transform(self._log(X))
