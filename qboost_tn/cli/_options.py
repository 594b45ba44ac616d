"""Parsing of ``KEY=VALUE`` options given on the command line into loader keyword arguments."""
from __future__ import annotations

import yaml


def dataset_options(pairs) -> dict:
    """``["size=20", "path=x"]`` -> ``{"size": 20, "path": "x"}``; values are read as YAML scalars/lists."""
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"option {pair!r} is not KEY=VALUE")
        options[key.strip()] = yaml.safe_load(value) if value else None
    return options
