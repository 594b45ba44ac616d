"""Command line: ``qboost-tn <command> ...``. Each command lives in its own module of this package.

Start-up is kept fast: this module imports only the standard library, builds the top-level help from the table
below, and imports just the module of the command being run (which imports numpy, torch, ... itself).
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import signal
import sys

# Subcommand -> (module defining ``add_arguments(parser)`` and ``run(args) -> int``, one-line help). The help
# line is the module docstring's first line (tests/test_cli.py checks that they agree), kept here so that
# ``qboost-tn --help`` imports none of the modules.
COMMANDS = {
    "demo": ("qboost_tn.cli.demo", "The main job: the shallow-wide Ising learner on MNIST 20x20 from 150 samples."),
    "train": ("qboost_tn.cli.train", "Train one learner (shallow-wide, QBoost or the MPS classifier) on a data set."),
    "compress": ("qboost_tn.cli.compress",
                 "The Bank Marketing hands-on: an MLP's layer compressed into MPOs, with the other compressions."),
    "run": ("qboost_tn.cli.run", "Run the models of an experiment config; write metrics, figures and report.html."),
    "compare": ("qboost_tn.cli.compare", "The default comparison: every model kind on MNIST 20x20 (150 train)."),
    "init-config": ("qboost_tn.cli.init_config", "Write a commented config to edit: your CSV, or a shipped one."),
    "datasets": ("qboost_tn.cli.datasets", "List the data sets: size, source and whether each loads offline."),
    "info": ("qboost_tn.cli.info", "Load one data set and describe it: shape, classes, feature range, provenance."),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qboost-tn")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


class _Parser(argparse.ArgumentParser):
    """Names the closest option of the command for a mistyped one (``--layers``: did you mean ``--n-layers``?)."""

    command_options: tuple = ()

    def error(self, message):
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            hints = []
            for word in message[len(prefix):].split():
                match = difflib.get_close_matches(word.split("=")[0], self.command_options, n=1) \
                    if word.startswith("-") else []
                hints += [f"{word} -> {match[0]}"] if match else []
            if hints:
                message += f" (did you mean: {', '.join(hints)}?)"
        super().error(message)


def build_parser(command=None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s own options are built (and only its module imported)."""
    parser = _Parser(
        prog="qboost-tn",
        description="Shallow-wide Ising learners and MPO-compressed networks on one data and evaluation layer.",
        epilog="Every command that trains writes a run directory (default runs/<name>-<timestamp>; --out DIR "
               "must be new or empty). `qboost-tn COMMAND --help` describes a command.")
    parser.add_argument("--version", action="version", version=f"qboost-tn {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_path, help_text) in COMMANDS.items():
        if name != command:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        module = importlib.import_module(module_path)
        p = sub.add_parser(name, help=help_text, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.add_argument("--debug", action="store_true", help="on an error, print the full traceback")
        parser.command_options = tuple(p._option_string_actions)
        p.set_defaults(_run=module.run)
    return parser


def _command(argv) -> str | None:
    """The subcommand named in ``argv`` (the first word that is one), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def is_user_error(exc: BaseException) -> bool:
    """Errors a user causes and fixes: the project's type, scikit-learn's parameter errors, missing files."""
    from ..errors import QBoostTNError

    if isinstance(exc, (QBoostTNError, FileNotFoundError)):
        return True
    sklearn_validation = sys.modules.get("sklearn.utils._param_validation")
    return sklearn_validation is not None and isinstance(exc, sklearn_validation.InvalidParameterError)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a batch scheduler) stops a run like Ctrl-C: results so far kept, status recorded."""


def _on_sigterm(signum, frame):
    raise _Terminated


def _bounded(message: str, lines: int = 40) -> str:
    """``message`` with each line and the number of lines bounded (a problem list can quote user values)."""
    from .._text import cut

    shown = message.splitlines()
    more = f"\n  ... ({len(shown) - lines} more lines)" if len(shown) > lines else ""
    return "\n".join(cut(line, 500) for line in shown[:lines]) + more


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor behind stdout (captured in a test): nothing to flush
        pass


def main(argv=None) -> int:
    """Run the command line; the exit status. A reader that closed stdout (``| head``) ends it quietly (141)."""
    try:
        try:
            status = _main(argv)
        finally:
            sys.stdout.flush()  # here, not at exit: a closed pipe must surface while it can be handled
    except BrokenPipeError:
        _drop_stdout()
        return 141  # as a process killed by SIGPIPE: the reader left, nothing to report
    return status


def _main(argv) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command(argv)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, _Terminated)
        kept = getattr(exc, "run_dir", None)
        where = ""
        if kept is not None:
            where = (f"; the finished models' results are in {kept} (status interrupted)"
                     if kept.is_dir() and any(kept.iterdir()) else "; no model had finished, nothing was kept")
        print(f"qboost-tn {args.command}: {'terminated' if terminated else 'interrupted'}{where}", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as exc:
        if args.debug or not is_user_error(exc):
            raise
        # Expected user errors: one clear line, no traceback (--debug shows it).
        print(f"qboost-tn {args.command}: error: {_bounded(str(exc))}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
