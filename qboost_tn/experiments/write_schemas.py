"""Write ``estimator_schemas.json`` (:mod:`qboost_tn.experiments.stored_schemas`) from the registered model kinds:
``python -m qboost_tn.experiments.write_schemas``. Imports every estimator; run it after changing one's
parameters or their docstring."""
from __future__ import annotations

import json

from .adapters import ADAPTERS
from .schema import Record, to_data
from .stored_schemas import TABLE, factory_name


def generate() -> dict:
    """``{kind: {"factory": name, "schema": data}}`` for every kind whose schema is generated from an estimator
    (imports the estimators)."""
    table = {}
    for kind, adapter in ADAPTERS.items():
        if isinstance(adapter.schema, Record):
            continue
        record = adapter.live_params()
        if record.source is not None:
            table[kind] = {"factory": factory_name(adapter.schema), "schema": to_data(record)}
    return table


def dump(table: dict) -> str:
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TABLE.write_text(dump(generate()), encoding="utf-8")
    print(f"wrote {TABLE}")
