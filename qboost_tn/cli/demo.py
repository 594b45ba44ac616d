"""The main job: the shallow-wide Ising learner on MNIST 20x20 from 150 samples; AUCs and weight maps."""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="qboost-tn-output/demo", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=None, help="worker processes for the ten class problems")


def run(args) -> int:
    from ..qubo.train import train_and_evaluate

    result = train_and_evaluate("mnist", dataset_options={"size": 20}, n_train=150, n_val=300, seed=args.seed,
                                params={"n_jobs": args.n_jobs}, out=args.out)
    val, test = result.evaluations["val"], result.evaluations["test"]
    table = val.per_class[["class", "auc"]].rename(columns={"auc": "val_auc"}).assign(test_auc=test.per_class["auc"])
    print(table.to_string(index=False, float_format="%.4f"))
    print(f"macro AUC {val['macro_auc']:.4f} on {val['n_samples']} validation digits, {test['macro_auc']:.4f} on "
          f"{test['n_samples']} test digits; fit {result.metrics['fit_seconds']:.1f} s, "
          f"{result.estimator.n_params_} parameters, sparsity {result.estimator.sparsity_:.2f}")
    print(f"wrote {', '.join(str(p) for p in result.paths.values())}")
    return 0
