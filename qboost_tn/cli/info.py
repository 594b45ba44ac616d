"""Load one data set and describe it: shape, classes, feature range, provenance."""
from __future__ import annotations

from ._options import dataset_options


def add_arguments(parser) -> None:
    parser.add_argument("name", help="data set name (see `qboost-tn datasets`)")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="loader option, e.g. -o path=../shared/data/mnist -o size=20; repeatable")


def run(args) -> int:
    import numpy as np

    from ..data import load_dataset

    ds = load_dataset(args.name, **dataset_options(args.option))
    counts = np.bincount(ds.y, minlength=ds.n_classes)
    print(repr(ds))
    print(f"provenance: {ds.provenance}")
    print(f"features:   {ds.n_features} ({', '.join(ds.feature_names[:6])}{', ...' if ds.n_features > 6 else ''})")
    print(f"range:      [{ds.X.min():.4g}, {ds.X.max():.4g}]")
    print("classes:    " + ", ".join(f"{name}: {n}" for name, n in zip(ds.class_names, counts)))
    return 0
