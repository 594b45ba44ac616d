"""Wide learner scaling: fit time, peak memory and energies of the dense vs the factored problem path.

Inputs: MNIST 20x20 (``qboost_tn.load_dataset("mnist", size=20)``), 150 training samples (15 per class, 10
classes, fixed seed), mapped to P random Fourier features by scikit-learn's ``RBFSampler`` (γ = 1 / (400 ·
Var(x)), scikit-learn's "scale" rule), P ∈ {400, 1,000, 4,000, 10,000}. So the benchmark depends on neither the
learner's own feature maps nor their defaults. Learner: ``ShallowWideClassifier(n_layers=4, num_reads=R,
num_sweeps=S, random_state=0)``, serial, with the project's default solver (``"layered"``,
:class:`~qboost_tn.qubo.anneal.layered.LayeredAnnealingSolver`); by default R and S are the solver's budget
for the problem (16 reads of 50 sweeps at P = 400, 16 · (400 / P)² reads beyond, at least one), read 0
descending from the rounded continuous minimiser (``--cold``: every read from random, as before issue 10).

Paths: ``least_squares_problem`` picks the form by shape and the solver the kernel by size; here each case
forces them through the module settings ``qboost_tn.qubo.model.FACTORED_RATIO`` / ``DENSE_MAX_BYTES`` and
``qboost_tn.qubo.anneal.layered.DENSE_KERNEL_BYTES``:

* ``dense``: P × P coupling matrix per class, annealed with O(P) row updates;
* ``factored``: ``Q = F Fᵀ + d`` with F of shape (P, 150), annealed keeping the 150 predictions (O(N) per move);
* ``auto``: what the defaults choose (factored form from P >= 4 N; the dense kernel on ``F Fᵀ + d`` while it
  takes at most 128 MiB, i.e. P <= 4,096).

Each (P, path) runs in its own subprocess. Peak memory: the kernel's resident high-water mark (VmHWM, reset
through ``/proc/self/clear_refs`` just before ``fit``, so Linux only) above the resident size at that moment
(imports, features; the full data set freed), next to tracemalloc's peak of Python/numpy allocations during
``fit``. The compiled kernels are warmed up (and loaded
from numba's cache) before timing. Energies are the 10 per-class training energies of the fit (the same
function of W in both forms), so "Δ energy" = factored − dense (≤ 0: factored as deep or deeper); macro AUC is
on 2,000 further MNIST samples.

Times: wall and CPU seconds of ``fit`` (serial, so CPU time is the work done, robust to other load on the
machine); the ratio uses CPU time.

Measured (issue 10, solver's budget with the warm start, 2 cores at load ≈ 5; CPU s of the 10-class fit, mean
per-class energy, macro AUC):

=======  ===================  ===================  ===================
P        dense                factored             auto
=======  ===================  ===================  ===================
400      1.0  0.191663 .9621  1.5  0.191663 .9621  1.1 (dense)
1,000    1.7  0.123265 .9722  1.8  0.123263 .9721  1.4 (F, dense kernel)
4,000    14.2 0.049124 .9781  4.8  0.049125 .9781  4.4 (F, dense kernel)
10,000   skipped (8 GB of Q)  15.4 0.022899 .9775  = factored
=======  ===================  ===================  ===================

The dense path's cost at P = 4,000 is its warm start (a P × P Cholesky factorisation, O(P³)) and forming and
checking Q; the factored form's start is an N × N system.

Run: ``python benchmarks/wide_scaling.py`` (about 10 minutes on 2 busy cores; ``--quick`` for P ≤ 1,000).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

WIDTHS = (400, 1000, 4000, 10000)
PATHS = ("dense", "factored", "auto")
N_PER_CLASS = 15
N_CLASSES = 10
N_SCORED = 2000


def run_case(P, path, reads, sweeps, warm):
    """Fit one case in this process; returns its figures (called in a fresh subprocess)."""
    import gc
    import tracemalloc

    import numpy as np
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.metrics import roc_auc_score

    import qboost_tn
    from qboost_tn.qubo import model
    from qboost_tn.qubo.anneal import layered as layered_anneal
    from qboost_tn.qubo.shallow_wide import ShallowWideClassifier

    if path == "dense":
        model.FACTORED_RATIO, model.DENSE_MAX_BYTES = float("inf"), float("inf")
    elif path == "factored":
        model.FACTORED_RATIO, layered_anneal.DENSE_KERNEL_BYTES = 0, 0
    ds = qboost_tn.load_dataset("mnist", size=20)
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.choice(np.flatnonzero(ds.y == c), N_PER_CLASS, replace=False)
                            for c in np.unique(ds.y)])
    rest = rng.permutation(np.setdiff1d(np.arange(len(ds.y)), train))[:N_SCORED]
    X = np.asarray(ds.X, dtype=np.float64)
    rff = RBFSampler(gamma=1.0 / (X.shape[1] * X[train].var()), n_components=P, random_state=0).fit(X[train])
    Z, Zs = rff.transform(X[train]), rff.transform(X[rest])
    params = dict(n_layers=4, num_reads=reads, num_sweeps=sweeps, random_state=0,
                  solver=layered_anneal.LayeredAnnealingSolver(warm_start=warm))
    ShallowWideClassifier(**params).fit(Z[:40, :64], ds.y[train][:40])  # warm-up: load the compiled kernels
    kind = type(ShallowWideClassifier(**params).problems(Z, ds.y[train])[0][0]).__name__
    y, y_rest = ds.y[train], ds.y[rest]
    del ds, X  # the full data set must not set the process's peak
    gc.collect()
    before = _reset_peak_rss()
    tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    clf = ShallowWideClassifier(**params).fit(Z, y)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = _peak_rss()
    auc = roc_auc_score(y_rest, clf.predict_proba(Zs), multi_class="ovr", average="macro")
    return {"P": P, "path": path, "problem": kind, "fit_s": seconds, "cpu_s": cpu, "rss_before_mb": before,
            "rss_peak_mb": peak, "traced_peak_mb": traced / 2**20,
            "energies": clf.energies_[:, 0].tolist(), "auc": float(auc)}


def _status_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise OSError(field)


def _reset_peak_rss():
    """Resident MB now, after resetting the kernel's peak (VmHWM) to it (Linux)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status_mb("VmRSS")


def _peak_rss():
    return _status_mb("VmHWM")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    parser.add_argument("--reads", type=int, help="num_reads per problem (default: the solver's budget)")
    parser.add_argument("--sweeps", type=int, help="num_sweeps per read (default: the solver's budget, 50)")
    parser.add_argument("--cold", action="store_true", help="no warm start: every read anneals from random")
    parser.add_argument("--quick", action="store_true", help="widths 400 and 1,000 only")
    parser.add_argument("--dense-limit-gb", type=float, default=4.0,
                        help="skip dense cases whose 10 Q matrices alone exceed this (default 4 GB: P = 10,000 "
                             "needs 8 GB, unsafe on a shared 24 GiB machine)")
    parser.add_argument("--json", help="also write every case's figures (per-class energies included) here")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)  # internal: one case in this process
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(int(args.case[0]), args.case[1], args.reads, args.sweeps, not args.cold)))
        return
    widths = [w for w in args.widths if w <= 1000] if args.quick else args.widths
    rows = []
    for P in widths:
        for path in PATHS:
            if path == "dense" and N_CLASSES * 8 * P * P > args.dense_limit_gb * 1e9:
                print(f"  skip P={P:>6} dense: {N_CLASSES} x {8 * P * P / 1e9:.1f} GB of Q > --dense-limit-gb",
                      flush=True)
                continue
            budget = [f"--{k}={v}" for k, v in (("reads", args.reads), ("sweeps", args.sweeps)) if v is not None]
            out = subprocess.run([sys.executable, __file__, "--case", str(P), path, *budget,
                                  *(["--cold"] if args.cold else [])], capture_output=True, text=True)
            if out.returncode != 0:
                print(f"P={P} {path}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"  done P={P:>6} {path:<8} fit {r['fit_s']:7.1f} s (CPU {r['cpu_s']:7.1f} s)  peak RSS +{r['rss_peak_mb'] - r['rss_before_mb']:7.0f} MB",
                  flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    print(f"\nShallowWideClassifier(n_layers=4, num_reads={args.reads}, num_sweeps={args.sweeps}), 150 samples, "
          f"10 classes, serial, {'cold starts' if args.cold else 'warm start'} (None: the solver's budget)")
    print(f"{'P':>6} {'path':<9} {'problem':<23} {'fit s':>7} {'CPU s':>7} {'RSS +MB':>8} {'traced MB':>9} "
          f"{'mean energy':>12} {'AUC':>6}")
    by_key = {(r["P"], r["path"]): r for r in rows}
    for r in rows:
        mean_energy = sum(r["energies"]) / len(r["energies"])
        print(f"{r['P']:>6} {r['path']:<9} {r['problem']:<23} {r['fit_s']:>7.1f} {r['cpu_s']:>7.1f} "
              f"{r['rss_peak_mb'] - r['rss_before_mb']:>8.0f} {r['traced_peak_mb']:>9.0f} {mean_energy:>12.6f} "
              f"{r['auc']:>6.4f}")
    print(f"\n{'P':>6} {'CPU dense/factored':>20} {'classes factored lower/equal/higher':>36} {'max Δ energy':>13}")
    for P in widths:
        d, f = by_key.get((P, "dense")), by_key.get((P, "factored"))
        if not (d and f):
            continue
        deltas = [b - a for a, b in zip(d["energies"], f["energies"])]
        tol = 1e-9 * max(abs(e) for e in d["energies"])
        counts = (sum(x < -tol for x in deltas), sum(abs(x) <= tol for x in deltas), sum(x > tol for x in deltas))
        print(f"{P:>6} {d['cpu_s'] / f['cpu_s']:>20.2f} {'%d / %d / %d' % counts:>36} {max(deltas):>13.2e}")


if __name__ == "__main__":
    main()
