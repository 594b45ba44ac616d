"""Train one learner (shallow-wide, QBoost or the MPS classifier) on a data set.

A preset over the experiments runner: the flags build a one-model config (print it with --dry-run) and the
run directory is the one every command writes (runs/train-<model>-<timestamp>, or --out DIR, new or empty).
The model options below are generated from the estimators' own parameter declarations, so their defaults and
choices are exactly those of ShallowWideClassifier / QBoostClassifier / MPSClassifier; values are read as YAML
(3, 0.5, null, auto) and checked before anything is trained.

Example: qboost-tn train --dataset mnist --size 20 --n-train 150 --n-val 300 --model shallow-wide --n-layers 3
"""
from __future__ import annotations

from ._options import dataset_options


def estimator_kinds() -> dict:
    """Model kind -> parameter schema, for the kinds whose schema is generated from an estimator: read from the
    stored copies (:mod:`qboost_tn.experiments.stored_schemas`), so no estimator is imported."""
    from ..experiments.adapters import ADAPTERS
    from ..experiments.stored_schemas import stored

    return {kind: ADAPTERS[kind].params for kind in stored() if kind in ADAPTERS}


def add_arguments(parser) -> None:
    from ..experiments.params import add_options, option_help

    kinds = estimator_kinds()
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="mnist", help="registered data set (default: %(default)s)")
    data.add_argument("--size", type=int, default=None,
                      help="resize images to SIZE x SIZE (default: 20 for mnist and fashion-mnist)")
    data.add_argument("--option", "-o", action="append", metavar="KEY=VALUE", default=[],
                      help="further loader option, e.g. path=../shared/data/bank-marketing (repeatable)")
    data.add_argument("--n-train", type=int, default=150, metavar="N",
                      help="training samples, drawn stratified (default: %(default)s)")
    data.add_argument("--n-val", type=int, default=300, metavar="N",
                      help="validation samples for searches over listed values, disjoint from training "
                           "(default: %(default)s)")
    data.add_argument("--n-test", type=int, default=None, metavar="N",
                      help="default: every sample left over; 0: metrics on the validation part")
    model = parser.add_argument_group("model (defaults are the estimator's own)")
    model.add_argument("--model", choices=list(kinds), default="shallow-wide",
                       help="the estimator to train (default: %(default)s)")
    parser.set_defaults(_param_dests=add_options(model, option_help(kinds)))
    parser.add_argument("--seed", type=int, default=0, help="seeds the split and the annealing")
    parser.add_argument("--out", metavar="DIR", help="run directory, new or empty (default: runs/train-MODEL-<timestamp>)")
    parser.add_argument("--dry-run", action="store_true", help="print the config these flags make, run nothing")
    parser.add_argument("--quiet", "--no-progress", dest="no_progress", action="store_true",
                        help="no progress output")


def build_config(args) -> dict:
    """The one-model config the flags describe."""
    from ..experiments.params import chosen_params

    kinds = estimator_kinds()
    params = chosen_params(args, args._param_dests, kinds[args.model], args.model)
    options = dataset_options(args.option)
    if args.size is not None:
        options["size"] = args.size
    elif args.dataset in ("mnist", "fashion-mnist"):
        options.setdefault("size", 20)  # the hackathon's resolution; 28x28 is four times the spins
    split = {"n_train": args.n_train, "n_val": args.n_val, "n_test": args.n_test}
    if args.n_test == 0:
        split["evaluate_on"] = "val"
    return {"name": f"train-{args.model}",
            "description": f"qboost-tn train: {args.model} on {args.dataset}",
            "data": {"name": args.dataset, "options": options},
            "split": split, "seeds": [args.seed], "output": "runs",
            "models": [{"kind": args.model, "name": args.model, "params": params}]}


_FLAGS = [(r"^models\[0\]\.params\.(\w+)", lambda m: "--" + m.group(1).replace("_", "-")),
          (r"^split\.(n_\w+)", lambda m: "--" + m.group(1).replace("_", "-")),
          (r"^data\.name", lambda m: "--dataset"), (r"^data\.options\.(\w+)", lambda m: f"--option {m.group(1)}")]


def _as_flags(problem: str) -> str:
    """A config problem ("models[0].params.n_jobs: ...") named by the flag that set it ("--n-jobs: ...")."""
    import re

    for pattern, flag in _FLAGS:
        problem, n = re.subn(pattern, flag, problem)
        if n:
            break
    return problem


def run(args) -> int:
    from ..errors import QBoostTNError
    from ..experiments.schema import ConfigError
    from .run import execute

    args.overrides, args.models = [], []
    try:
        return execute(build_config(args), args)[0]
    except ConfigError as exc:
        raise QBoostTNError("; ".join(_as_flags(p) for p in exc.problems)) from exc
