"""Train a shallow-wide Ising learner or classic QBoost by annealing; write metrics JSON and weight maps.

Example: qboost-tn train --dataset mnist --size 20 --n-train 150 --n-val 300 --model shallow-wide --layers 4
"""
from __future__ import annotations

from ._options import dataset_options


def add_arguments(parser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="mnist", help="registered data set (default: %(default)s)")
    data.add_argument("--size", type=int, default=None,
                      help="resize images to SIZE x SIZE (default: 20 for mnist / fashion-mnist)")
    data.add_argument("--option", action="append", metavar="KEY=VALUE", default=[],
                      help="further loader option, e.g. path=../shared/data/bank-marketing (repeatable)")
    data.add_argument("--n-train", type=int, default=150)
    data.add_argument("--n-val", type=int, default=300)
    data.add_argument("--n-test", type=int, default=None, help="default: every sample left over")
    model = parser.add_argument_group("model")
    model.add_argument("--model", choices=["shallow-wide", "qboost"], default="shallow-wide")
    model.add_argument("--layers", type=int, default=None, help="spin layers L (shallow-wide)")
    model.add_argument("--k", default=None, help="score scale k: a number or 'auto' (shallow-wide)")
    model.add_argument("--lam", type=float, default=None, help="regularisation strength λ")
    model.add_argument("--regularizer", choices=["squared", "linear"], default=None)
    model.add_argument("--batch-size", type=int, default=None, help="mini-batch bagging (shallow-wide)")
    solve = parser.add_argument_group("solving")
    solve.add_argument("--solver", default=None, help="neal, tabu, steepest, exact, layered (default: neal)")
    solve.add_argument("--num-reads", type=int, default=None)
    solve.add_argument("--num-sweeps", type=int, default=None)
    solve.add_argument("--n-jobs", type=int, default=None, help="worker processes (-1: every core)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the split and the annealing")
    parser.add_argument("--out", default="qboost-tn-output/train", help="output folder (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _params(args) -> dict:
    chosen = {"n_layers": args.layers, "k": args.k, "lam": args.lam, "regularizer": args.regularizer,
              "batch_size": args.batch_size, "solver": args.solver, "num_reads": args.num_reads,
              "num_sweeps": args.num_sweeps, "n_jobs": args.n_jobs}
    if chosen["k"] is not None and chosen["k"] != "auto":
        try:
            chosen["k"] = float(chosen["k"])
        except ValueError:
            raise ValueError(f"--k must be a number or 'auto', got {args.k!r}") from None
    params = {key: value for key, value in chosen.items() if value is not None}
    if args.model == "qboost":
        flags = {"n_layers": "--layers", "k": "--k", "regularizer": "--regularizer", "batch_size": "--batch-size"}
        ignored = [flag for key, flag in flags.items() if key in params]
        if ignored:
            raise ValueError(f"--model qboost does not use {', '.join(ignored)}")
    return params


def run(args) -> int:
    from ..qubo.train import train_and_evaluate

    options = dataset_options(args.option)
    if args.size is not None:
        options["size"] = args.size
    elif args.dataset in ("mnist", "fashion-mnist"):
        options.setdefault("size", 20)
    result = train_and_evaluate(args.dataset, model=args.model, params=_params(args), dataset_options=options,
                                n_train=args.n_train, n_val=args.n_val, n_test=args.n_test, seed=args.seed,
                                out=args.out, progress=not args.quiet)
    for part, evaluation in result.evaluations.items():
        s = evaluation.summary
        print(f"{part}: macro AUC {s['macro_auc']:.4f}, accuracy {s['accuracy']:.4f} on {s['n_samples']} samples")
    m = result.metrics
    print(f"fit {m['fit_seconds']:.1f} s, sparsity {m['sparsity']:.2f}, {m['n_params']} parameters; "
          f"wrote {', '.join(str(p) for p in result.paths.values())}")
    return 0
