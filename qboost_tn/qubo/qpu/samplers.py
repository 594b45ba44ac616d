"""The samplers behind the registered names ``"pegasus-mock"``, ``"zephyr-mock"`` and ``"dwave"``.

* :class:`OfflineQPUSampler`: dwave-system's :class:`~dwave.system.testing.MockDWaveSampler` of a full
  Advantage (Pegasus P16, 5,640 qubits) or Advantage2 (Zephyr Z12, 4,800 qubits) graph, sampling with
  dwave-samplers' simulated annealing on the embedded problem (chains and all) instead of the mock's steepest
  descent, with a ``seed`` parameter so fits are reproducible, and publishing the Advantage
  ``problem_timing_data`` that dwave-cloud-client ships for its own mocks (the property dwave-system's mock
  leaves empty), so QPU access time is estimated as for a real machine. It models the graph, the chains and the
  cost, not the QPU's noise or precision: energies on hardware will be worse.
* :func:`dwave_sampler`: a real :class:`~dwave.system.DWaveSampler` from the user's Ocean configuration,
  refused with one line naming what is missing (no token, unreachable solver).

This module imports dwave-system: :mod:`qboost_tn.qubo.solvers` imports it only when one of these names is used.
"""
from __future__ import annotations

import functools

from dwave.cloud.testing.mocks import qpu_problem_timing_data
from dwave.samplers import SimulatedAnnealingSampler
from dwave.system.testing import MockDWaveSampler

from ...errors import QBoostTNError
from ..._text import shown

# Simulated-annealing sweeps per mock read: the embedded problems have 500-3,000 qubits, so a read costs
# milliseconds (a QPU read costs about 100 µs of QPU time whatever its size).
MOCK_SWEEPS = 200
# Advantage (Pegasus P16) and Advantage2 (Zephyr Z12, 4 qubits per tile side) graphs.
TOPOLOGIES = {"pegasus": [16], "zephyr": [12, 4]}


class OfflineQPUSampler(MockDWaveSampler):
    """A mock QPU: the full graph of ``topology_type`` ("pegasus": Advantage P16, "zephyr": Advantage2 Z12 by
    default), seeded simulated annealing of ``num_sweeps`` sweeps per read, and Advantage timing data.

    Examples
    --------
    >>> sampler = OfflineQPUSampler("pegasus", [4])
    >>> len(sampler.nodelist), "seed" in sampler.parameters
    (264, True)
    """

    def __init__(self, topology_type="pegasus", topology_shape=None, *, num_sweeps=MOCK_SWEEPS):
        if topology_type not in TOPOLOGIES:
            raise QBoostTNError(f"unknown topology {shown(topology_type)}; use one of {sorted(TOPOLOGIES)}")
        shape = list(TOPOLOGIES[topology_type] if topology_shape is None else topology_shape)
        super().__init__(topology_type=topology_type, topology_shape=shape,
                         substitute_sampler=SimulatedAnnealingSampler(),
                         substitute_kwargs={"num_sweeps": int(num_sweeps)}, exact_solver_cutoff=0,
                         properties={"problem_timing_data": qpu_problem_timing_data("advantage"),
                                     "chip_id": f"OfflineQPUSampler-{topology_type}"})
        self.parameters = dict(self.parameters, seed=[])
        self.mocked_parameters = {*self.mocked_parameters, "seed"}


@functools.cache
def mock_sampler(topology_type: str):
    """The one full-size mock of ``topology_type`` per process (building the P16 graph takes 0.3 s)."""
    return OfflineQPUSampler(topology_type)


@functools.cache
def dwave_sampler():
    """A :class:`~dwave.system.DWaveSampler` from the Ocean configuration (``dwave config create`` or the
    ``DWAVE_API_TOKEN`` environment variable), built once per process; one-line error if there is none."""
    from dwave.cloud.config import load_config

    try:
        config = load_config()
    except Exception as exc:  # a malformed configuration file
        raise QBoostTNError(f"solver 'dwave': the Ocean configuration cannot be read ({_first_line(exc)})") from None
    if not config.get("token"):
        raise QBoostTNError("solver 'dwave': no D-Wave API token found (no Ocean configuration file with a token "
                            "and no DWAVE_API_TOKEN variable); run 'dwave config create' or set DWAVE_API_TOKEN, "
                            "or use 'pegasus-mock' offline")
    from dwave.system import DWaveSampler

    try:
        return DWaveSampler()
    except Exception as exc:  # network, authentication, no QPU solver matching the configuration
        raise QBoostTNError(f"solver 'dwave': no QPU solver reachable with the Ocean configuration "
                            f"({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc, limit=200) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "")[:limit]
