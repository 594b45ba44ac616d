"""Full MNIST, FC2 784-256-10: the first layer as an MPO at <= 5 % of its parameters against the dense network,
by compress-then-fine-tune (plain, and gradual truncation with distillation) and trained from scratch.

Usage: python benchmarks/mpo_mnist.py [--path ../shared/data/mnist] [--fraction 0.05] [--seed 0]

Every network trains with AdamW and early stopping on a 6,000-image validation part of the training set (best
weights restored), with the same schedule (lr halved on a validation-loss plateau) and the same patience;
fine-tuning uses the same stopping rule. Test accuracy is on the official 10,000 test images. For each MPO
network the bond entropies of layer 0 are printed before and after fine-tuning (or training), against ln chi.
Bar (issue 13; Gao et al., PRR 2, 023300, 2020 report parity): within 0.2 points of dense.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from qboost_tn.data import Prepared, load_dataset, split
from qboost_tn.mpo import compress, compress_fine_tune, entanglement_table, fine_tune, mpo_network, truncation_steps
from qboost_tn.nets import evaluate_model, fit, make_mlp

ROOT = Path(__file__).resolve().parents[1]


def load(path, seed):
    train = load_dataset("mnist", path=path, subset="train")
    test = load_dataset("mnist", path=path, subset="test")
    parts = split(train, n_train=54000, n_val=6000, seed=seed)
    scale = 255.0 if train.X.max() > 1 else 1.0
    return Prepared(train.X[parts.train] / scale, train.y[parts.train], train.X[parts.val] / scale,
                    train.y[parts.val], test.X / scale, test.y, None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--fraction", type=float, default=0.05)
    # 4x7x7x4 splits a row-major 28x28 image into (7 rows, row, 4 columns, column): the middle bond then cuts
    # between rows and columns, as in Gao et al.; at the same budget its TT-SVD error on the trained layer is
    # lower than the balanced 7x7x4x4 (0.857 vs 0.897 in a trial run), which is why it is the default here.
    parser.add_argument("--in-modes", default="4,7,7,4", help="modes of the 784 inputs; 'auto' = balanced")
    parser.add_argument("--epochs", type=int, default=60, help="upper bound; early stopping ends sooner")
    parser.add_argument("--patience", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--distill", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip", default="", help="comma list of rows to skip: plain,gradual,scratch")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    skip = set(filter(None, args.skip.split(",")))
    started = time.perf_counter()
    data = load(args.path, args.seed)
    train_args = {"epochs": args.epochs, "patience": args.patience, "lr": args.lr, "batch_size": 128,
                  "schedule": "plateau", "monitor": "loss", "seed": args.seed, "progress": False}
    shapes = None if args.in_modes == "auto" else {"0": (tuple(map(int, args.in_modes.split(","))), (4, 4, 4, 4))}
    options = {} if shapes is None else {"shapes": shapes}
    rows, entropies = [], []

    def row(name, model, seconds, history=None, report=None):
        summary = evaluate_model(model, data.X_test, data.y_test)
        layer = model[0]
        params = layer.weight.numel() if isinstance(layer, torch.nn.Linear) else layer.n_weight_params
        rows.append({"model": name, "layer0_params": params, "layer0_fraction": params / (784 * 256),
                     "max_bond": max(getattr(layer, "max_bond", [0])) or None,
                     "test_accuracy_%": 100 * summary["accuracy"], "test_macro_auc": summary["macro_auc"],
                     "epochs": None if history is None else history.attrs["epochs"],
                     "best_epoch": None if history is None else history.attrs["best_epoch"], "seconds": seconds})
        print(rows[-1], flush=True)

    def record_entropy(name, stage, model):
        entropies.append(entanglement_table(model).assign(model=name, stage=stage))

    t = time.perf_counter()
    dense = make_mlp(784, hidden=(256,), n_outputs=10, seed=args.seed)
    history = fit(dense, data, desc="dense", **train_args)
    row("dense FC2", dense, time.perf_counter() - t, history)

    t = time.perf_counter()
    compressed, report = compress(dense, layers=["0"], budget=args.fraction, **options)
    chi = int(report.max_bond.iloc[0])
    row(f"MPO chi={chi}, TT-SVD only", compressed, time.perf_counter() - t)
    print(f"compression of layer 0: modes {report.in_modes.iloc[0]} -> {report.out_modes.iloc[0]}, bonds "
          f"{report.bond_dims.iloc[0]}, relative error {report.rel_error.iloc[0]:.3f}", flush=True)
    if "plain" not in skip:
        record_entropy("fine-tune", "before", compressed)
        t = time.perf_counter()
        history = fine_tune(compressed, data, **train_args)
        row(f"MPO chi={chi}, fine-tuned", compressed, time.perf_counter() - t, history)
        record_entropy("fine-tune", "after", compressed)
    if "gradual" not in skip:
        t = time.perf_counter()
        model, _, history = compress_fine_tune(dense, data, layers=["0"], budget=args.fraction,
                                               steps=truncation_steps(4 * chi, chi)[:-1], step_epochs=2,
                                               distill=args.distill, compress_options=options, **train_args)
        row(f"MPO chi={chi}, gradual + distillation", model, time.perf_counter() - t, history)
        record_entropy("gradual + distillation", "after", model)
    if "scratch" not in skip:
        t = time.perf_counter()
        scratch = mpo_network(make_mlp(784, hidden=(256,), n_outputs=10, seed=args.seed), layers=["0"],
                              max_bond=chi, seed=args.seed, **options)
        record_entropy("scratch", "before", scratch)
        history = fit(scratch, data, desc="scratch", **train_args)
        row(f"MPO chi={chi}, from scratch", scratch, time.perf_counter() - t, history)
        record_entropy("scratch", "after", scratch)

    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    dense_acc = table["test_accuracy_%"].iloc[0]
    for r in table.iloc[2:].to_dict("records"):
        acc = r["test_accuracy_%"]
        print(f"bar ({r['model']}, {100 * r['layer0_fraction']:.2f} % of layer 0): {acc:.2f} % vs dense "
              f"{dense_acc:.2f} % (gap {dense_acc - acc:+.2f} points) -> {'PASS' if dense_acc - acc <= 0.2 else 'FAIL'}")
    if entropies:
        ent = pd.concat(entropies, ignore_index=True)
        ent["fraction_of_ln_chi"] = ent["entropy"] / ent["max_entropy"]
        print("\nlayer 0 bond entropies (nats) against ln chi:")
        print(ent.pivot_table(index=["model", "stage"], columns="bond", values="entropy").round(3).to_string())
        print("bound ln chi per bond:", ent.groupby("bond")["max_entropy"].first().round(3).tolist())
    print(f"total runtime: {time.perf_counter() - started:.0f} s (torch threads: {args.threads}, seed {args.seed})")


if __name__ == "__main__":
    main()
