"""Parsing of ``KEY=VALUE`` options given on the command line into loader keyword arguments."""
from __future__ import annotations


def dataset_options(pairs) -> dict:
    """``["size=20", "path=x"]`` -> ``{"size": 20, "path": "x"}``; values are read as YAML scalars/lists."""
    import yaml

    from ..errors import QBoostTNError

    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QBoostTNError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key.strip()] = yaml.safe_load(value) if value else None
        except yaml.YAMLError as exc:
            raise QBoostTNError(f"option {pair!r}: {value!r} is not a valid YAML value "
                                f"({str(exc).splitlines()[0]})") from None
    return options
