"""Run every model of a config on every seed and write a run directory.

Layout of a run directory (``<output>/<name>-<YYYYmmdd-HHMMSS>[-N]``)::

    config.yaml      the resolved config (defaults filled in, absolute paths)
    metrics.json     run status, data provenance, one record per model and seed (per-class metrics included)
    metrics.csv      the same records flattened: one row per model and seed
    figures/         AUC-versus-parameters, and per model (first seed): weight maps and figures it adds
                     (entanglement, ...)
    errors/          the traceback of each model that failed
    report.html      one self-contained page: table and figures

``metrics.*`` and ``report.html`` are rewritten (atomically) after every model, so an interrupted run keeps
every finished model's results and a reader never sees a half-written file.
"""
from __future__ import annotations

import itertools
import re
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import write_json, write_text
from .adapters import ADAPTERS, Task
from .config import dump_config, load_config

SUMMARY_COLUMNS = ["model", "kind", "family", "seed", "status", "macro_auc", "accuracy", "log_loss", "n_params",
                   "fit_time_s", "sparsity"]


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


def new_run_dir(output, name) -> Path:
    """Create ``output/name-<timestamp>``, adding ``-2``, ``-3``, ... rather than reuse an existing folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = output / (f"{name}-{stamp}" if n == 1 else f"{name}-{stamp}-{n}")
        try:
            candidate.mkdir()  # atomic: two runs started in the same second get different folders
            return candidate
        except FileExistsError:
            continue


def _claim_dir(path) -> Path:
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"output directory {path} already exists and is not empty; a run never overwrites "
                         "another - choose a new folder or leave --out out to get a fresh timestamped one")
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        rows.append(row)
    return pd.DataFrame(rows)


def _weight_map_figure(maps, task: Task, title):
    from ..eval.plots import plot_weight_maps

    maps = np.atleast_2d(np.asarray(maps, dtype=np.float64))
    shape = task.image_shape if task.image_shape is not None else (1, maps.shape[1])
    if maps.shape[0] == task.n_classes:
        names = task.class_names
    elif maps.shape[0] == 1 and task.n_classes == 2:
        names = [f"{task.class_names[1]} vs {task.class_names[0]}"]
    else:
        names = [f"output {i}" for i in range(maps.shape[0])]
    return plot_weight_maps(maps, image_shape=shape, class_names=names, title=title,
                            ncols=5 if task.image_shape is not None else 1)


class _Recorder:
    """Holds the records of a run and rewrites metrics and report after each change."""

    def __init__(self, path: Path, cfg: dict, meta: dict):
        self.path, self.cfg, self.meta = path, cfg, meta
        self.records: list[dict] = []

    def add(self, record):
        self.records.append(record)
        self.flush("running")

    def flush(self, status):
        """Rewrite metrics and report; the overview plot only at the end (it costs a second per drawing)."""
        from .report import write_report

        meta = dict(self.meta, status=status, updated=_now())
        write_json(self.path / "metrics.json", {"run": meta, "models": self.records})
        write_text(self.path / "metrics.csv", records_frame(self.records).to_csv(index=False))
        if status != "running" and any(r["status"] == "ok" for r in self.records):
            self._plot_auc_vs_params()
        write_report(self.path)

    def _plot_auc_vs_params(self):
        from ..eval.plots import plot_metric_vs_params

        ok = records_frame([r for r in self.records if r["status"] == "ok"])
        mean = ok.groupby(["entry", "model"], sort=False)[["n_params", "macro_auc"]].mean().reset_index()
        plot_metric_vs_params(mean, x="n_params", y="macro_auc", hue="entry",
                              path=self.path / "figures" / "auc_vs_params.png",
                              title=f"{self.cfg['name']}: macro ROC-AUC vs parameters"
                                    + (f" (mean of {len(self.cfg['seeds'])} seeds)" if len(self.cfg["seeds"]) > 1 else ""))


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _task(dataset, cfg, seed, progress) -> Task:
    from ..data import prepare, split

    s = cfg["split"]
    if s["train_size"] is not None:
        parts = split(dataset, train_size=s["train_size"], stratify=s["stratify"], seed=seed)
    else:
        parts = split(dataset, n_train=s["n_train"], n_val=s["n_val"], n_test=s["n_test"], stratify=s["stratify"],
                      seed=seed)
    p = prepare(dataset, parts, scale=cfg["data"]["scale"])
    X_eval, y_eval = (p.X_test, p.y_test) if s["evaluate_on"] == "test" else (p.X_val, p.y_val)
    return Task(p.X_train, p.y_train, p.X_val, p.y_val, X_eval, y_eval, dataset.class_names,
                dataset.image_shape, seed, progress)


def _record(entry, task, outcome, figures_dir: Path, draw: bool) -> dict:
    """Evaluate one outcome; with ``draw``, save its figures (done for the first seed only: the report shows
    one set per model, and drawing dominates the run time of fast models)."""
    from ..eval import evaluate
    from ..eval.plots import save_figure

    label = entry["name"] + (f" ({outcome.variant})" if outcome.variant else "")
    ev = evaluate(task.y_eval, outcome.scores, task.class_names, outcome.proba)
    figures = []
    stem = slug(label) + f"-seed{task.seed}"
    if not draw:
        _close_figures(outcome.figures)
    elif outcome.weight_maps is not None:
        path = figures_dir / f"weights-{stem}.png"
        save_figure(_weight_map_figure(outcome.weight_maps, task, f"{label}: weights (seed {task.seed})"), path)
        figures.append({"kind": "weights", "path": f"figures/{path.name}"})
    for name, fig in outcome.figures.items() if draw else ():
        path = figures_dir / f"{slug(name)}-{stem}.png"
        save_figure(fig, path)
        figures.append({"kind": name, "path": f"figures/{path.name}"})
    summary = ev.summary
    return {
        "model": label, "entry": entry["name"], "kind": entry["kind"], "family": ADAPTERS[entry["kind"]].family,
        "variant": outcome.variant,
        "seed": task.seed, "status": "ok", "error": None,
        "macro_auc": summary["macro_auc"], "accuracy": summary["accuracy"], "log_loss": summary["log_loss"],
        "n_params": int(outcome.n_params), "fit_time_s": float(outcome.fit_time),
        "sparsity": None if outcome.sparsity is None else float(outcome.sparsity),
        "per_class": ev.per_class.to_dict(orient="records"), "info": dict(outcome.info), "figures": figures,
    }


def _close_figures(figures):
    import matplotlib.pyplot as plt

    for fig in figures.values():
        plt.close(fig)


def _failure(entry, seed, exc, path: Path, done_variants: int) -> dict:
    stem = slug(entry["name"]) + f"-seed{seed}"
    write_text(path / "errors" / f"{stem}.txt", "".join(traceback.format_exception(exc)))
    label = entry["name"] + (" (remaining variants)" if done_variants else "")
    return {"model": label, "entry": entry["name"], "kind": entry["kind"], "family": ADAPTERS[entry["kind"]].family,
            "variant": None, "seed": seed,
            "status": "failed", "error": f"{type(exc).__name__}: {exc}", "info": {}, "figures": [],
            "traceback": f"errors/{stem}.txt"}


def run_experiment(config, out=None, overrides=(), models=None, progress=True) -> Run:
    """Run every model of ``config`` on every seed and write a run directory (see the module docstring).

    Parameters
    ----------
    config : str, Path or dict
        A config file, the name of a shipped config, or a parsed config mapping.
    out : str or Path, optional
        Exact run directory (must not exist or be empty). Default: a new ``<output>/<name>-<timestamp>``.
    overrides : list of str
        ``KEY.PATH=VALUE`` changes applied before validation, e.g. ``["split.n_train=50"]``.
    models : list of str, optional
        Run only the models with these names.
    progress : bool
        Show a progress bar over models (and the learners' own bars).

    Returns
    -------
    Run
        ``.path``, ``.status`` (``"finished"``), ``.records`` and ``.table``.

    A model that raises is recorded with status ``"failed"`` and its error; the others still run. On
    Ctrl-C the finished models' results stay in the run directory (status ``"interrupted"``) and
    ``KeyboardInterrupt`` propagates.
    """
    from tqdm.auto import tqdm

    from ..data import load_dataset
    from .config import select_models

    cfg = load_config(config, overrides)
    if models:
        cfg = select_models(cfg, models)
    dataset = load_dataset(cfg["data"]["name"], **cfg["data"]["options"])
    path = _claim_dir(out) if out is not None else new_run_dir(cfg["output"], cfg["name"])
    write_text(path / "config.yaml", dump_config(cfg))
    meta = {"name": cfg["name"], "description": cfg["description"], "started": _now(),
            "dataset": repr(dataset), "provenance": dataset.provenance, "splits": {}}
    recorder = _Recorder(path, cfg, meta)
    status = "interrupted"
    jobs = [(seed, entry) for seed in cfg["seeds"] for entry in cfg["models"]]
    bar = tqdm(jobs, desc=cfg["name"], unit="model", disable=not progress)
    try:
        task = None
        for seed, entry in bar:
            if task is None or task.seed != seed:
                task = _task(dataset, cfg, seed, progress)
                meta["splits"][str(seed)] = {"train": len(task.y_train), "val": len(task.y_val),
                                             "eval": len(task.y_eval), "evaluate_on": cfg["split"]["evaluate_on"]}
            bar.set_postfix_str(f"{entry['name']} seed {seed}")
            done = 0
            try:
                for outcome in ADAPTERS[entry["kind"]].fit(task, entry["params"]):
                    recorder.add(_record(entry, task, outcome, path / "figures", draw=seed == cfg["seeds"][0]))
                    done += 1
            except Exception as exc:  # noqa: BLE001 - one model's failure must not stop the others
                recorder.add(_failure(entry, seed, exc, path, done))
        status = "finished"
    finally:
        bar.close()
        recorder.meta["finished"] = _now()
        recorder.flush(status)
    return Run(path, status, recorder.records)
