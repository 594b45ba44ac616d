"""``qboost-tn train``'s model options, generated from the estimators and kept in ``train_options.json``.

The options come from the estimators' own parameter declarations (:func:`qboost_tn.experiments.params.option_help`),
but asking them imports the estimators, hence scikit-learn, numba and dimod: a second and more. ``train --help``
and a mistyped flag must answer at once, so the generated table is stored beside this module and read from
there; the values themselves are still checked against the live schema before anything trains.
``tests/test_cli.py`` regenerates the table and fails when the stored one differs. After changing an
estimator's parameters or their docstring, rewrite it with ``python -m qboost_tn.cli.train_options``.
"""
from __future__ import annotations

import json
from pathlib import Path

TABLE = Path(__file__).with_name("train_options.json")


def estimator_kinds() -> dict:
    """Model kind -> parameter schema, for the kinds whose schema is generated from an estimator."""
    from ..experiments.adapters import ADAPTERS

    return {kind: a.params for kind, a in ADAPTERS.items() if getattr(a.params, "source", None) is not None}


def generate() -> dict:
    """``{"kinds": [...], "help": {parameter: help text}}`` from the estimators (imports them)."""
    from ..experiments.params import option_help

    kinds = estimator_kinds()
    return {"kinds": list(kinds), "help": option_help(kinds)}


def stored() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def dump(table: dict) -> str:
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TABLE.write_text(dump(generate()), encoding="utf-8")
    print(f"wrote {TABLE}")
