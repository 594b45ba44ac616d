"""Parameters declared once: config schemas and command-line options generated from an estimator's own rules.

An estimator declares its parameters the scikit-learn way — defaults in ``__init__`` (read back by
``get_params()``), rules in ``_parameter_constraints`` (``Interval``, ``StrOptions``, ``Options``, types,
``"boolean"``, ``None``), meaning in the class docstring's *Parameters* section. :func:`estimator_record` turns
that into the config schema of a model kind; :func:`add_options` turns a schema into ``argparse`` options
(``qboost-tn train``). A default, a bound or a choice therefore lives in the estimator alone, and the API, the
config and the command line cannot drift apart.

Constraints that YAML cannot express (``HasMethods``, callables, ``"random_state"`` objects, array-likes) are
left out of the schema: such values are for the Python API only. A parameter left with no expressible
constraint is not configurable.
"""
from __future__ import annotations

import inspect
import re
from numbers import Integral, Real

import yaml

from ..errors import QBoostTNError
from .schema import AnyOf, Bool, Choice, Field, Float, Int, List, Mapping, Null, Nullable, OneOf, Record, Spec, Str
from .._text import shown

# Set by the run (split seed, progress) rather than by a config.
RUN_PARAMS = ("random_state", "verbose")


def constraint_spec(constraint) -> Spec | None:
    """The schema of one scikit-learn constraint, or None when YAML cannot hold such a value.

    ``None`` (the constraint) is handled by the caller, which makes the whole parameter nullable.
    """
    from sklearn.utils._param_validation import Interval, Options, StrOptions, make_constraint

    if isinstance(constraint, str) or isinstance(constraint, type):
        if constraint in ("boolean", bool):
            return Bool()
        if constraint is str:
            return Str()
        if constraint is dict:
            return Mapping()
        if constraint in (int, Integral):
            return Int()
        if constraint in (float, Real):
            return Float()
        # "random_state", "verbose", "array-like", "sparse matrix", list (of what? fitted objects, usually) and
        # other classes: for the Python API only.
        return None
    constraint = make_constraint(constraint) if not hasattr(constraint, "is_satisfied_by") else constraint
    if getattr(constraint, "hidden", False):
        return None
    if isinstance(constraint, StrOptions):
        # Read the options at each check: a registry-backed constraint (the solver names) stays live.
        return Str(choices=lambda c=constraint: tuple(sorted(set(c.options) - set(c.deprecated))),
                   registry=getattr(constraint, "registry", None))
    if isinstance(constraint, Options):
        return Choice(sorted(constraint.options))
    if isinstance(constraint, Interval):
        if constraint.type is Integral:
            low, high = constraint.left, constraint.right
            if low is not None and constraint.closed in ("right", "neither"):
                low += 1
            if high is not None and constraint.closed in ("left", "neither"):
                high -= 1
            return Int(min=low, max=high)
        return Float(min=constraint.left, max=constraint.right, closed=constraint.closed)
    return None


def parameter_spec(constraints) -> Spec | None:
    """The schema of one parameter from its list of constraints (None when none of them fits YAML)."""
    from sklearn.utils._param_validation import make_constraint

    # asked of the constraint objects themselves, whatever their class: does any of them admit None?
    nullable = any(make_constraint(c).is_satisfied_by(None) for c in constraints)
    specs = [s for s in (constraint_spec(c) for c in constraints if c is not None) if s is not None]
    if not specs:
        return None
    if len(specs) == 1:
        return Nullable(specs[0]) if nullable else specs[0]
    return AnyOf(*specs, Null()) if nullable else AnyOf(*specs)


_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc):`~?([^`]+)`")


def plain_text(rst: str) -> str:
    """reStructuredText of a docstring as plain text for a terminal: ``x`` and roles (:class:`x`) become x,
    a method reads ``to_bqm()``; whitespace runs become one space."""
    text = _ROLE.sub(lambda m: m.group(1) + ("()" if m.group(0).startswith(":meth:") else ""), rst)
    return " ".join(text.replace("``", "").split())


def _param_docs(cls) -> dict[str, str]:
    """First sentence of each parameter's description in the class docstring's numpydoc *Parameters*,
    as plain text."""
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc, re.S | re.M)
    docs = {}
    if match:
        for name, body in re.findall(r"^(\w+) :[^\n]*\n((?:[ \t]+[^\n]*\n?)*)", match.group(1), re.M):
            text = plain_text(body)
            # the first sentence: a full stop before a capital, a quote or a bracket; "e.g." and "i.e." end none
            docs[name] = re.split(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<=\.)\s+(?=[A-Z(\"'])", text, maxsplit=1)[0]
    return docs


def estimator_record(estimator, *, searchable=(), exclude=RUN_PARAMS) -> Record:
    """The config schema of an estimator's parameters: one field per configurable parameter.

    Parameters
    ----------
    estimator : class
        A scikit-learn estimator class with ``_parameter_constraints`` and defaults in ``__init__``.
    searchable : iterable of str
        Parameters that may also be given as a list of values, searched on the validation part
        (see :func:`qboost_tn.experiments.adapters.fit_choices`).
    exclude : iterable of str
        Parameters set by the run, not by a config (the seed, progress output).

    Returns
    -------
    Record
        Fields in ``__init__`` order, each defaulting to ``estimator().get_params()``; ``record.source`` is
        the estimator class.

    Raises
    ------
    TypeError
        When a default does not satisfy its own declared constraints (a bug in the estimator).
    """
    constraints = getattr(estimator, "_parameter_constraints", None)
    if not constraints:
        raise TypeError(f"{estimator.__name__} declares no _parameter_constraints")
    defaults = estimator().get_params(deep=False)
    order = [p for p in inspect.signature(estimator.__init__).parameters if p in defaults]
    defaults = {name: defaults[name] for name in order}
    docs = _param_docs(estimator)
    searchable = set(searchable)
    fields = {}
    for name, default in defaults.items():
        if name in exclude or name not in constraints:
            continue
        spec = parameter_spec(constraints[name])
        if spec is None:
            continue
        problems = []
        spec.check(default, name, problems)
        if problems:
            raise TypeError(f"{estimator.__name__}: the default of {name} breaks its own constraints: {problems}")
        if name in searchable:
            spec = OneOf(spec, List(spec, min_len=1))
        fields[name] = Field(spec, default, docs.get(name, ""))
    unknown = searchable - set(fields)
    if unknown:
        raise TypeError(f"{estimator.__name__}: searchable parameter(s) {sorted(unknown)} are not configurable")
    return Record(fields, source=estimator)


# -- command-line options ------------------------------------------------------------------------------------

def option_name(param: str) -> str:
    return "--" + param.replace("_", "-")


def parse_value(text: str, flag: str):
    """A command-line value read as YAML (``3``, ``0.5``, ``null``, ``[1, 2]``, ``auto``)."""
    from .._yaml import YAMLInputError, load_yaml

    try:
        return load_yaml(text)
    except YAMLInputError as exc:
        raise QBoostTNError(f"{flag}: {exc}") from None
    except yaml.YAMLError as exc:
        raise QBoostTNError(f"{flag} {shown(text)} is not a valid value: {str(exc).splitlines()[0]}") from None


def option_help(records: dict[str, Record]) -> dict[str, str]:
    """``{parameter: help text}``: one ``--param-name`` option per field of ``records`` (model kind -> schema).

    A parameter shared by several kinds gets one option; its help gives each kind's default where they
    differ.
    """
    merged: dict[str, dict[str, Field]] = {}
    for kind, record in records.items():
        for name, field in record.fields.items():
            merged.setdefault(name, {})[kind] = field
    helps = {}
    for name, by_kind in merged.items():
        fields = list(by_kind.values())
        defaults = {kind: _show(f.default) for kind, f in by_kind.items()}
        if len(set(defaults.values())) == 1 and len(by_kind) == len(records):
            default_text = f"default: {fields[0].default!r}" if len(records) == 1 else \
                f"default: {next(iter(defaults.values()))}"
        else:
            default_text = "default: " + ", ".join(f"{v} ({k})" for k, v in defaults.items())
        only = "" if len(by_kind) == len(records) else f"; {'/'.join(by_kind)} only"
        doc = next((f.doc for f in fields if f.doc), "")
        helps[name] = f"{doc} [{fields[0].spec.describe()}; {default_text}{only}]".strip()
    return helps


def add_options(group, helps: dict[str, str]) -> dict[str, str]:
    """Add one ``--param-name`` option per entry of ``helps`` (:func:`option_help`) to argparse ``group``.

    Values are read as YAML and validated by the schema later, with every other config value.
    Returns ``{dest: parameter name}``.
    """
    dests = {}
    for name, text in helps.items():
        dest = f"param_{name}"
        group.add_argument(option_name(name), dest=dest, metavar="VALUE", default=None,
                           help=text.replace("%", "%%"))
        dests[dest] = name
    return dests


def _show(value) -> str:
    return "null" if value is None else yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def chosen_params(args, dests: dict[str, str], record: Record, kind: str) -> dict:
    """The parameters given on the command line (parsed as YAML); one the kind does not take is an error."""
    params = {}
    for dest, name in dests.items():
        text = getattr(args, dest)
        if text is None:
            continue
        if name not in record.fields:
            raise QBoostTNError(f"--model {kind} does not take {option_name(name)}; it takes "
                                f"{', '.join(option_name(n) for n in record.fields)}")
        params[name] = parse_value(text, option_name(name))
    return params


__all__ = ["RUN_PARAMS", "add_options", "chosen_params", "constraint_spec", "estimator_record", "option_help",
           "option_name", "parameter_spec", "parse_value", "plain_text"]
