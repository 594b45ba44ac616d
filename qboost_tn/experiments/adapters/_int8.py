"""Logistic regression stored as int8: the ``precision: int8`` peer of the ``logistic-regression`` kind.

Its own module, imported when a config asks for the kind: it loads scikit-learn, which commands that train
nothing never do.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ...eval import register_model_bytes
from ...eval.bits import FLOAT, INT8, vector_bits


class Int8LogisticRegression(ClassifierMixin, BaseEstimator):
    """A fitted logistic regression whose weights are int8 times one float scale per class.

    Parameters
    ----------
    estimator : LogisticRegression
        Fitted on :meth:`fit`; its weights are then quantised and it predicts with them.
    """

    def __init__(self, *, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        model = self.estimator.fit(X, y)
        scale = np.abs(model.coef_).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        self.weights_ = np.round(model.coef_ / scale[:, None]).astype(np.int8)
        self.scale_ = scale
        model.coef_ = self.weights_ * scale[:, None]  # predict with exactly what is stored
        self.classes_ = model.classes_
        return self

    def decision_function(self, X):
        return self.estimator.decision_function(X)

    def predict_proba(self, X):
        return self.estimator.predict_proba(X)

    def predict(self, X):
        return self.estimator.predict(X)


register_model_bytes(Int8LogisticRegression, lambda m: vector_bits(m.weights_, INT8)
                     + (m.scale_.size + np.size(m.estimator.intercept_)) * FLOAT)
