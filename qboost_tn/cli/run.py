"""Run the models of an experiment config; write metrics, figures and report.html.

CONFIG is a YAML file or the name of a shipped config (list them with --list; start your own with
`qboost-tn init-config`). Relative paths inside a config resolve against the current directory. Every run gets
a new folder <output>/<name>-<timestamp>, or exactly --out DIR, which must be new or empty: nothing earlier is
ever overwritten.
"""
from __future__ import annotations

import sys


def add_run_options(parser) -> None:
    """Options shared by every command that runs a config (run, compare, demo, train, compress)."""
    parser.add_argument("--out", metavar="DIR", help="exact run directory (must be new or empty); "
                                                     "default: <output>/<name>-<timestamp> from the config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change the config, e.g. --set split.n_train=50 --set 'seeds=[0,1,2]' "
                             "--set models[0].params.C=0.5; repeatable")
    parser.add_argument("--model", dest="models", action="append", default=[], metavar="NAME",
                        help="run only this model of the config; repeatable")
    parser.add_argument("--dry-run", action="store_true", help="validate and print the resolved config, run nothing")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress output (default: bars on a terminal, one line per model otherwise)")


def add_arguments(parser) -> None:
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="YAML file or shipped config name")
    parser.add_argument("--list", action="store_true", help="list the shipped configs and exit")
    add_run_options(parser)


def list_configs() -> None:
    from ..experiments.config import read_yaml, shipped_configs

    for name, path in shipped_configs().items():
        description = read_yaml(path).get("description", "")
        print(f"{name:24s} {description}")
    print("\nStart your own from a commented copy:  qboost-tn init-config NAME my.yaml")


def execute(config, args, overrides=(), dataset=None):
    """Run (or with --dry-run, only validate) ``config`` with the shared options; print the table and each
    model's per-class ROC-AUC.

    Returns ``(exit status, Run or None)``: 1 when a model failed.
    """
    from ..experiments.config import dump_config, load_config, select_models

    overrides = list(overrides) + list(args.overrides)
    # Checked before the runner (pandas, the learners) is imported: a mistake is reported at once.
    cfg = load_config(config, overrides)
    if args.dry_run:
        if args.out is not None:
            from ..experiments.runner import check_run_dir

            check_run_dir(args.out)  # a dry run refuses what the run would
        print(dump_config(select_models(cfg, args.models) if args.models else cfg), end="")
        return 0, None
    from ..experiments.runner import run_experiment

    run = run_experiment(config, out=args.out, overrides=overrides, models=args.models or None,
                         progress=False if args.no_progress else None, dataset=dataset)
    table = run.table
    columns = [c for c in ("model", "seed", "macro_auc", "accuracy", "n_params", "model_bytes", "fit_time_s",
                           "sparsity", "status") if c in table.columns]
    # "-": not applicable (a model with no notion of sparsity) or not measured (a failed row).
    print(table[columns].to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4f}"))
    for record in run.records:
        if record["status"] == "ok" and len(record["per_class"]) > 1:
            aucs = ", ".join(f"{c['class']}: {c['auc']:.3f}" for c in record["per_class"])
            print(f"{record['model']} (seed {record['seed']}) ROC-AUC per class: {aucs}")
    failed = table[table["status"] != "ok"]
    for _, row in failed.iterrows():
        print(f"FAILED {row['model']} (seed {row['seed']}): {row['error']}", file=sys.stderr)
    print(f"report: {run.report}")
    return (1 if len(failed) else 0), run


def run(args) -> int:
    from ..errors import QBoostTNError

    if args.list:
        list_configs()
        return 0
    if args.config is None:
        raise QBoostTNError("give a CONFIG (a YAML file or a shipped config name; see --list)")
    return execute(args.config, args)[0]
