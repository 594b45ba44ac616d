"""Run every model of a config on every seed and write a run directory: the one pipeline of every command.

``qboost-tn run``, ``compare``, ``demo``, ``train`` and ``compress`` all end here, so they all write the same
layout (``<output>/<name>-<YYYYmmdd-HHMMSS>[-N]``, or exactly ``--out``)::

    config.yaml      the resolved config (defaults filled in, absolute paths)
    metrics.json     run status, data provenance, one record per model and seed (per-class metrics included)
    metrics.csv      the same records flattened: one row per model and seed
    figures/         AUC-versus-parameters, and per model (first seed): weight maps and figures it adds
    models/          each fitted model that can be saved without pickle: annealer-trained estimators, the MPS
                     classifier and logistic regression as ``.npz`` (:func:`qboost_tn.load_model`), torch
                     networks as a ``.pt`` state_dict plus
                     ``.pt.mpo.json`` (:func:`qboost_tn.mpo.load_compressed` into the uncompressed skeleton)
    errors/          the traceback of each model that failed
    report.html      one self-contained page: table and figures
    run.lock         while the run runs: its process and host, touched as a heartbeat (see liveness)

The ``--out`` rule: an output folder is claimed atomically and must be new or empty; a run never writes into
another's folder. Everything that can be checked cheaply (the config, the data, every seed's split, that the
folder can be written) is checked before the folder is claimed, so a mistake leaves nothing behind; a run whose
first model never finished (an error or Ctrl-C before any result) removes what it wrote.

``metrics.*`` and ``report.html`` are rewritten (atomically) after every model, so an interrupted run keeps
every finished model's results and a reader never sees a half-written file. Ctrl-C or SIGTERM arriving while
they are written waits until all of them agree (``metrics.json`` last), so a folder never says "finished" in
one file and "running" in another; a run killed outright is reported as killed by the next reader (see
:mod:`.liveness`). A model that raises is recorded
as ``failed`` and the others still run; a failure to *write* (disk full, folder removed) is not a model's
failure: it stops the run with one :class:`RunWriteError`.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import write_json, write_text
from .._signals import deferred_signals
from .._text import cut
from ..errors import QBoostTNError
from .adapters import ADAPTERS, Task
from .cluster import dask_cluster
from .config import dump_config, load_config
from .liveness import Heartbeat, run_status

SUMMARY_COLUMNS = ["model", "kind", "family", "seed", "status", "macro_auc", "accuracy", "log_loss", "n_params",
                   "model_bytes", "fit_time_s", "sparsity"]
_TB_LIMIT = 50_000  # characters of a failed model's traceback kept in errors/ (its message may hold user data)
_CLAIM = "config.yaml"  # created with O_EXCL: whoever creates it owns the folder


class RunWriteError(QBoostTNError):
    """The run directory could not be written (missing, read-only, not a folder, disk full)."""


@dataclass
class Run:
    """The outcome of :func:`run_experiment`: where it was written and its table (one row per model and seed)."""

    path: Path
    status: str
    records: list

    @property
    def table(self) -> pd.DataFrame:
        return records_frame(self.records)

    @property
    def report(self) -> Path:
        return self.path / "report.html"


def _write_error(path, exc: OSError, doing="write") -> RunWriteError:
    reason = exc.strerror or type(exc).__name__
    return RunWriteError(f"cannot {doing} the run directory {path}: {reason}")


def claim_run_dir(path) -> Path:
    """Claim ``path`` as a run directory: create it (parents too) or take an existing empty folder.

    Atomic: the claim is the ``O_EXCL`` creation of ``config.yaml`` inside the folder, so of two runs given the
    same folder at the same moment exactly one wins; the other gets :class:`QBoostTNError`. A folder holding
    anything else is refused. Unwritable, read-only or not-a-directory paths raise :class:`RunWriteError`.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise RunWriteError(f"output directory {path} exists and is not a directory") from None
    except NotADirectoryError:
        raise RunWriteError(f"output directory {path}: a parent of it is a file, not a directory") from None
    except OSError as exc:
        raise _write_error(path, exc, "create") from None
    try:
        os.close(os.open(path / _CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except FileExistsError:
        raise _not_empty(path) from None
    except OSError as exc:
        raise _write_error(path, exc) from None
    if any(p.name != _CLAIM for p in path.iterdir()):
        os.unlink(path / _CLAIM)
        raise _not_empty(path)
    return path


def check_run_dir(path) -> None:
    """Raise what :func:`claim_run_dir` would for a folder that exists and is taken; claims nothing (--dry-run)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunWriteError(f"output directory {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise _not_empty(path)


def _not_empty(path) -> QBoostTNError:
    return QBoostTNError(f"output directory {path} already exists and is not empty{_holds(path)}; a run never "
                         "overwrites another - choose a new folder or leave --out out to get a fresh timestamped one")


def _holds(path) -> str:
    """What run the folder holds, if any: ``" (it holds a run that was killed: ...)"``."""
    import json

    try:
        run = json.loads((Path(path) / "metrics.json").read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    status, why = run_status(path, run)
    return f" (it holds a run {'that was killed' if status == 'killed' else status}{': ' + why if why else ''})"


def new_run_dir(output, name) -> Path:
    """Create ``output/name-<timestamp>``, adding ``-2``, ``-3``, ... rather than reuse an existing folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        candidate = Path(output) / (f"{name}-{stamp}" if n == 1 else f"{name}-{stamp}-{n}")
        try:
            candidate.mkdir(parents=True)  # atomic: two runs started in the same second get different folders
            return claim_run_dir(candidate)
        except FileExistsError:
            if not candidate.is_dir():
                raise RunWriteError(f"output folder {output}: {candidate} is not a directory") from None
        except NotADirectoryError:
            raise RunWriteError(f"output folder {output} is not a directory") from None
        except OSError as exc:
            raise _write_error(output, exc, "create") from None


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def records_frame(records) -> pd.DataFrame:
    """Flatten run records into the ``metrics.csv`` table: summary columns, ``auc[<class>]``, extras, error."""
    rows = []
    for rec in records:
        row = {k: rec.get(k) for k in SUMMARY_COLUMNS}
        row["entry"] = rec["entry"]
        row.update({f"auc[{c['class']}]": c["auc"] for c in rec.get("per_class", [])})
        row.update(rec.get("info", {}))
        row["error"] = rec.get("error")
        row["model_file"] = rec.get("model_file")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else SUMMARY_COLUMNS + ["entry", "error", "model_file"])
    # A metric that does not apply (sparsity of a forest) or was not measured (a failed row) is NaN in every
    # table, never None in one and NaN in another; counts stay integers where a failed row leaves a gap.
    metrics = ["macro_auc", "accuracy", "log_loss", "fit_time_s", "sparsity"]
    frame[metrics] = frame[metrics].astype(np.float64)
    return frame.astype({"n_params": "Int64", "model_bytes": "Int64"})


def _weight_map_figure(maps, task: Task, title):
    """Images: one map per class drawn as a picture. Tables: per class, a bar chart of the strongest features
    by name (a 1-pixel strip of weights says nothing about which column matters)."""
    from ..eval.plots import plot_feature_bars, plot_weight_maps

    maps = np.atleast_2d(np.asarray(maps, dtype=np.float64))
    if maps.shape[0] == task.n_classes:
        names = task.class_names
    elif maps.shape[0] == 1 and task.n_classes == 2:
        names = [f"{task.class_names[1]} vs {task.class_names[0]}"]
    else:
        names = [f"output {i}" for i in range(maps.shape[0])]
    if task.image_shape is None:
        feature_names = task.feature_names if task.feature_names and len(task.feature_names) == maps.shape[1] else None
        return plot_feature_bars(maps, feature_names=feature_names, class_names=names, title=title)
    # Every kind's maps (weights, mean input gradients, QBoost's input effects) say the same thing: how the
    # class's score moves with each input.
    return plot_weight_maps(maps, image_shape=task.image_shape, class_names=names, title=title, ncols=5,
                            label="raises (+) / lowers (-) the class score")


def save_fitted(model, stem: Path) -> Path | None:
    """Save ``model`` without pickle where its family supports it; returns the file, or None (not savable).

    Estimators registered for model files (annealer-trained, MPS, logistic regression): ``stem.npz`` by
    :func:`qboost_tn.save_model`. Torch networks: ``stem.pt`` (state_dict) and ``stem.pt.mpo.json`` (MPO
    layer shapes) by :func:`qboost_tn.mpo.save_compressed`. The other scikit-learn peers (forests, SVM, k-NN,
    boosting) are not saved: their only portable format would be pickle.
    """
    from ..persistence import CLASSES, save_model

    torch = sys.modules.get("torch")  # a torch model exists only if torch was imported
    if torch is not None and isinstance(model, torch.nn.Module):
        from ..mpo import save_compressed

        path = stem.with_name(stem.name + ".pt")
        save_compressed(model, path)
        return path
    if type(model).__name__ in CLASSES:
        return save_model(model, stem.with_name(stem.name + ".npz"))
    return None


class _Recorder:
    """Holds the records of a run and owns every write to its folder: records, figures, models, errors.

    Any ``OSError`` here is a failure to write the run, raised as :class:`RunWriteError`, never a model's.
    """

    def __init__(self, path: Path, cfg: dict, meta: dict):
        self.path, self.cfg, self.meta = path, cfg, meta
        self.records: list[dict] = []

    def add(self, record, figures=(), model=None, tb=None):
        """Write ``figures`` (``(name, Figure)`` pairs), ``model`` and traceback ``tb`` of ``record``, then it.

        Ctrl-C or SIGTERM waits until the record and its files are all written: no file without its record.
        """
        with deferred_signals():
            self._write(record, figures, model, tb)

    def _write(self, record, figures, model, tb):
        from ..eval.plots import save_figure

        stem = slug(record["model"]) + f"-seed{record['seed']}"
        try:
            for name, fig in figures:
                target = self.path / "figures" / f"{slug(name)}-{stem}.png"
                save_figure(fig, target)
                record["figures"].append({"kind": name, "path": f"figures/{target.name}"})
            if model is not None:
                saved = save_fitted(model, self.path / "models" / stem)
                if saved is not None:
                    record["model_file"] = saved.relative_to(self.path).as_posix()
            if tb is not None:
                write_text(self.path / "errors" / f"{stem}.txt", tb)
                record["traceback"] = f"errors/{stem}.txt"
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        self.records.append(record)
        self.flush("running")

    def flush(self, status):
        """Rewrite metrics and report; the overview plot only at the end (it costs a second per drawing)."""
        from .report import write_report

        meta = dict(self.meta, status=status, updated=_now())
        metrics = {"run": meta, "models": self.records}
        # The files must agree: Ctrl-C or SIGTERM waits until all are written, and metrics.json, the record
        # readers trust, comes last.
        try:
            with deferred_signals():
                write_text(self.path / "metrics.csv", records_frame(self.records).to_csv(index=False))
                if status != "running" and any(r["status"] == "ok" for r in self.records):
                    self._plot_auc_vs_params()
                    self._plot_frontier()
                write_report(self.path, metrics)
                write_json(self.path / "metrics.json", metrics)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def _plot_frontier(self):
        from ..eval.frontier import plot_frontier
        from ..eval.plots import save_figure
        from .report import budget_frame

        frame = budget_frame(self.records)
        if frame["model_bytes"].notna().sum() == 0:  # only plugin kinds that give no size
            return
        seeds = len(self.cfg["seeds"])
        fig = plot_frontier(frame,
                            title=f"{self.cfg['name']}: macro ROC-AUC vs model size"
                                  + (f" (mean of {seeds} seeds)" if seeds > 1 else ""))
        save_figure(fig, self.path / "figures" / "auc_vs_bytes.png")

    def _plot_auc_vs_params(self):
        from ..eval.plots import plot_metric_vs_params

        ok = records_frame([r for r in self.records if r["status"] == "ok"])
        mean = ok.groupby(["entry", "model"], sort=False)[["n_params", "macro_auc"]].mean().reset_index()
        seeds = len(self.cfg["seeds"])
        plot_metric_vs_params(mean, x="n_params", y="macro_auc", hue="entry",
                              path=self.path / "figures" / "auc_vs_params.png",
                              title=f"{self.cfg['name']}: macro ROC-AUC vs parameters"
                                    + (f" (mean of {seeds} seeds)" if seeds > 1 else ""))


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _split(dataset, cfg, seed):
    from ..data import split

    s = cfg["split"]
    if s["train_size"] is not None:
        return split(dataset, train_size=s["train_size"], stratify=s["stratify"], seed=seed)
    return split(dataset, n_train=s["n_train"], n_val=s["n_val"], n_test=s["n_test"], stratify=s["stratify"],
                 seed=seed)


def _task(dataset, cfg, parts, seed, progress) -> Task:
    from ..data import prepare

    p = prepare(dataset, parts, scale=cfg["data"]["scale"])
    X_eval, y_eval = (p.X_test, p.y_test) if cfg["split"]["evaluate_on"] == "test" else (p.X_val, p.y_val)
    budgets = cfg["budget_kib"]
    budgets = [] if budgets is None else budgets if isinstance(budgets, list) else [budgets]
    return Task(p.X_train, p.y_train, p.X_val, p.y_val, X_eval, y_eval, dataset.class_names,
                dataset.image_shape, seed, progress, list(dataset.feature_names),
                budgets=tuple(round(kib * 1024) for kib in sorted(budgets)) + (None,))


def _evaluate(entry, task, outcome, draw: bool):
    """The record of one outcome and the figures to save (first seed only: the report shows one set per model,
    and drawing dominates the run time of fast models). Part of the model's work: an error here fails it."""
    from ..eval import evaluate

    label = entry["name"] + (f" ({outcome.variant})" if outcome.variant else "")
    ev = evaluate(task.y_eval, outcome.scores, task.class_names, outcome.proba)
    figures = []
    if draw and outcome.weight_maps is not None:
        figures.append(("weights", _weight_map_figure(outcome.weight_maps, task,
                                                      f"{label}: input maps (seed {task.seed})")))
    if draw:
        figures += list(outcome.figures.items())
    summary = ev.summary
    record = {
        "model": label, "entry": entry["name"], "kind": entry["kind"], "family": ADAPTERS[entry["kind"]].family,
        "variant": outcome.variant,
        "seed": task.seed, "status": "ok", "error": None,
        "macro_auc": summary["macro_auc"], "accuracy": summary["accuracy"], "log_loss": summary["log_loss"],
        "n_params": int(outcome.n_params), "model_bytes": _model_bytes(outcome), "fit_time_s": float(outcome.fit_time),
        "sparsity": None if outcome.sparsity is None else float(outcome.sparsity),
        "per_class": ev.per_class.to_dict(orient="records"), "info": dict(outcome.info), "figures": [],
    }
    return record, figures


def _model_bytes(outcome) -> int | None:
    """The outcome's size as the adapter gave it, else counted from its model; None where neither is known
    (a plugin's model without a size rule)."""
    from ..eval import model_bytes

    if outcome.model_bytes is not None:
        return int(outcome.model_bytes)
    if outcome.model is None:
        return None
    try:
        return model_bytes(outcome.model)
    except TypeError:  # no size rule registered for this model type
        return None


def _failure(entry, seed, exc, done_variants: int) -> dict:
    label = entry["name"] + (" (remaining variants)" if done_variants else "")
    return {"model": label, "entry": entry["name"], "kind": entry["kind"], "family": ADAPTERS[entry["kind"]].family,
            "variant": None, "seed": seed,
            "status": "failed", "error": cut(f"{type(exc).__name__}: {exc}"), "info": {}, "figures": []}


def _fit_entry(entry, task, recorder, draw):
    """Fit one config entry and record each outcome. The model's exceptions are caught here and recorded as
    its failure; the recorder's write errors are outside that ``try`` and stop the run."""
    outcomes = ADAPTERS[entry["kind"]].fit(task, entry["params"])
    done = 0
    while True:
        try:
            outcome = next(outcomes)
            record, figures = _evaluate(entry, task, outcome, draw)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - one model's failure must not stop the others
            tb = cut("".join(traceback.format_exception(exc)), _TB_LIMIT)
            recorder.add(_failure(entry, task.seed, exc, done), tb=tb)
            return
        recorder.add(record, figures, model=outcome.model)
        done += 1


class _Progress:
    """The overall line ("model 3/11, seed 1/3") over the learners' own bars; plain lines when not a terminal."""

    def __init__(self, cfg, mode):
        self.cfg, self.mode = cfg, mode
        self.bar = None
        if mode == "bars":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(cfg["seeds"]) * len(cfg["models"]), desc=cfg["name"], unit="model",
                            position=0, leave=True)

    def start(self, i_seed, i_model, entry):
        n_models, n_seeds = len(self.cfg["models"]), len(self.cfg["seeds"])
        text = f"model {i_model + 1}/{n_models} ({entry['name']}), seed {i_seed + 1}/{n_seeds}"
        if self.bar is not None:
            self.bar.set_description_str(f"{self.cfg['name']}: {text}")
        elif self.mode == "lines":
            print(f"{self.cfg['name']}: {text}", file=sys.stderr, flush=True)

    def done(self):
        if self.bar is not None:
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _progress_mode(progress) -> str:
    if progress is None:
        return "bars" if sys.stderr.isatty() else "lines"
    return "bars" if progress else "off"


def _discard(path: Path, created: bool):
    """Remove what an unfinished run wrote into its folder (and the folder, if the run created it)."""
    if created:
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        with contextlib.suppress(OSError):
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def run_experiment(config, out=None, overrides=(), models=None, progress=None, dataset=None) -> Run:
    """Run every model of ``config`` on every seed and write a run directory (see the module docstring).

    Parameters
    ----------
    config : str, Path or dict
        A config file, the name of a shipped config, or a parsed config mapping.
    out : str or Path, optional
        Exact run directory (must be new or empty). Default: a new ``<output>/<name>-<timestamp>``.
    overrides : list of str
        ``KEY.PATH=VALUE`` changes applied before validation, e.g. ``["split.n_train=50"]``.
    models : list of str, optional
        Run only the models with these names.
    progress : bool, optional
        True: an overall bar ("model 3/11, seed 1/3") and the learners' own bars; False: nothing. Default:
        bars when stderr is a terminal, else one plain line per model.
    dataset : qboost_tn.data.Dataset, optional
        The data set already loaded (it must be the one the config names); default: load it from the config.

    Returns
    -------
    Run
        ``.path``, ``.status`` (``"finished"``), ``.records`` and ``.table``.

    Raises
    ------
    ConfigError, QBoostTNError
        Before anything is written: a bad config, unusable data or split, an output folder that is taken.
    RunWriteError
        The run directory could not be written; the run stops (status ``"failed"`` where it can be written).

    A model that raises is recorded with status ``"failed"`` and its error; the others still run. On
    Ctrl-C the finished models' results stay in the run directory (status ``"interrupted"``) and
    ``KeyboardInterrupt`` propagates.
    """
    from ..data import load_dataset
    from .config import select_models

    cfg = load_config(config, overrides)
    if models:
        cfg = select_models(cfg, models)
    if dataset is None:
        dataset = load_dataset(cfg["data"]["name"], **cfg["data"]["options"])
    parts = {seed: _split(dataset, cfg, seed) for seed in dict.fromkeys(cfg["seeds"])}  # cheap; fails early
    for entry in cfg["models"]:  # e.g. solver "dwave" without an Ocean configuration: one line, nothing written
        if isinstance(entry["params"].get("solver"), str):
            from ..qubo.solvers import preflight

            preflight(entry["params"]["solver"])
    mode = _progress_mode(progress)

    created = out is None or not Path(out).exists()
    path = claim_run_dir(out) if out is not None else new_run_dir(cfg["output"], cfg["name"])
    heartbeat = Heartbeat(path)
    meta = {"name": cfg["name"], "description": cfg["description"], "started": _now(),
            "dataset": repr(dataset), "provenance": dataset.provenance, "splits": {}, **heartbeat.identity}
    recorder = _Recorder(path, cfg, meta)
    status = "interrupted"
    bar = _Progress(cfg, mode)
    try:
        try:
            heartbeat.start()
        except OSError as exc:
            raise _write_error(path, exc) from exc
        try:
            write_text(path / "config.yaml", dump_config(cfg))
        except OSError as exc:
            raise _write_error(path, exc) from exc
        with dask_cluster(cfg):
            for i_seed, seed in enumerate(cfg["seeds"]):
                task = _task(dataset, cfg, parts[seed], seed, mode == "bars")
                meta["splits"][str(seed)] = {"train": len(task.y_train), "val": len(task.y_val),
                                             "eval": len(task.y_eval), "evaluate_on": cfg["split"]["evaluate_on"]}
                for i_model, entry in enumerate(cfg["models"]):
                    bar.start(i_seed, i_model, entry)
                    _fit_entry(entry, task, recorder, draw=i_seed == 0)
                    bar.done()
        status = "finished"
    except KeyboardInterrupt as exc:
        exc.run_dir = path  # where the finished models are kept: the command line says so
        raise
    except Exception:
        status = "failed"
        raise
    finally:
        bar.close()
        try:
            if not recorder.records and status != "finished":
                heartbeat.stop()
                _discard(path, created)  # nothing ran: leave no half-made run behind
            else:
                recorder.meta["finished"] = _now()
                # An unfinished run's last flush is best effort: the error that stopped it is the one to report.
                with contextlib.suppress(RunWriteError) if status != "finished" else contextlib.nullcontext():
                    recorder.flush(status)
        finally:
            heartbeat.stop()
    return Run(path, status, recorder.records)
