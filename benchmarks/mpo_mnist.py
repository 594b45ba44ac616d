"""Full MNIST, FC2 784-256-10: the first layer as an MPO at <= 5 % of its parameters against the dense network,
by compress-then-fine-tune (plain, and gradual truncation with distillation) and trained from scratch.

Usage: python benchmarks/mpo_mnist.py [--path ../shared/data/mnist] [--fraction 0.05] [--seed 0]
       [--in-modes 28,4,7 --out-modes 4,16,4] [--compare-splits [IN:OUT ...]]

Every network (dropout 0.2 after the hidden layer) trains with AdamW and early stopping on a 6,000-image
validation part of the training set (best weights restored), with the same schedule (lr halved on a
validation-loss plateau) and the same patience; fine-tuning uses the same stopping rule. Each row is trained
once per weight decay of ``--weight-decays`` (0 and 0.05) and keeps the run with the lower validation loss: the
same grid, so the same budget, for every row. Test accuracy is on the official 10,000 test images. For each
MPO network the bond entropies of layer 0 are printed before and after fine-tuning (or training), against
ln chi. Bar (issue 13; Gao et al., PRR 2, 023300, 2020 report parity): within 0.2 points of dense.

Choices, made on seed 0's validation part (the test set only reports):

- dropout 0.2: dense validation accuracy 98.23 % vs 97.90 % without (validation loss 0.065 vs 0.075); it
  also lowers the from-scratch MPO's validation loss (0.081 -> 0.072 for 28x4x7 -> 8x4x8).
- patience 10 (lr halved after 2 epochs without a lower validation loss) instead of 6: fine-tuned MPO
  validation loss 0.0647 -> 0.0612, from scratch 0.0678 -> 0.0672, dense unchanged (0.0653 -> 0.0655).
- the weight-decay grid {0, 0.05}: from scratch at patience 10, validation loss 0.0672 -> 0.0648 on seed 0
  (0.0647 -> 0.0528 on seed 1's validation part); offered to every row, not only the one it helps. It was
  tried because the patience-10 run missed the bar from scratch on seed 1's test set (table below); the grid
  itself is judged on validation loss only, and the table keeps the runs before it.
- the split 28 x 4 x 7 -> 4 x 16 x 4 (3 cores, chi 11, 9,284 parameters, 4.63 %). TT-SVD of the trained layer
  (``--compare-splits``): relative weight error 0.832 and pre-activation error 0.699 on the validation images,
  the lowest of 12 splits of 2-4 cores (4x7x7x4 -> 4x4x4x4: 0.872 / 0.852; two cores 28x28 -> 16x16: 0.875 /
  0.842). The weight error stays above 0.8 for every split, and not because of the random initialisation (the
  learned change W - W_init is 98 % of the weight's norm and has error 0.827 alone): the layer is far from
  low-rank in any of these splits and fine-tuning relearns much of it; the pre-activation error separates the
  splits better. Best validation loss (accuracy) after training at patience 6, fine-tuned / from scratch:
  0.0647 (98.38 %) / 0.0678 (98.03 %), against 4x7x7x4 -> 4x4x4x4 0.0701 (98.02 %) / 0.0695 (98.07 %),
  28x28 -> 16x16 0.0692 (98.17 %) / 0.0698 (98.02 %) and 28x4x7 -> 8x4x8 (chi 17) 0.0660 (98.30 %) / 0.0717
  (97.78 %). Two cores are not better per parameter here: at 5 % their single bond is 11 wide over a 448 x 448
  unfolding.

Measured (one torch thread, 2 shared cores; test accuracy %, gap to dense in points; runtime of the whole run):

  recipe                     seed  dense   fine-tuned      gradual + distill  from scratch    runtime
  patience 6, no decay       0     98.25   98.11 (+0.14)   98.30 (-0.05)      98.14 (+0.11)   424 s
  patience 6, no decay       1     98.29   98.26 (+0.03)   98.22 (+0.07)      98.01 (+0.28)   310 s
  patience 10, no decay      0     98.20   98.25 (-0.05)   98.31 (-0.11)      98.27 (-0.07)   203 s
  patience 10, no decay      1     98.24   98.16 (+0.08)   98.31 (-0.07)      97.96 (+0.28)   230 s
  defaults (decay grid)      0     98.30   98.31 (-0.01)   98.14 (+0.16)      98.30 (+0.00)   466 s
  defaults (decay grid)      1     98.37   98.25 (+0.12)   98.24 (+0.13)      98.36 (+0.01)   498 s

With the defaults every row picked weight decay 0.05 and every MPO row is within 0.2 points of dense on both
seeds. From scratch on seed 1 and gradual on seed 0 ran to the 60-epoch cap (best epochs 60 and 55).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from qboost_tn.data import Prepared, load_dataset, split
from qboost_tn.errors import QBoostTNError
from qboost_tn.mpo import compress, compress_fine_tune, entanglement_table, mpo_network, truncation_steps
from qboost_tn.nets import evaluate_model, fine_tune, fit, make_mlp

ROOT = Path(__file__).resolve().parents[1]


def load(path, seed):
    train = load_dataset("mnist", path=path, subset="train")
    test = load_dataset("mnist", path=path, subset="test")
    parts = split(train, n_train=54000, n_val=6000, seed=seed)
    scale = 255.0 if train.X.max() > 1 else 1.0
    return Prepared(train.X[parts.train] / scale, train.y[parts.train], train.X[parts.val] / scale,
                    train.y[parts.val], test.X / scale, test.y, None)


def _modes(text):
    return None if text == "auto" else tuple(int(m) for m in text.split(","))


def mpo_options(in_modes, out_modes, n_cores):
    """``compress``/``mpo_network`` options for layer 0 from the command line's mode lists ("auto" = balanced)."""
    ins, outs = _modes(in_modes), _modes(out_modes)
    given = [len(m) for m in (ins, outs) if m is not None]
    if given and (len(set(given)) > 1 or (n_cores is not None and n_cores != given[0])):
        raise QBoostTNError(f"--in-modes {in_modes}, --out-modes {out_modes} and --n-cores {n_cores}: the mode lists "
                         "need one mode per core")
    n_cores = given[0] if given else n_cores or 4
    return {"n_cores": n_cores, "shapes": {"0": (ins, outs)}} if given else {"n_cores": n_cores}


# Splits of 784 -> 256 compared by --compare-splits: 28 = image rows, 4 x 7 or 7 x 4 = columns.
SPLITS = ("4,7,7,4:4,4,4,4", "7,7,4,4:4,4,4,4", "4,7,4,7:4,4,4,4", "28,28:16,16", "28,28:32,8", "28,28:8,32",
          "49,16:16,16", "28,4,7:8,4,8", "28,4,7:4,16,4", "28,7,4:8,4,8", "14,4,14:8,4,8", "7,4,28:8,4,8")


def compare_splits(dense, data, fraction, splits):
    """TT-SVD of the trained layer 0 at ``fraction`` for each ``"in:out"`` split: its size, relative weight
    error, relative error of the layer's pre-activations on the validation images (what the next layer sees)
    and the validation accuracy before any fine-tuning."""
    X_val = torch.as_tensor(data.X_val, dtype=torch.float32)
    with torch.no_grad():
        exact = dense[0](X_val)
    rows = []
    for text in splits:
        ins, outs = text.split(":")
        model, report = compress(dense, layers=["0"], budget=fraction, **mpo_options(ins, outs, None))
        with torch.no_grad():
            act_error = float(torch.linalg.norm(model[0](X_val) - exact) / torch.linalg.norm(exact))
        r = report.iloc[0]
        rows.append({"split": f"{r.in_modes} -> {r.out_modes}", "cores": len(ins.split(",")), "chi": r.max_bond,
                     "params": r.params_after, "fraction_%": round(100 * r.params_after / (784 * 256), 2),
                     "weight_rel_error": round(r.rel_error, 3), "activation_rel_error": round(act_error, 3),
                     "val_accuracy_%": round(100 * evaluate_model(model, data.X_val, data.y_val)["accuracy"], 2)})
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--fraction", type=float, default=0.05)
    # 28 x 4 x 7 -> 4 x 16 x 4 (3 cores, chi 11, 4.63 %): the 28 image rows, then each row's columns as 4 groups
    # of 7. Chosen on seed 0's validation split among 12 splits of 2-4 cores at <= 5 % (see the module docstring,
    # --compare-splits): lowest weight and pre-activation errors after TT-SVD and the lowest validation loss both
    # fine-tuned and from scratch. The earlier 4-core default is --in-modes 4,7,7,4 --out-modes 4,4,4,4.
    parser.add_argument("--in-modes", default="28,4,7", help="modes of the 784 inputs; 'auto' = balanced")
    parser.add_argument("--out-modes", default="4,16,4", help="modes of the 256 outputs; 'auto' = balanced")
    parser.add_argument("--n-cores", type=int, default=None,
                        help="cores when both mode lists are 'auto' (default 4); else the lists' length")
    parser.add_argument("--epochs", type=int, default=60, help="upper bound; early stopping ends sooner")
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--distill", type=float, default=0.5)
    parser.add_argument("--dropout", type=float, default=0.2, help="after the hidden layer, in every network")
    parser.add_argument("--weight-decays", default="0,0.05",
                        help="AdamW weight decays tried for every network; the lowest validation loss is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compare-splits", nargs="*", metavar="IN:OUT", default=None,
                        help="print the TT-SVD error of these splits of the trained dense layer 0 at the budget "
                             "(e.g. 28,28:16,16; none given: a built-in list of 2-, 3- and 4-core splits)")
    parser.add_argument("--skip", default="", help="comma list of rows to skip: plain,gradual,scratch")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    skip = set(filter(None, args.skip.split(",")))
    started = time.perf_counter()
    data = load(args.path, args.seed)
    train_args = {"epochs": args.epochs, "patience": args.patience, "lr": args.lr, "batch_size": 128,
                  "schedule": "plateau", "monitor": "loss", "seed": args.seed, "progress": False}
    options = mpo_options(args.in_modes, args.out_modes, args.n_cores)
    decays = [float(d) for d in args.weight_decays.split(",")]
    rows, entropies = [], []

    def tuned(train):
        """``train(weight_decay) -> (model, history)`` for every weight decay of the grid; the run with the lowest
        validation loss, its history (``attrs["weight_decay"]`` set) and the seconds of the whole grid."""
        start, runs = time.perf_counter(), []
        for decay in decays:
            model, history = train(decay)
            history.attrs["weight_decay"] = decay
            runs.append((history["val_loss"].min(), len(runs), model, history))
        _, _, model, history = min(runs)
        return model, history, time.perf_counter() - start

    def row(name, model, seconds, history=None):
        summary = evaluate_model(model, data.X_test, data.y_test)
        val = evaluate_model(model, data.X_val, data.y_val)
        layer = model[0]
        params = layer.weight.numel() if isinstance(layer, torch.nn.Linear) else layer.n_weight_params
        rows.append({"model": name, "layer0_params": params, "layer0_fraction": params / (784 * 256),
                     "max_bond": max(getattr(layer, "max_bond", [0])) or None,
                     "val_accuracy_%": 100 * val["accuracy"], "test_accuracy_%": 100 * summary["accuracy"],
                     "test_macro_auc": summary["macro_auc"],
                     "weight_decay": None if history is None else history.attrs["weight_decay"],
                     "epochs": None if history is None else history.attrs["epochs"],
                     "best_epoch": None if history is None else history.attrs["best_epoch"], "seconds": seconds})
        print(rows[-1], flush=True)

    def record_entropy(name, stage, model):
        entropies.append(entanglement_table(model).assign(model=name, stage=stage))

    def train_dense(decay):
        model = make_mlp(784, hidden=(256,), n_outputs=10, dropout=args.dropout, seed=args.seed)
        return model, fit(model, data, desc="dense", weight_decay=decay, **train_args)

    dense, history, seconds = tuned(train_dense)
    row("dense FC2", dense, seconds, history)

    if args.compare_splits is not None:
        print(compare_splits(dense, data, args.fraction, args.compare_splits or SPLITS).to_string(index=False),
              flush=True)

    t = time.perf_counter()
    compressed, report = compress(dense, layers=["0"], budget=args.fraction, **options)
    chi = int(report.max_bond.iloc[0])
    row(f"MPO chi={chi}, TT-SVD only", compressed, time.perf_counter() - t)
    print(f"compression of layer 0: modes {report.in_modes.iloc[0]} -> {report.out_modes.iloc[0]}, bonds "
          f"{report.bond_dims.iloc[0]}, relative error {report.rel_error.iloc[0]:.3f}", flush=True)
    if "plain" not in skip:
        record_entropy("fine-tune", "before", compressed)

        def train_plain(decay):
            model = compress(dense, layers=["0"], budget=args.fraction, **options)[0]
            return model, fine_tune(model, data, weight_decay=decay, **train_args)

        model, history, seconds = tuned(train_plain)
        row(f"MPO chi={chi}, fine-tuned", model, seconds, history)
        record_entropy("fine-tune", "after", model)
    if "gradual" not in skip:
        def train_gradual(decay):
            model, _, history = compress_fine_tune(dense, data, layers=["0"], budget=args.fraction,
                                                   steps=truncation_steps(4 * chi, chi)[:-1], step_epochs=2,
                                                   distill=args.distill, compress_options=options,
                                                   weight_decay=decay, **train_args)
            return model, history

        model, history, seconds = tuned(train_gradual)
        row(f"MPO chi={chi}, gradual + distillation", model, seconds, history)
        record_entropy("gradual + distillation", "after", model)
    if "scratch" not in skip:
        skeleton = make_mlp(784, hidden=(256,), n_outputs=10, dropout=args.dropout, seed=args.seed)
        record_entropy("scratch", "before", mpo_network(skeleton, layers=["0"], max_bond=chi, seed=args.seed,
                                                        **options))

        def train_scratch(decay):
            model = mpo_network(skeleton, layers=["0"], max_bond=chi, seed=args.seed, **options)
            return model, fit(model, data, desc="scratch", weight_decay=decay, **train_args)

        model, history, seconds = tuned(train_scratch)
        row(f"MPO chi={chi}, from scratch", model, seconds, history)
        record_entropy("scratch", "after", model)

    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    dense_acc, dense_val = table["test_accuracy_%"].iloc[0], table["val_accuracy_%"].iloc[0]
    for r in table.iloc[2:].to_dict("records"):
        acc = r["test_accuracy_%"]
        print(f"bar ({r['model']}, {100 * r['layer0_fraction']:.2f} % of layer 0): {acc:.2f} % vs dense "
              f"{dense_acc:.2f} % (gap {dense_acc - acc:+.2f} points; validation gap "
              f"{dense_val - r['val_accuracy_%']:+.2f}) -> {'PASS' if dense_acc - acc <= 0.2 else 'FAIL'}")
    if entropies:
        ent = pd.concat(entropies, ignore_index=True)
        ent["fraction_of_ln_chi"] = ent["entropy"] / ent["max_entropy"]
        print("\nlayer 0 bond entropies (nats) against ln chi:")
        print(ent.pivot_table(index=["model", "stage"], columns="bond", values="entropy").round(3).to_string())
        print("bound ln chi per bond:", ent.groupby("bond")["max_entropy"].first().round(3).tolist())
    print(f"total runtime: {time.perf_counter() - started:.0f} s (torch threads: {args.threads}, seed {args.seed})")


if __name__ == "__main__":
    main()
