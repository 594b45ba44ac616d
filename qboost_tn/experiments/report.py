"""``report.html``: one self-contained page per run — comparison table and figures, images embedded.

The page is built from the run directory alone (``metrics.json``, ``config.yaml``, ``figures/``), so
:func:`write_report` can rebuild it for any run, finished or interrupted. A small inline script records, once
the page has loaded, whether every image decoded (``data-natural-width`` on each ``<img>`` and a summary in
``#render-check``); the browser test reads it back from Chromium's DOM.
"""
from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import pandas as pd

from .._io import write_json, write_text
from .liveness import run_status
from ..eval.frontier import format_bytes

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { margin-bottom: .2em; } .meta { color: #555; font-size: .9em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th { background: #f0f0f0; } td.text { text-align: left; }
tr.failed td { background: #fde8e8; } td.best { font-weight: bold; background: #e6f4ea; }
.status { display: inline-block; padding: .1em .5em; border-radius: .3em; background: #eee; }
.status.finished { background: #e6f4ea; } .status.interrupted, .status.running { background: #fff4d6; }
.status.failed, .status.killed { background: #fde8e8; }
figure { display: inline-block; margin: .5em; vertical-align: top; } figcaption { font-size: .85em; color: #444; }
img { max-width: 100%; } pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
"""

# Runs after every image has loaded (or failed to): records what actually decoded.
_CHECK_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img"), ok = 0;
  imgs.forEach(function (img) {
    img.setAttribute("data-natural-width", img.naturalWidth);
    if (img.complete && img.naturalWidth > 0) { ok += 1; }
  });
  var check = document.getElementById("render-check");
  check.setAttribute("data-images", imgs.length);
  check.setAttribute("data-rendered", ok);
  check.setAttribute("data-table-rows", document.querySelectorAll("#comparison tbody tr").length);
  check.textContent = ok + " of " + imgs.length + " images rendered";
});
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value, fmt) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"  # not applicable or not measured, as the command line prints it
    return format(value, fmt)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'


_FRAME_COLUMNS = ["model", "kind", "family", "seeds", "failed", "error", "macro_auc", "accuracy", "n_params",
                  "model_bytes", "fit_time_s", "sparsity", "macro_auc_std", "best_in_family"]


def comparison_frame(records) -> pd.DataFrame:
    """One row per model (means over seeds, with the spread of macro AUC when there are several).

    ``model_bytes`` is the largest over seeds (so a row that fits a budget fits it on every seed).
    ``best_in_family`` marks the row with the highest mean macro AUC of its family (annealer, classical,
    network, mpo-network, tensor-network); a run with no successful row has none marked.
    """
    rows = []
    order = list(dict.fromkeys(r["model"] for r in records))
    for model in order:
        recs = [r for r in records if r["model"] == model]
        ok = [r for r in recs if r["status"] == "ok"]
        failed = [r for r in recs if r["status"] != "ok"]
        row = {"model": model, "kind": recs[0]["kind"], "family": recs[0].get("family"), "seeds": len(recs),
               "failed": len(failed), "error": failed[0]["error"] if failed else None}
        for key in ("macro_auc", "accuracy", "n_params", "fit_time_s", "sparsity"):
            values = [r[key] for r in ok if r.get(key) is not None]
            row[key] = sum(values) / len(values) if values else None
        sizes = [r["model_bytes"] for r in ok if r.get("model_bytes") is not None]
        row["model_bytes"] = max(sizes) if sizes else None
        aucs = [r["macro_auc"] for r in ok]
        row["macro_auc_std"] = pd.Series(aucs).std() if len(aucs) > 1 else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
    auc = pd.to_numeric(frame["macro_auc"], errors="coerce")
    best = auc.groupby(frame["family"].fillna(""), sort=False).transform("max")
    frame["best_in_family"] = auc.notna() & (auc == best)
    return frame


def _comparison_table(records) -> str:
    frame = comparison_frame(records)
    spread = frame["macro_auc_std"].notna().any()
    head = ("<tr><th>model</th><th>family</th><th>kind</th><th>macro ROC-AUC</th>"
            + ("<th>± std</th>" if spread else "")
            + "<th>accuracy</th><th>parameters</th><th>size</th><th>fit time (s)</th><th>sparsity</th><th>seeds</th>"
              "<th>error</th></tr>")
    body = []
    for r in frame.to_dict("records"):
        r = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        classes = (["failed"] if r["failed"] else []) + (["best-in-family"] if r["best_in_family"] else [])
        cls = f' class="{" ".join(classes)}"' if classes else ""
        auc_cls = ' class="best" title="best of its family"' if r["best_in_family"] else ""
        sparsity = "-" if r["sparsity"] is None else f"{100 * r['sparsity']:.1f}%"
        n_params = None if r["n_params"] is None else int(round(r["n_params"]))
        cells = [f'<td class="text">{_esc(r["model"])}</td>', f'<td class="text">{_esc(r["family"] or "")}</td>',
                 f'<td class="text">{_esc(r["kind"])}</td>', f"<td{auc_cls}>{_num(r['macro_auc'], '.4f')}</td>"]
        if spread:
            cells.append(f"<td>{_num(r['macro_auc_std'], '.4f')}</td>")
        cells += [f"<td>{_num(r['accuracy'], '.4f')}</td>", f"<td>{_num(n_params, ',d')}</td>",
                  f'<td title="{_num(r["model_bytes"], ",.0f")} bytes">{format_bytes(r["model_bytes"])}</td>',
                  f"<td>{_num(r['fit_time_s'], '.2f')}</td>", f"<td>{sparsity}</td>",
                  f"<td>{r['seeds'] - r['failed']}/{r['seeds']}</td>",
                  f'<td class="text">{_esc(r["error"] or "")}</td>']
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f'<table id="comparison"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
            '<p class="meta">Bold on green: the best macro ROC-AUC of its family (annealer, classical, network, '
            'mpo-network, tensor-network). Size: bytes to store the model (qboost_tn.model_bytes), the largest '
            'over seeds.</p>')


def _per_class_table(records) -> str:
    ok = [r for r in records if r["status"] == "ok"]
    if not ok:
        return ""
    rows = [{"model": r["model"], "class": c["class"], "auc": c["auc"]} for r in ok for c in r["per_class"]]
    table = pd.DataFrame(rows).pivot_table(index="model", columns="class", values="auc", sort=False)
    head = "<tr><th>model</th>" + "".join(f"<th>{_esc(c)}</th>" for c in table.columns) + "</tr>"
    body = "".join(f'<tr><td class="text">{_esc(m)}</td>' + "".join(f"<td>{_num(v, '.4f')}</td>" for v in row)
                   + "</tr>" for m, row in table.iterrows())
    return (f'<h2>ROC-AUC per class</h2><table id="per-class"><thead>{head}</thead><tbody>{body}</tbody></table>')


def budget_frame(records, budgets=None) -> pd.DataFrame:
    """Rows to compare at each size budget: means over seeds (size: the largest over seeds).

    A tuned config entry yields, per seed, only the choices that differ between budgets; so that every seed
    counts at every budget, its budget rows are rebuilt here per seed: at budget ``b`` the entry's recorded
    choice with the best validation AUC among those no larger than ``b`` (what the validation choice within
    ``b`` was), named ``<entry> (<=b KiB)``, kept when every seed of the entry has one. Entries with one row
    per seed (a fixed setting, one model per bond dimension, ...) stay as they are.
    """
    from ..eval.frontier import BUDGETS_KIB, budget_label

    budgets = BUDGETS_KIB if budgets is None else budgets
    ok = [r for r in records if r["status"] == "ok" and r.get("model_bytes") is not None]
    groups: dict = {}
    for r in ok:
        groups.setdefault((r["entry"], r["seed"]), []).append(r)
    tuned = {entry for (entry, _), rs in groups.items()
             if len(rs) > 1 and all(r.get("info", {}).get("val_macro_auc") is not None for r in rs)}
    rows = [r for r in ok if r["entry"] not in tuned]
    for entry in tuned:
        seeds = {seed for (e, seed) in groups if e == entry}
        for kib in budgets:
            limit = math.inf if kib is None else kib * 1024
            chosen = []
            for seed in seeds:
                fits = [r for r in groups[(entry, seed)] if r["model_bytes"] <= limit]
                if fits:
                    chosen.append(max(fits, key=lambda r: r["info"]["val_macro_auc"]))
            if len(chosen) == len(seeds):
                name = entry if kib is None else f"{entry} (<={budget_label(kib)})"
                rows += [dict(r, model=name) for r in chosen]
    frame = comparison_frame(rows)
    return frame[frame["failed"] < frame["seeds"]]


def _budget_table(records) -> str:
    """Per budget, the best row that fits it overall and in each family; the compact families' best against
    the peers' best (the difference in macro AUC)."""
    from ..eval.frontier import best_per_budget
    from .adapters.base import COMPACT_FAMILIES

    frame = budget_frame(records)
    if frame["model_bytes"].notna().sum() == 0:
        return ""
    frame = frame.assign(group=frame["family"].map(lambda f: "compact" if f in COMPACT_FAMILIES else "peer"))
    table = best_per_budget(frame)
    groups = best_per_budget(frame, group="group")
    families = [f for f in dict.fromkeys(frame["family"])]
    head = ("<tr><th>budget</th><th>best row</th>" + "".join(f"<th>{_esc(f)}</th>" for f in families)
            + "<th>compact &minus; peer</th></tr>")
    body = []
    for row, grouped in zip(table.to_dict("records"), groups.to_dict("records")):
        def cell(g, mark=False):
            if pd.isna(row.get(f"{g}:model")):
                return "<td>&ndash;</td>"
            best = mark and row[f"{g}:model"] == row["all:model"]
            cls = ' class="text best" title="best row within this budget"' if best else ' class="text"'
            return (f"<td{cls}>{_esc(row[f'{g}:model'])}<br>{row[f'{g}:macro_auc']:.4f} "
                    f"({format_bytes(row[f'{g}:model_bytes'])})</td>")
        gap = grouped.get("compact:macro_auc", math.nan) - grouped.get("peer:macro_auc", math.nan)
        cells = [f'<td class="text">{_esc(row["budget"])}</td>', cell("all")]
        cells += [cell(f, mark=True) for f in families]
        cells.append(f"<td>{'' if math.isnan(gap) else f'{gap:+.4f}'}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return ('<h2>Best row per budget</h2><table id="budgets"><thead>' + head + "</thead><tbody>" + "".join(body)
            + '</tbody></table><p class="meta">Each cell: the family\'s best mean macro ROC-AUC among rows whose '
            "size fits the budget on every seed (bold on green where it is the best row of all); a tuned entry's "
            "row at a budget holds, per seed, its validation choice within that budget. compact &minus; peer: the best "
            f"of the compact families ({', '.join(COMPACT_FAMILIES)}) minus the best of the others.</p>")


def _figures(path: Path, records) -> str:
    parts = []
    frontier = path / "figures" / "auc_vs_bytes.png"
    if frontier.is_file():
        parts.append("<h2>ROC-AUC versus model size</h2>"
                     f'<figure>{_img(frontier, "macro ROC-AUC versus model size, Pareto front per family")}'
                     "<figcaption>Lines: each family's Pareto front (no smaller row scores higher).</figcaption>"
                     "</figure>")
    overview = path / "figures" / "auc_vs_params.png"
    if overview.is_file():
        parts.append("<h2>ROC-AUC versus parameters</h2>"
                     f'<figure>{_img(overview, "macro ROC-AUC versus parameter count")}</figure>')
    first_seed = {}
    for r in records:
        first_seed.setdefault(r["model"], r["seed"])
    shown = [(r, f) for r in records if r["seed"] == first_seed[r["model"]] for f in r.get("figures", [])]
    for kind, title in (("weights", "Weight maps"), (None, "Other figures")):
        group = [(r, f) for r, f in shown if (f["kind"] == "weights") == (kind == "weights")]
        if not group:
            continue
        parts.append(f"<h2>{title}</h2>")
        for r, f in group:
            file = path / f["path"]
            if file.is_file():
                caption = f"{r['model']}: {f['kind']} (seed {r['seed']})"
                parts.append(f"<figure>{_img(file, caption)}<figcaption>{_esc(caption)}</figcaption></figure>")
    return "\n".join(parts)


def render_report(path, metrics=None) -> str:
    """The HTML of a run directory's report (from ``metrics``, default the folder's ``metrics.json``).

    A run that says "running" but whose process is gone is shown as killed, with the reason.
    """
    path = Path(path)
    if metrics is None:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    run, records = metrics["run"], metrics["models"]
    config = (path / "config.yaml").read_text(encoding="utf-8") if (path / "config.yaml").is_file() else ""
    splits = "; ".join(f"seed {s}: " + ", ".join(f"{k} {v}" for k, v in sizes.items())
                       for s, sizes in run.get("splits", {}).items())
    status, why = run_status(path, run)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(run['name'])} - qboost-tn report</title>
<style>{_CSS}</style></head>
<body>
<h1>{_esc(run['name'])}</h1>
<p>{_esc(run.get('description', ''))}</p>
<p class="meta"><span class="status {_esc(status)}" title="{_esc(why)}">{_esc(status)}</span>{_esc(
    f" ({why})" if status == "killed" else "")}
 started {_esc(run.get('started', ''))}, updated {_esc(run.get('updated', ''))}<br>
 data: {_esc(run.get('dataset', ''))} &mdash; {_esc(run.get('provenance', ''))}<br>
 splits: {_esc(splits)}</p>
<h2>Comparison</h2>
{_comparison_table(records)}
{_budget_table(records)}
{_per_class_table(records)}
{_figures(path, records)}
<h2>Config</h2>
<details><summary>resolved config.yaml</summary><pre>{_esc(config)}</pre></details>
<p id="render-check" class="meta">images not checked (scripts disabled)</p>
<script>{_CHECK_SCRIPT}</script>
</body></html>
"""


def write_report(path, metrics=None) -> Path:
    """(Re)write ``report.html`` in run directory ``path`` (from ``metrics``, default ``metrics.json``).

    Rebuilding the report of a run that was killed (it says "running", its process is gone) also records
    that in ``metrics.json``, so the folder agrees with itself again.
    """
    path = Path(path)
    if metrics is None:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        status, why = run_status(path, metrics["run"])
        if status == "killed" and metrics["run"].get("status") == "running":
            metrics["run"].update(status="killed", killed=why)
            write_text(path / "report.html", render_report(path, metrics))
            write_json(path / "metrics.json", metrics)
            return path / "report.html"
    return write_text(path / "report.html", render_report(path, metrics))
