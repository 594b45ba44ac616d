"""Estimated QPU access time of one sampler call, from the sampler's own ``problem_timing_data``.

D-Wave's timing model (programming time + thermalisation + per read: anneal, read-out interpolated in the
number of qubits, delay) is implemented once, by dwave-cloud-client's
``StructuredSolver.estimate_qpu_access_time``; a real :class:`dwave.system.DWaveSampler` exposes it as
``sampler.solver.estimate_qpu_access_time``. A mock (or any structured sampler) that publishes the same
``problem_timing_data`` property gets the same estimate: the method reads nothing of the solver but
``properties``, so it is called with the sampler's properties. A sampler without timing data gives NaN: an
unknown cost is not a zero cost.
"""
from __future__ import annotations

import math
from types import SimpleNamespace


def estimate_qpu_access_time_s(sampler, num_qubits: int, num_reads: int, **parameters) -> float:
    """Seconds of QPU access for one call on ``num_qubits`` qubits with ``num_reads`` reads (NaN if unknown).

    ``parameters`` are the timing-relevant sampling parameters passed to the call (``annealing_time``,
    ``programming_thermalization``, ...), as ``estimate_qpu_access_time`` takes them.
    """
    solver = getattr(sampler, "solver", None)
    estimate = getattr(solver, "estimate_qpu_access_time", None)
    if estimate is None:
        properties = getattr(sampler, "properties", None) or {}
        if not properties.get("problem_timing_data"):
            return math.nan
        from dwave.cloud.solver import StructuredSolver

        def estimate(*args, **kwargs):
            return StructuredSolver.estimate_qpu_access_time(SimpleNamespace(properties=properties), *args,
                                                             **kwargs)
    return float(estimate(int(num_qubits), num_reads=int(num_reads), **parameters)) * 1e-6
