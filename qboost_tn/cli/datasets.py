"""List the data sets: size, source and whether each loads offline."""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--cache-dir", action="store_true", help="also print where downloads are cached")


def run(args) -> int:
    import pandas as pd

    from ..data import DATASETS
    from ..data.download import cache_dir

    table = pd.DataFrame([{"name": info.name, "size": info.size, "source": info.source, "offline": info.offline()}
                          for info in DATASETS.values()])
    print(table.to_string(index=False))
    if args.cache_dir:
        print(f"\ndownload cache: {cache_dir()}  (set QBOOST_TN_CACHE to move it)")
    return 0
