"""Experiment configs: YAML files naming a data set, a split, seeds, models and an output folder.

A config is validated on load against the schema below and each model kind's own parameter schema; every
mistake is reported with the key's path (``models[2].params.max_bond: expected int, got str``).

Relative paths in a config (``data.options.path``, ``output``) resolve against the **current working
directory**, not the config file's folder: the shipped configs live inside the installed package, and the
project's data sit at ``../shared/data`` seen from a checkout's root. The resolved config written to each run
directory holds absolute paths.
"""
from __future__ import annotations

import collections
import copy
import inspect
import os
import re
from importlib import resources
from pathlib import Path

import yaml

from .._text import cut, shown
from .._yaml import MAX_DEPTH, YAMLInputError, load_yaml
from ..errors import QBoostTNError
from .cluster import dask_rules
from .schema import (Bool, ConfigError, Field, Float, Int, List, Mapping, Nullable, OneOf, Record, Spec, Str, join,
                     type_name, validate)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Longest run or model name: it becomes part of folder and file names (``<name>-seed<N>.pt.mpo.json``, with
#: a figure's kind and a variant label added), and file systems take names of 255 bytes at most.
MAX_NAME = 64
#: Seeds go to numpy and scikit-learn, which take 32-bit unsigned seeds.
MAX_SEED = 2**32 - 1


def _data_rules(data, path):
    from ..data.registry import DATASETS

    loader = DATASETS[data["name"]].loader
    accepted = inspect.signature(loader).parameters
    problems = []
    for key in data["options"]:
        if key not in accepted:
            problems.append((join(join(path, "options"), key),
                             f"data set {shown(data['name'])} takes no such option; it takes {', '.join(accepted)}"))
    for key, param in accepted.items():
        if param.default is inspect.Parameter.empty and key not in data["options"]:
            problems.append((join(join(path, "options"), key), f"required by data set {shown(data['name'])}"))
    return problems


def _split_rules(split, path):
    counts = [k for k in ("n_train", "n_val", "n_test") if split[k] is not None]
    if split["train_size"] is not None and counts:
        return [(path, f"give either train_size or {'/'.join(counts)}, not both")]
    if split["train_size"] is None and split["n_train"] is None:
        return [(join(path, "n_train"), "give n_train (counts mode) or train_size (fraction mode)")]
    if split["evaluate_on"] == "val" and split["n_val"] == 0:
        return [(join(path, "evaluate_on"), "'val' needs n_val > 0")]
    if split["evaluate_on"] == "test" and split["n_test"] == 0:
        return [(join(path, "evaluate_on"), "'test' needs n_test > 0 (or leave n_test out: everything left)")]
    return []


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot name a run or a model (it becomes part of folder and file names), or None."""
    if not _NAME.match(value):
        return f"{shown(value)} must be letters, digits, '.', '_' or '-' (it names folders and files)"
    if len(value) > MAX_NAME:
        return (f"{shown(value, 80)} has {len(value)} characters; at most {MAX_NAME} (it names folders and files, "
                "whose names the file system limits)")
    return None


def _name_rules(cfg, path):
    problems = []
    problem = name_problem(cfg["name"])
    if problem:
        problems.append(("name", problem))
    seen = {}
    for i, model in enumerate(cfg["models"]):
        if model["name"] in seen:
            problems.append((f"models[{i}].name", f"{shown(model['name'])} is already the name of "
                                                  f"models[{seen[model['name']]}]; give each model a distinct name"))
        seen.setdefault(model["name"], i)
    repeated = sorted(s for s, n in collections.Counter(cfg["seeds"]).items() if n > 1)
    if repeated:
        problems.append(("seeds", f"seed(s) {shown(repeated)} repeated; each seed is one split and one run of every "
                                  "model, so a repeat would count one result several times"))
    return problems


class ModelSpec(Spec):
    """One entry of ``models``: ``kind`` picks the adapter, whose schema then checks ``params``."""

    name = "mapping"

    def check(self, value, path, errors):
        if not isinstance(value, dict):
            return self._wrong_type(value, path, errors)
        from .adapters import ADAPTERS

        kind = value.get("kind")
        adapter = ADAPTERS.get(kind) if isinstance(kind, str) else None
        record = Record({
            "kind": Field(Str(choices=tuple(ADAPTERS))),
            "name": Field(Nullable(Str()), None, "label in tables and file names (default: the kind)"),
            "params": Field(adapter.params if adapter else Mapping(), {}),
        })
        out = record.check(value, path, errors)
        if out.get("name") is None:
            out["name"] = kind
        elif isinstance(out["name"], str) and name_problem(out["name"]):  # a wrong type is already reported
            errors.append(f"{join(path, 'name')}: {name_problem(out['name'])}")
        return out


# The data layer and the adapters (numpy and up) are imported when a config is checked, not when shipped
# configs are listed.
def _dataset_names():
    from ..data.registry import DATASETS

    return tuple(DATASETS)  # asked at each load: registered plugins count


def _scales():
    from ..data.splits import SCALES

    return SCALES


SCHEMA = Record({
    "name": Field(Str(), doc="names the run directory: <output>/<name>-<timestamp>"),
    "description": Field(Str(), ""),
    "data": Field(Record({
        "name": Field(Str(choices=_dataset_names)),
        "options": Field(Mapping(), {}, "loader options, e.g. size: 20, path: ../shared/data/mnist"),
        "scale": Field(Nullable(Str(choices=_scales)), "auto",
                       "feature scaling fitted on the training part only: minmax, standard, log-minmax (log1p of "
                       "skewed non-negative columns first), quantile, auto (the default: minmax for images, "
                       "log-minmax otherwise, so long-tailed count columns are found and logged)"),
    }, _data_rules)),
    "split": Field(Record({
        "n_train": Field(Nullable(Int(min=1)), None),
        "n_val": Field(Nullable(Int(min=0)), None),
        "n_test": Field(Nullable(Int(min=0)), None, "default: every sample left after train and val"),
        "train_size": Field(Nullable(Float(0.0, 1.0, exclusive=True)), None,
                            "fraction mode (the hands-on): train+val vs test, then train vs val"),
        "stratify": Field(Bool(), True),
        "evaluate_on": Field(Str(choices=("test", "val")), "test",
                             "the part metrics are computed on; validation is reserved for tuning"),
    }, _split_rules)),
    "seeds": Field(List(Int(min=0, max=MAX_SEED), min_len=1), [0],
                   "one run of every model per seed (split and model seed); distinct"),
    "budget_kib": Field(Nullable(OneOf(Float(0.0, None, exclusive=True), List(Float(0.0, None, exclusive=True),
                                                                               min_len=1))), None,
                        "size budgets in KiB (qboost_tn.model_bytes): every tuned model is also chosen on "
                        "validation among the settings that fit each budget, one row per budget that chooses "
                        "differently (null: no budget)"),
    "output": Field(Str(), "runs", "folder that receives the run directory"),
    "models": Field(List(ModelSpec(), min_len=1)),
    "dask": Field(Record({
        "n_workers": Field(Int(min=1, max=256), 2, "worker processes of the local cluster a run starts when a "
                                                    "model's executor is dask"),
    }), {}),
}, lambda cfg, path: _name_rules(cfg, path) + dask_rules(cfg))


def shipped_configs() -> dict[str, Path]:
    """Configs that come with the package, by name (file stem)."""
    folder = resources.files("qboost_tn") / "configs"
    return {Path(p.name).stem: Path(str(p)) for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".yaml")}


def find_config(name_or_path) -> Path:
    """A config file path, or the name of a shipped config (``mnist``, ``digits``, ...)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    shipped = shipped_configs()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise FileNotFoundError(f"config {shown(str(name_or_path))} not found: no such file, and not a shipped config "
                            f"({', '.join(shipped)})")


def read_yaml(path) -> dict:
    path = Path(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except YAMLInputError as exc:
        raise ConfigError([str(exc)], path) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {cut(exc)}"], path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text ({exc.reason} at byte {exc.start})"], path) from None
    return {} if raw is None else raw


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_KEY = re.compile(r"[^.\[\]]+(\.[^.\[\]]+|\[\d+\])*")


def apply_overrides(raw: dict, overrides) -> dict:
    """Return a copy of ``raw`` with ``KEY.PATH=VALUE`` overrides set (values parsed as YAML).

    ``split.n_train=50``, ``models[0].params.C=[0.1, 1]``, ``data.options.path=my.csv``. A new key may be
    created (validation then judges it); an index past the end of a list is an error.
    """
    raw = copy.deepcopy(raw)
    for item in overrides or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise QBoostTNError(f"override {shown(item)} is not KEY=VALUE with KEY like split.n_train or "
                                "models[0].params.C")
        steps = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _TOKEN.finditer(key)]
        if len(steps) > MAX_DEPTH:
            raise QBoostTNError(f"override {shown(item)}: its key has {len(steps)} levels, more than the "
                                f"{MAX_DEPTH} a config can nest")
        try:
            value = load_yaml(text) if text.strip() else None
        except YAMLInputError as exc:
            raise QBoostTNError(f"override {shown(item)}: {exc}") from None
        except yaml.YAMLError as exc:
            raise QBoostTNError(f"override {shown(item)}: {shown(text)} is not a valid YAML value "
                                f"({cut(str(exc).splitlines()[0])})") from None
        node, where = raw, ""
        for step, nxt in zip(steps, steps[1:] + [None]):
            last = nxt is None
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    size = len(node) if isinstance(node, list) else 0
                    raise QBoostTNError(f"override {shown(item)}: {cut(where) or 'config'} has {size} item(s), "
                                        f"no [{step}]")
            elif not isinstance(node, dict):
                raise QBoostTNError(f"override {shown(item)}: {cut(where)} is a {type_name(node)}, not a mapping")
            if last:
                node[step] = value
            else:
                if isinstance(step, str) and step not in node:
                    node[step] = {}
                node = node[step]
            where = join(where, step)
    return raw


def resolve_paths(cfg: dict, base=None, check=True) -> dict:
    """Make ``data.options.path`` and ``output`` absolute (against ``base``, default the current directory)."""
    base = Path(base or os.getcwd())
    cfg = copy.deepcopy(cfg)

    def absolute(text):
        path = Path(os.path.expandvars(text)).expanduser()
        return path if path.is_absolute() else (base / path)

    options = cfg["data"]["options"]
    if isinstance(options.get("path"), str):
        path = absolute(options["path"])
        if check and not path.exists():
            raise FileNotFoundError(f"data.options.path: {shown(options['path'])} not found (looked for {path}; "
                                    "relative "
                                    f"paths in a config resolve against the current directory, {base})")
        options["path"] = str(path.resolve())
    cfg["output"] = str(absolute(cfg["output"]))
    if check:
        _check_name_lengths(cfg)
    return cfg


# What a run adds to its names: "-YYYYmmdd-HHMMSS-NNN" to the folder; to a model's files a figure kind
# ("mps_entropy_evolution-"), a variant label ("_max_bond_128"), "-seed<N>", ".pt.mpo.json" and the
# ".<12 hex>.part" of an atomic write.
_RUN_SUFFIX = len("-20260101-000000-999")
_FILE_EXTRA = 24 + 1 + 24 + len("-seed") + len(".pt.mpo.json") + len("..part") + 12


def _check_name_lengths(cfg) -> None:
    """Refuse, before any work, names whose folders or files the output's file system would not take."""
    folder = Path(cfg["output"])
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX, or the folder is not a directory (reported later)
        limit = 255
    seed = len(str(max(cfg["seeds"])))
    needs = [("name", len(cfg["name"]) + _RUN_SUFFIX)]
    needs += [(f"models[{i}].name", len(m["name"]) + seed + _FILE_EXTRA) for i, m in enumerate(cfg["models"])]
    too_long = [f"{where}: gives file names of up to {n} characters; the file system of {folder} takes {limit}"
                for where, n in needs if n > limit]
    if too_long:
        raise ConfigError(too_long)


def load_config(source, overrides=(), check_paths=True) -> dict:
    """Read, override, validate and resolve a config.

    Parameters
    ----------
    source : str, Path or dict
        A YAML file, the name of a shipped config (see :func:`shipped_configs`), or an already-parsed mapping.
    overrides : list of str
        ``KEY.PATH=VALUE`` items applied before validation (see :func:`apply_overrides`).
    check_paths : bool
        Raise ``FileNotFoundError`` when ``data.options.path`` does not exist.

    Returns
    -------
    dict
        The config with every default filled in and paths made absolute.

    Raises
    ------
    ConfigError
        (a ``ValueError``) listing every problem as ``path: message``.
    """
    where = None
    if isinstance(source, dict):
        raw = source
    else:
        where = find_config(source)
        raw = read_yaml(where)
    raw = apply_overrides(raw, overrides)
    cfg = validate(SCHEMA, raw, where)
    return resolve_paths(cfg, check=check_paths)


def select_models(cfg: dict, names) -> dict:
    """The config restricted to the models called ``names`` (in the config's order)."""
    names = list(names)
    known = [m["name"] for m in cfg["models"]]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise QBoostTNError(f"model(s) {unknown} not in this config; it has {', '.join(known)}")
    cfg = copy.deepcopy(cfg)
    cfg["models"] = [m for m in cfg["models"] if m["name"] in names]
    return cfg


def dump_config(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)
