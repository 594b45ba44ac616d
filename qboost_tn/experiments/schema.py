"""A small declarative schema for YAML configs: types, defaults, and errors that name the key's path.

Every problem found in a config is reported at once, one line each, as ``<path>: <what was wrong>`` — e.g.
``models[2].params.max_bond: expected int, got str`` — so a user fixes a config in one pass.
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .._text import cut, shown
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
    """``path.key`` or ``path[key]``: the path of a value in messages (a key of any length is cut short)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    key = cut(str(key), 80)
    return f"{path}.{key}" if path else key


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
            errors.append(f"{path}: must be >= {self.min}, got {shown(value, 80)}")
        if self.max is not None and value > self.max:
            errors.append(f"{path}: must be <= {self.max}, got {shown(value, 80)}")
        return value

    def describe(self):
        bounds = ([f">= {self.min}"] if self.min is not None else []) + ([f"<= {self.max}"] if self.max is not None
                                                                          else [])
        return " ".join(["int", " and ".join(bounds)]) if bounds else "int"


@dataclass
class Float(Spec):
    min: float | None = None
    max: float | None = None
    exclusive: bool = False  # both bounds open: (min, max); ``closed`` says it per side
    closed: str | None = None  # "both", "left", "right" or "neither" (scikit-learn's Interval convention)
    name = "float"

    def _closed(self):
        return self.closed or ("neither" if self.exclusive else "both")

    def interval(self) -> str:
        closed = self._closed()
        lo = "-inf" if self.min is None else self.min
        hi = "inf" if self.max is None else self.max
        return ("[" if closed in ("both", "left") else "(") + f"{lo}, {hi}" + ("]" if closed in ("both", "right")
                                                                               else ")")

    def check(self, value, path, errors):
        if type_name(value) not in ("int", "float"):
            return self._wrong_type(value, path, errors)
        try:
            value = float(value)
        except OverflowError:  # an int beyond float64: no parameter takes that
            errors.append(f"{path}: {shown(value, 80)} is beyond float64's range")
            return value
        closed = self._closed()
        low_bad = self.min is not None and (value < self.min or (value == self.min and closed in ("right", "neither")))
        high_bad = self.max is not None and (value > self.max or (value == self.max and closed in ("left", "neither")))
        if low_bad or high_bad or value != value:  # NaN lies in no interval
            errors.append(f"{path}: must lie in {self.interval()}, got {value}")
        return value

    def describe(self):
        return "float" if self.min is None and self.max is None else f"float in {self.interval()}"


class Bool(Spec):
    name = "bool"

    def check(self, value, path, errors):
        return value if isinstance(value, bool) else self._wrong_type(value, path, errors)


@dataclass
class Str(Spec):
    """A string; ``choices`` is a tuple, or a callable returning one, asked at each check (a live registry).

    ``registry`` (``"module:attribute"``) names the registry the choices come from: a stored schema
    (:func:`to_data`) keeps the names registered when it was written, and asks the registry itself once its
    module is loaded — a name can only be registered after that.
    """

    choices: tuple | Callable | None = None
    registry: str | None = None
    name = "str"

    def options(self) -> tuple | None:
        if self.registry is not None:
            module, _, attribute = self.registry.partition(":")
            if module in sys.modules:
                return tuple(sorted(getattr(sys.modules[module], attribute)))
        return tuple(self.choices()) if callable(self.choices) else self.choices

    def check(self, value, path, errors):
        if not isinstance(value, str):
            return self._wrong_type(value, path, errors)
        choices = self.options()
        if choices is not None and value not in choices:
            errors.append(f"{path}: {shown(value)} is not one of {', '.join(map(str, choices))}"
                          + _suggest(value, choices))
        return value

    def describe(self):
        choices = self.options()
        return "one of " + ", ".join(map(str, choices)) if choices else "str"


class Choice(Spec):
    """One of a fixed set of values of any YAML type (scikit-learn's ``Options``)."""

    def __init__(self, options):
        self.options = tuple(options)
        self.name = "one of " + ", ".join(map(repr, self.options))

    def check(self, value, path, errors):
        if value not in self.options or isinstance(value, bool) != any(isinstance(o, bool) for o in self.options):
            errors.append(f"{path}: {shown(value)} is not {self.name}")
        return value


class Nullable(Spec):
    """``inner`` or null."""

    def __init__(self, inner: Spec):
        self.inner = inner
        self.name = f"{inner.name} or null"

    def describe(self):
        return f"{self.inner.describe()} or null"

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

    def describe(self):
        return " or ".join(a.describe() for a in self.alternatives)

    def check(self, value, path, errors):
        for alt in self.alternatives:
            probe = []
            out = alt.check(value, path, probe)
            if not probe or not any(p.startswith(f"{path}: expected ") for p in probe):
                errors.extend(probe)
                return out
        return self._wrong_type(value, path, errors)


class Null(Spec):
    name = "null"

    def check(self, value, path, errors):
        return value if value is None else self._wrong_type(value, path, errors)


class AnyOf(Spec):
    """Accepted when any alternative accepts it (e.g. ``n_jobs``: an int <= -1 or an int >= 1, or null).

    Unlike :class:`OneOf`, alternatives may share a type; the error lists what each would have taken.
    """

    def __init__(self, *alternatives: Spec):
        self.alternatives = alternatives
        self.name = self.describe()

    def check(self, value, path, errors):
        typed = []  # alternatives of the value's type, and what they said
        for alt in self.alternatives:
            probe = []
            out = alt.check(value, path, probe)
            if not probe:
                return out
            if not any(p.startswith(f"{path}: expected ") for p in probe):
                typed.append((alt, probe))
        if len(typed) == 1:
            errors.extend(typed[0][1])  # e.g. "'big' is not one of auto": the one alternative it was meant for
        elif typed:
            errors.append(f"{path}: must be {' or '.join(a.describe() for a, _ in typed)}, got {shown(value)}")
        else:
            errors.append(f"{path or 'config'}: expected {self.describe()}, got {type_name(value)}")
        return value

    def describe(self):
        return " or ".join(a.describe() for a in self.alternatives)


class List(Spec):
    def __init__(self, item: Spec, min_len: int = 0):
        self.item = item
        self.min_len = min_len
        self.name = f"list of {item.name}"

    def describe(self):
        return f"list of ({self.item.describe()})" if " " in self.item.describe() else self.name

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
    ``(path, message)`` pairs. ``source`` names what the fields were generated from (an estimator class, see
    :func:`qboost_tn.experiments.params.estimator_record`), so the command line can build options from it.
    ``renamed`` maps keys of older configs to the fields that replaced them: such a key is refused with a
    message naming its new name.
    """

    name = "mapping"

    def __init__(self, fields: dict[str, Field], validator: Callable | None = None, source=None,
                 renamed: dict[str, str] | None = None):
        self.fields = fields
        self.validator = validator
        self.source = source
        self.renamed = dict(renamed or {})

    def check(self, value, path, errors):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return self._wrong_type(value, path, errors)
        out, before = {}, len(errors)
        for key in value:
            if key in self.renamed and key not in self.fields:
                errors.append(f"{join(path, key)}: renamed to '{self.renamed[key]}'; write {self.renamed[key]}: instead")
            elif key not in self.fields:
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
    return f" (did you mean {shown(close[0])}?)" if close else ""


def validate(spec: Spec, value, source=None):
    """Check ``value`` against ``spec``; return it normalised (defaults filled) or raise :class:`ConfigError`."""
    errors: list[str] = []
    out = spec.check(value, "", errors)
    if errors:
        raise ConfigError(errors, source)
    return out


# -- stored schemas ---------------------------------------------------------------------------------------------
# A schema generated from an estimator imports the estimator (scikit-learn, numba, torch: a second and more), so
# such schemas are also stored as JSON data (qboost_tn/experiments/stored_schemas.py) and rebuilt from it.

def to_data(spec: Spec) -> dict:
    """``spec`` as JSON-able data; :func:`from_data` rebuilds an equal schema. A :class:`Record`'s validator (a
    function) cannot be stored: such a record raises ``TypeError``."""
    simple = {Any_: "any", Bool: "bool", Null: "null", Mapping: "mapping"}
    if type(spec) in simple:
        return {"type": simple[type(spec)]}
    if isinstance(spec, Int):
        return {"type": "int", "min": spec.min, "max": spec.max}
    if isinstance(spec, Float):
        return {"type": "float", "min": spec.min, "max": spec.max, "closed": spec._closed()}
    if isinstance(spec, Str):
        choices = spec.options()
        return {"type": "str", "choices": None if choices is None else list(choices), "registry": spec.registry}
    if isinstance(spec, Choice):
        return {"type": "choice", "options": list(spec.options)}
    if isinstance(spec, Nullable):
        return {"type": "nullable", "inner": to_data(spec.inner)}
    if isinstance(spec, (OneOf, AnyOf)):
        return {"type": "one-of" if isinstance(spec, OneOf) else "any-of",
                "alternatives": [to_data(a) for a in spec.alternatives]}
    if isinstance(spec, List):
        return {"type": "list", "item": to_data(spec.item), "min_len": spec.min_len}
    if isinstance(spec, Record):
        if spec.validator is not None:
            raise TypeError("a Record with a validator (a function) cannot be stored as data")
        source = spec.source
        if isinstance(source, type):
            source = f"{source.__module__}:{source.__qualname__}"
        return {"type": "record", "source": source, "renamed": dict(spec.renamed),
                "fields": {name: {"spec": to_data(f.spec), "doc": f.doc,
                                  **({} if f.default is REQUIRED else {"default": f.default})}
                           for name, f in spec.fields.items()}}
    raise TypeError(f"no stored form for a {type(spec).__name__} schema")


def from_data(data: dict) -> Spec:
    """The schema :func:`to_data` described."""
    kind = data["type"]
    simple = {"any": Any_, "bool": Bool, "null": Null, "mapping": Mapping}
    if kind in simple:
        return simple[kind]()
    if kind == "int":
        return Int(min=data["min"], max=data["max"])
    if kind == "float":
        return Float(min=data["min"], max=data["max"], closed=data["closed"])
    if kind == "str":
        return Str(choices=None if data["choices"] is None else tuple(data["choices"]), registry=data["registry"])
    if kind == "choice":
        return Choice(data["options"])
    if kind == "nullable":
        return Nullable(from_data(data["inner"]))
    if kind in ("one-of", "any-of"):
        return (OneOf if kind == "one-of" else AnyOf)(*map(from_data, data["alternatives"]))
    if kind == "list":
        return List(from_data(data["item"]), min_len=data["min_len"])
    if kind == "record":
        fields = {name: Field(from_data(f["spec"]), f.get("default", REQUIRED), f["doc"])
                  for name, f in data["fields"].items()}
        return Record(fields, source=data["source"], renamed=data["renamed"])
    raise ValueError(f"no schema type {shown(kind)}")
