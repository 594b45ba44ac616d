"""The one container every loader returns and every learner consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from .._numeric import check_float32
from .._text import shown


@dataclass(frozen=True)
class Dataset:
    """A labelled numeric data set.

    Attributes
    ----------
    name : str
        Registry name (``"mnist"``, ``"bank-marketing"``, ...).
    X : ndarray of shape (n_samples, n_features), float32
        Features. Images are flattened row-major; ``image_shape`` restores them.
    y : ndarray of shape (n_samples,), int64
        Integer labels ``0 .. n_classes - 1``; ``class_names[y]`` names them.
    feature_names : list of str
    class_names : list of str
    image_shape : tuple of int or None
        ``(height, width)`` for images, ``None`` for tabular data.
    provenance : str
        Where the data came from (file, checksum, package), for reports.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    image_shape: tuple[int, int] | None = None
    provenance: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        X = np.asarray(self.X)
        y = np.asarray(self.y)
        if X.ndim != 2:
            raise DataError(f"{self.name}: X must be 2-D (samples x features), got shape {X.shape}")
        if y.shape != (X.shape[0],):
            raise DataError(f"{self.name}: y has shape {y.shape}, expected ({X.shape[0]},) to match X")
        if len(self.feature_names) != X.shape[1]:
            raise DataError(
                f"{self.name}: {len(self.feature_names)} feature names for {X.shape[1]} features")
        check_float32(X, self.feature_names, f"{self.name}: ")
        if not np.isfinite(X).all():
            bad = np.unique(np.nonzero(~np.isfinite(X))[1])
            names = [self.feature_names[j] for j in bad[:5]]
            raise DataError(f"{self.name}: NaN or inf in features {names}"
                             + (" ..." if bad.size > 5 else ""))
        if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
            raise DataError(f"{self.name}: labels must lie in 0..{len(self.class_names) - 1}")
        if self.image_shape is not None and int(np.prod(self.image_shape)) != X.shape[1]:
            raise DataError(f"{self.name}: image_shape {self.image_shape} does not hold {X.shape[1]} features")
        object.__setattr__(self, "X", np.ascontiguousarray(X, dtype=np.float32))
        object.__setattr__(self, "y", y.astype(np.int64, copy=False))
        object.__setattr__(self, "feature_names", list(self.feature_names))
        object.__setattr__(self, "class_names", list(self.class_names))

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def subset(self, index) -> "Dataset":
        """Rows ``index`` as a new Dataset with the same metadata."""
        index = np.asarray(index)
        return Dataset(self.name, self.X[index], self.y[index], self.feature_names,
                       self.class_names, self.image_shape, self.provenance, dict(self.meta))

    def __repr__(self) -> str:
        shape = f", image_shape={self.image_shape}" if self.image_shape else ""
        return (f"Dataset({shown(self.name)}, n_samples={self.n_samples}, n_features={self.n_features}, "
                f"n_classes={self.n_classes}{shape})")
