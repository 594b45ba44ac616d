"""The TensorNetwork blog's two-core layer: an MLP whose 784 -> 512 layer is an MPO of two cores with bond 2,
against the same MLP with the dense layer, on any IDX image set (MNIST by default).

Usage: python benchmarks/two_core_layer.py [--path DIR] [--hidden 512] [--max-bond 2] [--seed 0]

DIR holds the four IDX files of an image set in the MNIST layout (train/t10k images and labels, ``.gz`` or
not; names matched by ``*train*images*``, ``*t10k*images*`` or ``*test*images*``, and the same with
``labels``), e.g. MNIST or Fashion-MNIST. Images of any size: the input layer has height x width features,
split into two balanced modes (28 x 28 for MNIST). The network is ``in -> hidden (ReLU) -> classes``; both
variants train with AdamW (lr 1e-3, lr halved on a validation-loss plateau), batch 128 and early stopping on a
validation part of 1/10 of the training set (best weights restored). Prints the layer's parameter fraction,
test accuracy of both, the gap (bar: within 1 point) and the bond entropies of the trained two-core layer.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from qboost_tn.data.idx import read_idx
from qboost_tn.errors import DataError
from qboost_tn.mpo import entanglement_table, mpo_network
from qboost_tn.nets import evaluate_model, fit, make_mlp

ROOT = Path(__file__).resolve().parents[1]


def _find(folder: Path, part: str, kind: str) -> Path:
    patterns = [f"*{part}*{kind}*" for part in ([part] if part == "train" else ["t10k", "test"])]
    matches = sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})
    if len(matches) != 1:
        raise DataError(f"{folder}: expected one IDX file matching {' or '.join(patterns)}, found "
                        f"{[m.name for m in matches] or 'none'}")
    return matches[0]


def load_idx_folder(folder):
    """``(X_train, y_train, X_test, y_test)`` from a folder of IDX files; images flattened and scaled to [0, 1]."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--path {folder}: not a folder")
    arrays = []
    for part in ("train", "test"):
        images, labels = read_idx(_find(folder, part, "images")), read_idx(_find(folder, part, "labels"))
        if images.ndim < 2 or len(images) != len(labels):
            raise DataError(f"{folder}: {part} images {images.shape} and labels {labels.shape} do not match")
        arrays += [images.reshape(len(images), -1).astype(np.float32) / 255.0, labels.astype(np.int64)]
    return arrays


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--max-bond", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=60, help="upper bound; early stopping ends sooner")
    parser.add_argument("--patience", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    X, y, X_test, y_test = load_idx_folder(args.path)
    order = np.random.default_rng(args.seed).permutation(len(X))
    n_val = len(X) // 10
    val, train = order[:n_val], order[n_val:]
    data = (X[train], y[train], X[val], y[val])
    n_features, n_classes = X.shape[1], int(max(y.max(), y_test.max())) + 1
    train_args = {"epochs": args.epochs, "patience": args.patience, "lr": args.lr, "batch_size": 128,
                  "schedule": "plateau", "seed": args.seed, "progress": False}
    rows = []
    for name in ("dense", "two-core MPO"):
        t = time.perf_counter()
        model = make_mlp(n_features, hidden=(args.hidden,), n_outputs=n_classes, seed=args.seed)
        if name != "dense":
            model = mpo_network(model, layers=["0"], max_bond=args.max_bond, n_cores=2, seed=args.seed)
        history = fit(model, data, desc=name, **train_args)
        layer = model[0]
        params = getattr(layer, "n_weight_params", layer.weight.numel())
        summary = evaluate_model(model, X_test, y_test)
        rows.append({"model": name, "layer": f"{n_features}->{args.hidden}",
                     "modes": (f"{'x'.join(map(str, layer.in_modes))} -> {'x'.join(map(str, layer.out_modes))}, "
                               f"bond {layer.max_bond}") if name != "dense" else "dense",
                     "layer_params": params, "layer_fraction_%": 100 * params / (n_features * args.hidden),
                     "test_accuracy_%": 100 * summary["accuracy"], "epochs": history.attrs["epochs"],
                     "best_epoch": history.attrs["best_epoch"], "seconds": time.perf_counter() - t})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(f"\ndata: {args.path} ({len(train)} train / {len(val)} validation / {len(X_test)} test, {n_features} "
          f"features, {n_classes} classes)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    gap = table["test_accuracy_%"].iloc[0] - table["test_accuracy_%"].iloc[1]
    print(f"bar (two-core layer at {table['layer_fraction_%'].iloc[1]:.2f} % of its parameters within 1 point of "
          f"dense): gap {gap:+.2f} points -> {'PASS' if gap <= 1.0 else 'FAIL'}")
    print("bond entropies of the trained two-core layer (nats):")
    print(entanglement_table(model).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"total runtime: {time.perf_counter() - started:.0f} s (torch threads: {args.threads})")


if __name__ == "__main__":
    main()
