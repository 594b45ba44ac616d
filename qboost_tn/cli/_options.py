"""Parsing of ``KEY=VALUE`` options given on the command line into loader keyword arguments."""
from __future__ import annotations


def dataset_options(pairs) -> dict:
    """``["size=20", "path=x"]`` -> ``{"size": 20, "path": "x"}``; values are read as YAML scalars/lists."""
    import yaml

    from .._text import cut, shown
    from .._yaml import YAMLInputError, load_yaml
    from ..errors import QBoostTNError

    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QBoostTNError(f"option {shown(pair)} is not KEY=VALUE")
        try:
            options[key.strip()] = load_yaml(value) if value else None
        except YAMLInputError as exc:
            raise QBoostTNError(f"option {shown(pair)}: {exc}") from None
        except yaml.YAMLError as exc:
            raise QBoostTNError(f"option {shown(pair)}: {shown(value)} is not a valid YAML value "
                                f"({cut(str(exc).splitlines()[0])})") from None
    return options
