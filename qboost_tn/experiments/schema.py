"""A small declarative schema for YAML configs: types, defaults, and errors that name the key's path.

Every problem found in a config is reported at once, one line each, as ``<path>: <what was wrong>`` — e.g.
``models[2].params.max_bond: expected int, got str`` — so a user fixes a config in one pass.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import QBoostTNError

REQUIRED = object()


class ConfigError(QBoostTNError):
    """A config that does not match its schema; ``problems`` holds one ``"path: message"`` per mistake."""

    def __init__(self, problems, source=None):
        self.problems = list(problems)
        where = f"{source}: " if source else ""
        head = f"{where}invalid config ({len(self.problems)} problem{'s' if len(self.problems) > 1 else ''})"
        super().__init__(head + "\n  " + "\n  ".join(self.problems))


def type_name(value) -> str:
    """The YAML-level name of a value's type (``bool`` before ``int``: in Python a bool is an int)."""
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"),
                       (dict, "mapping"), (type(None), "null")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class Spec:
    """Checks one value; ``check`` returns the normalised value and appends problems to ``errors``."""

    name = "value"

    def check(self, value, path: str, errors: list) -> Any:
        raise NotImplementedError

    def _wrong_type(self, value, path, errors):
        errors.append(f"{path or 'config'}: expected {self.name}, got {type_name(value)}")
        return value

    def describe(self) -> str:
        return self.name


class Any_(Spec):
    name = "any value"

    def check(self, value, path, errors):
        return value


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None
    name = "int"

    def check(self, value, path, errors):
        if type_name(value) != "int":
            return self._wrong_type(value, path, errors)
        if self.min is not None and value < self.min:
            errors.append(f"{path}: must be >= {self.min}, got {value}")
        if self.max is not None and value > self.max:
            errors.append(f"{path}: must be <= {self.max}, got {value}")
        return value


@dataclass
class Float(Spec):
    min: float | None = None
    max: float | None = None
    exclusive: bool = False  # bounds are open: (min, max)
    name = "float"

    def check(self, value, path, errors):
        if type_name(value) not in ("int", "float"):
            return self._wrong_type(value, path, errors)
        value = float(value)
        low_bad = self.min is not None and (value <= self.min if self.exclusive else value < self.min)
        high_bad = self.max is not None and (value >= self.max if self.exclusive else value > self.max)
        if low_bad or high_bad:
            lo = "-inf" if self.min is None else self.min
            hi = "inf" if self.max is None else self.max
            interval = f"({lo}, {hi})" if self.exclusive else f"[{lo}, {hi}]"
            errors.append(f"{path}: must lie in {interval}, got {value}")
        return value


class Bool(Spec):
    name = "bool"

    def check(self, value, path, errors):
        return value if isinstance(value, bool) else self._wrong_type(value, path, errors)


@dataclass
class Str(Spec):
    choices: tuple | None = None
    name = "str"

    def check(self, value, path, errors):
        if not isinstance(value, str):
            return self._wrong_type(value, path, errors)
        if self.choices is not None and value not in self.choices:
            errors.append(f"{path}: {value!r} is not one of {', '.join(map(str, self.choices))}"
                          + _suggest(value, self.choices))
        return value

    def describe(self):
        return "one of " + ", ".join(map(str, self.choices)) if self.choices else "str"


class Nullable(Spec):
    """``inner`` or null."""

    def __init__(self, inner: Spec):
        self.inner = inner
        self.name = f"{inner.name} or null"

    def check(self, value, path, errors):
        if value is None:
            return None
        probe = []
        out = self.inner.check(value, path, probe)
        if probe and probe[0].startswith(f"{path}: expected "):
            # Name the null alternative too, so the user learns it is allowed.
            return self._wrong_type(value, path, errors)
        errors.extend(probe)
        return out


class OneOf(Spec):
    """The first alternative whose *type* matches decides (so range errors come from that alternative)."""

    def __init__(self, *alternatives: Spec):
        self.alternatives = alternatives
        self.name = " or ".join(a.name for a in alternatives)

    def check(self, value, path, errors):
        for alt in self.alternatives:
            probe = []
            out = alt.check(value, path, probe)
            if not probe or not any(p.startswith(f"{path}: expected ") for p in probe):
                errors.extend(probe)
                return out
        return self._wrong_type(value, path, errors)


class List(Spec):
    def __init__(self, item: Spec, min_len: int = 0):
        self.item = item
        self.min_len = min_len
        self.name = f"list of {item.name}"

    def check(self, value, path, errors):
        if not isinstance(value, list):
            return self._wrong_type(value, path, errors)
        if len(value) < self.min_len:
            errors.append(f"{path}: needs at least {self.min_len} item{'s' if self.min_len > 1 else ''}")
        return [self.item.check(v, join(path, i), errors) for i, v in enumerate(value)]


class Mapping(Spec):
    """Free-form mapping with string keys (e.g. loader options checked elsewhere)."""

    name = "mapping"

    def check(self, value, path, errors):
        if not isinstance(value, dict):
            return self._wrong_type(value, path, errors)
        for key in value:
            if not isinstance(key, str):
                errors.append(f"{join(path, key)}: keys must be strings, got {type_name(key)}")
        return dict(value)


@dataclass
class Field:
    spec: Spec
    default: Any = REQUIRED
    doc: str = ""


class Record(Spec):
    """A mapping with a fixed set of keys: unknown keys and missing required keys are errors.

    ``validator`` runs on the checked mapping for rules that involve several keys; it returns
    ``(path, message)`` pairs.
    """

    name = "mapping"

    def __init__(self, fields: dict[str, Field], validator: Callable | None = None):
        self.fields = fields
        self.validator = validator

    def check(self, value, path, errors):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return self._wrong_type(value, path, errors)
        out, before = {}, len(errors)
        for key in value:
            if key not in self.fields:
                errors.append(f"{join(path, key)}: unknown key; expected one of: {', '.join(self.fields)}"
                              + _suggest(str(key), self.fields))
        for key, field in self.fields.items():
            if key in value:
                out[key] = field.spec.check(value[key], join(path, key), errors)
            elif field.default is REQUIRED:
                errors.append(f"{join(path, key)}: required key is missing ({field.spec.describe()})")
            elif isinstance(field.spec, Record):
                out[key] = field.spec.check(_copy(field.default), join(path, key), errors)  # fills its defaults
            else:
                out[key] = _copy(field.default)
        if self.validator is not None and len(errors) == before:
            errors.extend(f"{p}: {m}" for p, m in self.validator(out, path))
        return out


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate(spec: Spec, value, source=None):
    """Check ``value`` against ``spec``; return it normalised (defaults filled) or raise :class:`ConfigError`."""
    errors: list[str] = []
    out = spec.check(value, "", errors)
    if errors:
        raise ConfigError(errors, source)
    return out
