"""List the data sets: size, source and whether each loads offline."""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--cache-dir", action="store_true", help="also print where downloads are cached")


def run(args) -> int:
    from ..data.download import cache_dir
    from ..data.registry import DATASETS

    # A plain table: pandas would double the start-up of a command that only lists names.
    rows = [("name", "size", "source", "offline")] + [
        (info.name, info.size, info.source, str(info.offline())) for info in DATASETS.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    if args.cache_dir:
        print(f"\ndownload cache: {cache_dir()}  (set QBOOST_TN_CACHE to move it)")
    return 0
