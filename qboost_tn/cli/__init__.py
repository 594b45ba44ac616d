"""Command line: ``qboost-tn <command> ...``. Each command lives in its own module of this package."""
from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand -> module defining ``add_arguments(parser)`` and ``run(args) -> int``; the module docstring's first
# line is the help text. Modules are imported lazily so that ``qboost-tn datasets`` does not import torch.
COMMANDS = {
    "datasets": "qboost_tn.cli.datasets",
    "info": "qboost_tn.cli.info",
    "demo": "qboost_tn.cli.demo",
    "train": "qboost_tn.cli.train",
    "run": "qboost_tn.cli.run",
    "compare": "qboost_tn.cli.compare",
    "compress": "qboost_tn.cli.compress",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qboost-tn",
        description="Shallow-wide Ising learners and MPO-compressed networks on one data and evaluation layer.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_path in COMMANDS.items():
        module = importlib.import_module(module_path)
        help_text = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None
        p = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError) as exc:
        # Expected user errors: one clear line, no traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"qboost-tn {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qboost-tn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
