"""Write a commented config to edit: your CSV, or a shipped one.

qboost-tn init-config                       -> my-csv.yaml, the template for your own CSV (shipped `custom-csv`)
qboost-tn init-config my.yaml               -> the same template, as my.yaml
qboost-tn init-config digits digits.yaml    -> a copy of the shipped config `digits`

The file is written whole or not at all, and never over an existing file. Then: qboost-tn run my.yaml
"""
from __future__ import annotations

from .._text import shown

TEMPLATE = "custom-csv"


def add_arguments(parser) -> None:
    parser.add_argument("words", nargs="*", metavar="[NAME] [PATH]",
                        help=f"shipped config to copy (default {TEMPLATE}, see `qboost-tn run --list`) and the "
                             "file to write (default NAME.yaml; my-csv.yaml for the template)")


def _name_and_path(words):
    from pathlib import Path

    from ..errors import QBoostTNError

    if len(words) > 2:
        raise QBoostTNError(f"give at most a config NAME and a PATH, got {len(words)} words")
    if len(words) == 1 and words[0].endswith((".yaml", ".yml")):
        words = [TEMPLATE, words[0]]
    name = words[0] if words else TEMPLATE
    default = "my-csv.yaml" if name == TEMPLATE else f"{name}.yaml"
    return name, Path(words[1] if len(words) == 2 else default)


def _write_new(path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, never over an existing file: a temporary file beside it,
    then ``os.link``, which refuses an existing target (so a file that appeared meanwhile survives)."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)


def run(args) -> int:
    from ..errors import QBoostTNError
    from ..experiments.config import shipped_configs

    name, path = _name_and_path(args.words)
    shipped = shipped_configs()
    if name not in shipped:
        raise QBoostTNError(f"no shipped config {shown(name)}; shipped: {', '.join(shipped)}")
    try:
        _write_new(path, shipped[name].read_text(encoding="utf-8"))
    except FileExistsError:
        raise QBoostTNError(f"{path} already exists; give another PATH (nothing was written)") from None
    except OSError as exc:
        raise QBoostTNError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"wrote {path} (from the shipped config {shown(name)}); edit it, then: qboost-tn run {path}")
    return 0
