"""The main job: learn MNIST 20x20 from 150 samples, write per-class AUCs and weight maps."""
from __future__ import annotations

from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="qboost-tn-output/demo", help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from .._io import write_json
    from ..data import load_dataset, prepare, split
    from ..eval import evaluate
    from ..eval.plots import plot_weight_maps

    ds = load_dataset("mnist", size=20)
    data = prepare(ds, split(ds, n_train=150, n_val=300, seed=args.seed))
    model = LogisticRegression(max_iter=2000).fit(data.X_train, data.y_train)
    result = evaluate(data.y_val, model.decision_function(data.X_val), ds.class_names,
                      proba=model.predict_proba(data.X_val))
    out = Path(args.out)
    write_json(out / "metrics.json", result.to_dict())
    plot_weight_maps(model.coef_, ds.image_shape, ds.class_names, path=out / "weight_maps.png",
                     title="logistic regression weights")
    print(result.per_class[["class", "auc"]].to_string(index=False))
    print(f"macro AUC {result['macro_auc']:.4f} on {len(data.y_val)} validation digits; wrote {out}")
    return 0
