"""The Bank Marketing hands-on: an MLP's layer compressed into MPOs, with the other compressions.

Runs the shipped config `bank-marketing-handson` (print it with --dry-run): the dense MLP 62-256-256-1, its
256x256 layer as an MPO at each bond dimension (fine-tuned), an MPO network from scratch, pruning / low-rank /
int8 at the same budget, and the first and all hidden layers compressed. Writes the run directory every
command writes (runs/bank-marketing-handson-<timestamp>, or --out DIR, new or empty). Change any setting with
--set, e.g. --set 'models[1].params.max_bond=[2, 8]'.
"""
from __future__ import annotations

from .run import add_run_options

CONFIG = "bank-marketing-handson"


def add_arguments(parser) -> None:
    parser.add_argument("--path", metavar="DIR", help="folder or file of the data (default: the config's "
                                                      "../shared/data/bank-marketing, else download into the cache)")
    parser.add_argument("--dataset", help="another registered binary data set instead of bank-marketing")
    parser.add_argument("--target", help="label column, for --dataset csv")
    add_run_options(parser)


def _data_overrides(args) -> list[str]:
    """Overrides of the config's data section from the flags; without --path and without the config's folder,
    the loader downloads (path: null)."""
    from pathlib import Path

    from ..experiments.config import find_config, read_yaml

    overrides = []
    if args.dataset:
        overrides += [f"data.name={args.dataset}", "data.options={}"]
    if args.path:
        overrides.append(f"data.options.path={args.path}")
    elif not args.dataset:
        shipped = read_yaml(find_config(CONFIG))["data"]["options"].get("path")
        if shipped and not Path(shipped).expanduser().exists():
            overrides.append("data.options.path=null")
    if args.target:
        overrides.append(f"data.options.target={args.target}")
    return overrides


def run(args) -> int:
    from ..data import load_dataset
    from ..errors import QBoostTNError
    from ..experiments.config import load_config
    from .run import execute

    overrides = _data_overrides(args) + list(args.overrides)
    if args.dry_run:
        return execute(CONFIG, args, _data_overrides(args))[0]
    data = load_config(CONFIG, overrides)["data"]
    try:
        dataset = load_dataset(data["name"], **data["options"])
    except (OSError, RuntimeError, QBoostTNError) as exc:
        if args.path or isinstance(exc, FileNotFoundError) and data["options"].get("path"):
            raise
        # Offline without the file: the flag that fixes it is --path (the loader's own message says path=...).
        reason = str(exc).replace("path=...", "--path DIR")
        raise QBoostTNError(f"{data['name']} could not be loaded ({reason}); give the folder or file of the "
                            "data with --path DIR") from exc
    return execute(CONFIG, args, _data_overrides(args), dataset=dataset)[0]
