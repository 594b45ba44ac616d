"""Compress an MLP's layers into MPOs: the Bank Marketing hands-on (bond sweep, fine-tuning, from scratch, baselines).

Trains the dense MLP (62-256-256-1 on Bank Marketing), compresses one layer at each bond dimension of --bond,
fine-tunes, trains an MPO network from scratch, compares pruning / int8 / low-rank at the same budget and
compresses the first and all hidden layers. Writes CSV tables, report.json and entanglement plots into a new
--out directory (the whole directory appears only when everything succeeded).
"""
from __future__ import annotations

from pathlib import Path


def _bond(text):
    if text.lower() in ("full", "none"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--bond: {text!r} is not an integer or 'full'") from None
    if value < 1:
        raise ValueError(f"--bond: bond dimensions must be >= 1, got {value}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", default="bank-marketing",
                        help="registered binary data set (default bank-marketing)")
    parser.add_argument("--path", help="file or folder of the data (default: download into the cache)")
    parser.add_argument("--target", help="label column, for --dataset csv")
    parser.add_argument("--bond", nargs="+", default=["1", "2", "4", "8", "16", "32", "64", "full"],
                        metavar="CHI", help="bond dimensions of the sweep; 'full' = untruncated "
                                            "(default: 1 2 4 8 16 32 64 full)")
    parser.add_argument("--layer", default="2", help="name of the nn.Linear layer swept (default '2', the "
                                                     "256x256 layer of Sequential 62-256-256-1)")
    parser.add_argument("--n-cores", type=int, default=4, help="cores per MPO (default 4)")
    parser.add_argument("--pattern", default="balanced", choices=["balanced", "ascending", "descending", "pow2"],
                        help="how sizes are split into modes (default balanced)")
    parser.add_argument("--budget-bond", type=int, default=4,
                        help="bond setting the budget of the pruning/low-rank rows and of the first/all-hidden "
                             "layer rows (default 4: < 1%% of the 256x256 weights)")
    parser.add_argument("--scratch-bond", type=int, default=4, help="bond of the network trained from scratch")
    parser.add_argument("--epochs", type=int, default=200, help="max epochs, dense and from scratch (default 200)")
    parser.add_argument("--patience", type=int, default=20, help="early-stopping patience (default 20)")
    parser.add_argument("--finetune-epochs", type=int, default=20, help="max fine-tuning epochs (default 20)")
    parser.add_argument("--finetune-patience", type=int, default=5, help="fine-tuning patience (default 5)")
    parser.add_argument("--cores-only", action="store_true", help="fine-tune only the MPO cores")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, metavar="DIR", help="new output directory (must not exist)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args) -> int:
    import pandas as pd

    from .._io import atomic_dir, write_json, write_text
    from ..data import load_dataset
    from ..eval.plots import plot_metric_vs_params
    from ..mpo import plot_entropy_evolution, plot_entropy_profile, run_bank_marketing

    out = Path(args.out)
    if out.exists():
        raise ValueError(f"--out {out} already exists; give a new directory")
    for name in ("epochs", "finetune_epochs", "n_cores", "budget_bond", "scratch_bond", "batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
    bonds = tuple(_bond(b) for b in args.bond)
    options = {key: value for key, value in (("path", args.path), ("target", args.target)) if value}
    dataset = load_dataset(args.dataset, **options)
    results = run_bank_marketing(dataset=dataset, bonds=bonds, layer=args.layer, epochs=args.epochs,
                                 patience=args.patience, finetune_epochs=args.finetune_epochs,
                                 finetune_patience=args.finetune_patience, cores_only=args.cores_only,
                                 budget_bond=args.budget_bond, scratch_bond=args.scratch_bond,
                                 n_cores=args.n_cores, pattern=args.pattern, seed=args.seed, lr=args.lr,
                                 batch_size=args.batch_size,
                                 progress=not args.no_progress)

    with atomic_dir(out) as staging:
        text = []
        for name, table in results.items():
            table.to_csv(staging / f"{name}.csv", index=False)
            if name != "histories":
                text.append(f"== {name} ==\n{table.to_string(index=False, float_format=lambda v: f'{v:.4g}')}\n")
        write_json(staging / "report.json", {k: v.to_dict(orient="records") for k, v in results.items()
                                             if k != "histories"} | {"arguments": vars(args) | {"_run": None}})
        write_text(staging / "report.txt", "\n".join(text))
        plot_entropy_profile(results["entanglement"], hue="chi", path=staging / "entropy_profile.png",
                             title=f"Bond entropy of layer {args.layer} after fine-tuning (nats)")
        histories = results["histories"]
        for run_name in histories["run"].unique():
            history = histories[histories["run"] == run_name].dropna(axis=1, how="all")
            if any(c.startswith("S[") for c in history.columns):
                slug = run_name.replace(" ", "_").replace("=", "")
                plot_entropy_evolution(history, path=staging / f"entropy_evolution_{slug}.png",
                                       title=f"Bond entropy during {run_name} (nats)")
        sweep = results["sweep"]
        curve = pd.concat([
            sweep.assign(model="MPO before fine-tuning", macro_auc=sweep.test_auc_before_ft),
            sweep.assign(model="MPO after fine-tuning", macro_auc=sweep.test_auc_after_ft)])
        plot_metric_vs_params(curve, x="params", y="macro_auc", hue="model", path=staging / "auc_vs_params.png",
                              title=f"Test ROC-AUC against parameters of layer {args.layer}")
    print("\n".join(text))
    print(f"written: {out}")
    return 0
