"""The learner's layered problems on a quantum annealer's graph: clique embedding, decomposition, chains, QPU time.

A QPU couples each qubit to a few neighbours (Pegasus: 15, Zephyr: 20), and the learner's problems are fully
connected: every logical spin becomes a *chain* of qubits. A clique embedding of an Advantage (Pegasus P16)
holds at most 180 logical spins (3,000 qubits, chains of up to 17), an Advantage2 (Zephyr Z12) 184 (2,392
qubits, chains of up to 13); the digits 8×8 problem with 2 layers (128 spins) fits, the hackathon's 1,600 spins
do not. :class:`EmbeddedSolver` therefore

1. embeds a problem whose spins fit a clique whole (:func:`clique_embedding`, minorminer's ``busclique``,
   cached per graph and size), samples it through dwave-system's ``FixedEmbeddingComposite`` and keeps the best
   read if it beats the warm start (the layer sums nearest the continuous minimiser, as the default
   annealer's first read);
2. then refines by decomposition, which is also all a larger problem gets: rank the features by the cheapest
   change of their weight ``W_j`` with the rest fixed (:func:`cheapest_moves`, vectorised over all features and
   all values), take the next at most ``subproblem_size`` spins' worth of features not yet visited in this
   round, fold the fixed rest into their fields (the subproblem is again a layered problem, so either weight
   encoding applies), sample it, and keep the best read when the full energy drops; a round visits every
   feature once; stop after a round without gain (or ``max_rounds``). Subproblems default to
   :data:`DEFAULT_SUBPROBLEM_SPINS` logical spins, not the largest clique: short chains sample the fine
   energy differences of these problems far better (measured in the constant's comment).

Why not dwave-hybrid's ``EnergyImpactDecomposer``: it ranks single *spin* flips of a dimod BQM in Python over
its adjacency (the 1,600-spin problem has 1.3 million couplers, rebuilt every round as the state moves), and
would split the L interchangeable spins of one weight between the subproblem and the fixed part; ranking whole
weights on the layered form costs two O(P²) products per subproblem and keeps every subproblem layered.

Chains: strength from the (sub)problem's own scale, dwave-system's ``uniform_torque_compensation`` unless
``chain_strength`` is given; chains broken at read-out resolved by majority vote; the broken fraction is
recorded. Energies are recomputed from the problem, never taken from the sampler. QPU access time is
estimated per call from the sampler's ``problem_timing_data`` (:mod:`qboost_tn.qubo.qpu.timing`).

Every call's facts travel with its SampleSet (``info["qpu_report"]``) and :func:`merge_reports` sums a fit's.
"""
from __future__ import annotations

import hashlib
import math
import threading
from numbers import Integral

import dimod
import numpy as np

from ...errors import QBoostTNError
from ..model import BaseLayeredProblem, FactoredLayeredProblem, LayeredProblem, one_blas_thread
from .timing import estimate_qpu_access_time_s
from ..protocol import LayeredSolver
from .encoding import ENCODINGS, decode_sums, encoded_bqm, spins_per_weight, weight_coefficients
from ..._text import shown

# Reads per sampler call: 100 reads cost about 10 ms of QPU time next to about 15 ms of programming.
DEFAULT_READS = 100
# Default subproblem of the decomposition, in logical spins (capped by the graph's largest clique). On the
# hackathon problems (1,600 spins) with the Pegasus mock, subproblems of 40 spins (chains of at most 5 qubits,
# 2 % of them broken) ended 0.02 % above the default solver's energy, subproblems of 180 (the largest clique,
# chains of 17, 30 % broken) 1 %: short chains sample the subproblem's fine energy differences far better.
DEFAULT_SUBPROBLEM_SPINS = 40
# Rounds (each visiting every feature once) at most; the loop stops earlier after a round without gain.
MAX_ROUNDS = 10
# An accepted subproblem must lower the energy by more than this fraction of |E| (float rounding is not gain).
GAIN_TOLERANCE = 1e-12
# Sampling parameters dwave-cloud-client's timing model takes (others do not change the estimate).
TIMING_PARAMETERS = ("annealing_time", "anneal_schedule", "initial_state", "reinitialize_state",
                     "programming_thermalization", "readout_thermalization", "reduce_intersample_correlation")

_EMBEDDINGS: dict = {}  # (graph digest, size) -> {logical spin: chain}; clique embeddings are deterministic
_LARGEST: dict = {}  # graph digest -> largest clique size
_LOCK = threading.Lock()


def graph_digest(sampler) -> str:
    """A key naming the sampler's working graph (its nodes and edges), for the embedding cache."""
    structure = sampler.structure  # any hashable labels: a QPU's are ints, a custom graph's may be tuples
    return hashlib.sha256(repr((list(structure.nodelist), list(structure.edgelist))).encode()).hexdigest()


def _target_graph(sampler):
    to_graph = getattr(sampler, "to_networkx_graph", None)
    if to_graph is not None:
        return to_graph()
    import networkx as nx  # a dimod.Structured sampler without topology helpers: its node and edge lists

    graph = nx.Graph()
    graph.add_nodes_from(sampler.structure.nodelist)
    graph.add_edges_from(sampler.structure.edgelist)
    return graph


def largest_clique(sampler, digest=None) -> int:
    """The most logical spins a clique embedding of ``sampler``'s graph holds (0 if busclique cannot embed one
    in this graph family), found once per graph by bisection over :func:`clique_embedding`."""
    digest = digest or graph_digest(sampler)
    with _LOCK:
        if digest in _LARGEST:
            return _LARGEST[digest]
    # n logical spins need a coupler between every two chains (n (n - 1) chain ends), and a chain of c qubits of
    # degree <= d offers at most c (d - 2) + 2: so n (n - 1) <= N d + 2 n, n <= √(N d) + 3. Bisecting from N
    # itself would ask busclique for cliques of thousands of spins (gigabytes on Zephyr).
    degree = max(len(neighbours) for neighbours in sampler.adjacency.values()) if sampler.adjacency else 0
    low, high = 0, math.isqrt(len(sampler.structure.nodelist) * degree) + 3  # low embeds, high + 1 does not
    while low < high:
        size = (low + high + 1) // 2
        if clique_embedding(sampler, size, digest):
            low = size
        else:
            high = size - 1
    with _LOCK:
        _LARGEST[digest] = low
    return low


def clique_embedding(sampler, size, digest=None) -> dict:
    """A clique embedding of ``size`` logical spins (labels 0..size-1) in ``sampler``'s graph, or ``{}`` when
    none is found; computed by minorminer's busclique with a fixed seed and cached per (graph, size)."""
    from minorminer import busclique

    key = (digest or graph_digest(sampler), int(size))
    with _LOCK:
        if key in _EMBEDDINGS:
            return _EMBEDDINGS[key]
    try:
        # In memory only: busclique's own cache would write a file per graph into the user's cache folder.
        embedding = busclique.find_clique_embedding(int(size), _target_graph(sampler), seed=0, use_cache=False)
    except Exception:  # busclique supports Chimera/Pegasus/Zephyr graphs; any other graph has no clique here
        embedding = {}
    embedding = {int(v): tuple(chain) for v, chain in embedding.items()}
    with _LOCK:
        _EMBEDDINGS[key] = embedding
    return embedding


def cheapest_moves(Q_diag, fields, h, sums, n_layers) -> np.ndarray:
    """Per feature, the lowest energy change of setting ``W_j`` to another value with the rest fixed.

    ``E`` changes by ``Q_jj (v² − W_j²) + (v − W_j)(2 (QW)_j − 2 Q_jj W_j + h_j)`` when ``W_j`` becomes
    ``v``; evaluated for every feature and every ``v`` on the lattice at once, (P, L + 1) numbers.
    """
    L = int(n_layers)
    values = np.arange(-L, L + 1, 2, dtype=np.float64)[None, :]
    W = sums.astype(np.float64)[:, None]
    slope = 2.0 * fields[:, None] - 2.0 * Q_diag[:, None] * W + h[:, None]
    delta = Q_diag[:, None] * (values**2 - W**2) + (values - W) * slope
    delta[values == W] = np.inf  # staying put is not a move
    return delta.min(axis=1)


def start_sums(problem) -> np.ndarray:
    """The warm start: layer sums nearest the continuous minimiser, or all as near 0 as the lattice allows."""
    from ..anneal.common import lattice_round
    from ..anneal.factored import relaxed_factored_start
    from ..anneal.layered import relaxed_start

    if isinstance(problem, FactoredLayeredProblem):
        start = relaxed_factored_start(problem)
    else:
        with one_blas_thread():
            start = relaxed_start(problem.dense_couplings(), problem.h, problem.n_layers)
    if start.size:
        return start
    # No unique minimiser (Q not positive definite, e.g. QBoost's selection problems): W_j = 0 or, odd L, -1.
    return lattice_round(np.full(problem.n_features, -0.5), problem.n_layers)


def sub_problem(problem, features, sums, fields, energy) -> LayeredProblem:
    """The layered problem over ``features`` with every other weight fixed at ``sums``: its energy at any
    values of those weights is the full problem's energy."""
    rows, cols = np.meshgrid(features, features, indexing="ij")
    Q_sub = problem.couplings(rows, cols)
    W_sub = sums[features].astype(np.float64)
    h_sub = problem.h[features] + 2.0 * (fields[features] - Q_sub @ W_sub)
    offset = energy - (W_sub @ Q_sub @ W_sub + h_sub @ W_sub)
    return LayeredProblem((Q_sub + Q_sub.T) / 2, h_sub, offset, problem.n_layers)


def new_report(*, logical_spins, decomposed) -> dict:
    """The facts of one problem's sampler calls, before the first (``info["qpu_report"]``)."""
    return {"physical_qubits": 0, "max_chain_length": 0, "chains_read": 0, "chains_broken": 0, "sampler_calls": 0,
            "qpu_access_time_s": 0.0, "logical_spins": int(logical_spins), "decomposed": bool(decomposed)}


def merge_reports(reports) -> dict:
    """One fit's report from the per-problem ``info["qpu_report"]`` dicts (None entries are skipped).

    ``physical_qubits`` and ``max_chain_length`` are the largest of any call, ``chain_break_fraction`` is
    broken chains over chains read in all calls, ``sampler_calls`` and ``qpu_access_time_s`` are sums.
    """
    reports = [r for r in reports if r]
    if not reports:
        return {}
    chains = sum(r["chains_read"] for r in reports)
    return {
        "physical_qubits": max(r["physical_qubits"] for r in reports),
        "max_chain_length": max(r["max_chain_length"] for r in reports),
        "chain_break_fraction": sum(r["chains_broken"] for r in reports) / chains if chains else 0.0,
        "sampler_calls": sum(r["sampler_calls"] for r in reports),
        "qpu_access_time_s": float(sum(r["qpu_access_time_s"] for r in reports)),
        "logical_spins": max(r["logical_spins"] for r in reports),
        "decomposed_problems": sum(bool(r["decomposed"]) for r in reports),
    }


def _is_count(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


class EmbeddedSolver(LayeredSolver):
    """Layered problems on any *structured* dimod sampler (a QPU, or dwave-system's ``MockDWaveSampler``).

    See the module text for the method. Registered as ``"pegasus-mock"`` and ``"zephyr-mock"`` (offline mocks
    of Advantage and Advantage2, :mod:`qboost_tn.qubo.qpu.samplers`) and ``"dwave"`` (the QPU of the user's
    Ocean configuration).

    Parameters
    ----------
    sampler : dimod.Sampler and dimod.Structured
    subproblem_size : int, optional
        Most logical spins of a decomposition subproblem; default :data:`DEFAULT_SUBPROBLEM_SPINS` (40) or the
        graph's largest clique if smaller. A problem whose ``K · P`` spins fit the largest clique is first
        sampled whole.
    chain_strength : float or callable, optional
        Passed to ``FixedEmbeddingComposite``; default dwave-system's ``uniform_torque_compensation`` of each
        (sub)problem.
    encoding : {"unary", "binary"}, default="unary"
        How a weight is spelled in spins (:mod:`qboost_tn.qubo.qpu.encoding`): L spins, or
        ⌈log₂(L+1)⌉ spins with coefficients 1, 2, 4, … (fewer qubits, larger couplings).
    max_rounds : int, default=10
        Decomposition rounds at most (each visits every feature once, and the loop stops after a round without
        gain): fewer rounds, fewer calls and less QPU time.
    sampler_params : dict, optional
        Extra keywords for every sampler call (e.g. ``annealing_time``); they enter the QPU time estimate.

    ``num_reads`` (reads per call, default 100) and ``seed`` (passed when the sampler declares it) are the
    budget; ``num_sweeps`` does not apply.

    Examples
    --------
    >>> import numpy as np
    >>> from qboost_tn.qubo.model import LayeredProblem
    >>> from qboost_tn.qubo.qpu.samplers import OfflineQPUSampler
    >>> solver = EmbeddedSolver(OfflineQPUSampler("pegasus", [4]))
    >>> problem = LayeredProblem(np.eye(3), np.array([-3.0, 0.5, 2.0]), 0.0, n_layers=3)
    >>> ss = solver.sample_layered(problem, num_reads=10, num_sweeps=None, seed=0)
    >>> problem.spins_from_sampleset(ss)[0].sum(axis=0)
    array([ 1, -1, -1])
    >>> ss.info["qpu_report"]["max_chain_length"] > 1
    True
    """

    parameters = {"num_reads": [], "seed": []}

    def __init__(self, sampler, *, subproblem_size=None, chain_strength=None, encoding="unary",
                 max_rounds=MAX_ROUNDS, sampler_params=None):
        if not isinstance(sampler, dimod.Sampler) or not isinstance(sampler, dimod.Structured):
            raise QBoostTNError(f"EmbeddedSolver needs a structured dimod sampler (a QPU graph: nodelist and "
                                f"edgelist), got {type(sampler).__name__}; wrap an unstructured sampler with "
                                "DimodLayeredSolver instead")
        if encoding not in ENCODINGS:
            raise QBoostTNError(f"unknown weight encoding {shown(encoding)}; use one of {list(ENCODINGS)}")
        if subproblem_size is not None and not _is_count(subproblem_size):
            raise QBoostTNError("subproblem_size must be a whole number of spins >= 1")
        if not _is_count(max_rounds):
            raise QBoostTNError("max_rounds must be a whole number >= 1")
        self.sampler = sampler
        self.subproblem_size = None if subproblem_size is None else int(subproblem_size)
        self.chain_strength = chain_strength
        self.encoding = encoding
        self.max_rounds = int(max_rounds)
        self.sampler_params = dict(sampler_params or {})
        self._digest = None
        self._composites = {}

    default_budget = (DEFAULT_READS, 1)

    @property
    def properties(self) -> dict:
        return {"sampler": type(self.sampler).__name__, "encoding": self.encoding,
                "subproblem_size": self.subproblem_size}

    def __getstate__(self):
        # Worker processes get the settings and the sampler, not the composites built around it.
        state = dict(self.__dict__)
        state["_composites"] = {}
        return state

    # -- embedding ---------------------------------------------------------------------------------------
    def largest(self) -> int:
        """Most logical spins a clique embedding of the sampler's graph holds (found once per graph)."""
        if self._digest is None:
            self._digest = graph_digest(self.sampler)
        return largest_clique(self.sampler, self._digest)

    def subproblem_spins(self) -> int:
        """Most logical spins of one decomposition subproblem: ``subproblem_size`` (checked against the graph's
        largest clique), by default the smaller of that clique and :data:`DEFAULT_SUBPROBLEM_SPINS`."""
        largest = self.largest()
        if self.subproblem_size is None:
            return min(largest, DEFAULT_SUBPROBLEM_SPINS)
        if self.subproblem_size > largest:
            raise QBoostTNError(f"subproblem_size={self.subproblem_size} spins does not embed in "
                                f"{type(self.sampler).__name__}'s graph: its largest clique embedding holds "
                                f"{largest} spins")
        return self.subproblem_size

    def _composite(self, n_spins):
        """``FixedEmbeddingComposite`` over a clique of ``n_spins`` logical spins, built once per size.

        A subproblem smaller than ``subproblem_size`` (a round's last) takes the first chains of the
        ``subproblem_size`` clique, itself a clique embedding: busclique asked for a small clique of a large
        graph searches long (minutes for 8 spins on Zephyr Z12).
        """
        composite = self._composites.get(n_spins)
        if composite is None:
            from dwave.system import FixedEmbeddingComposite

            if self._digest is None:
                self._digest = graph_digest(self.sampler)
            clique = max(n_spins, self.subproblem_spins())
            embedding = clique_embedding(self.sampler, clique, self._digest)
            if not embedding:
                raise QBoostTNError(f"a subproblem of {clique} spins does not embed in "
                                    f"{type(self.sampler).__name__}'s graph")
            embedding = {v: embedding[v] for v in range(n_spins)}
            composite = self._composites[n_spins] = FixedEmbeddingComposite(self.sampler, embedding)
        return composite

    # -- solving -----------------------------------------------------------------------------------------
    def sample_layered(self, problem, *, num_reads=None, num_sweeps=None, seed=None) -> dimod.SampleSet:
        """One SampleSet row, the best layer sums found, over ``problem.to_bqm()``'s labels (``l * P + j``);
        energy recomputed from the problem; ``info["qpu_report"]`` holds this problem's facts."""
        from ..anneal.layered import layer_spins

        if not isinstance(problem, BaseLayeredProblem):
            raise TypeError(f"{type(self).__name__} solves layered problems (qboost_tn.qubo.model), "
                            f"got {type(problem).__name__}")
        reads = DEFAULT_READS if num_reads is None else int(num_reads)
        K, P = spins_per_weight(problem.n_layers, self.encoding), problem.n_features
        per_call = self.subproblem_spins() // K
        if per_call < 1:
            raise QBoostTNError(f"one weight takes {K} spins in the {self.encoding} encoding; subproblems of "
                                f"{type(self.sampler).__name__} hold {self.subproblem_spins()}")
        whole = K * P <= self.largest()
        report = new_report(logical_spins=K * P if whole else per_call * K, decomposed=not whole)
        seeds = np.random.SeedSequence(seed)
        sums = start_sums(problem)
        if whole:  # the sampler's own answer to the whole problem first, kept if it beats the warm start
            sums = self._improve(problem, np.arange(P), sums, reads, seeds, report)
        sums = self._descend(problem, sums, per_call, reads, seeds, report)
        energy = problem.energy_of_sums(sums)
        samples = layer_spins(sums, problem.n_layers).reshape(1, -1)
        return dimod.SampleSet.from_samples((samples, range(problem.n_variables)), dimod.SPIN,
                                            energy=[float(energy)], info={"qpu_report": report})

    def _descend(self, problem, sums, per_call, reads, seeds, report) -> np.ndarray:
        """Layer sums after rounds of subproblems of ``per_call`` features from ``sums``: each round visits every
        feature once, cheapest moves first; stop after a round without gain or after ``max_rounds``."""
        P, L = problem.n_features, problem.n_layers
        diagonal = problem.diagonal()
        energy = float(problem.energy_of_sums(sums))
        for _ in range(self.max_rounds):
            round_start = energy
            unvisited = np.ones(P, dtype=bool)
            while unvisited.any():
                fields = problem.fields(sums.astype(np.float64))
                cost = cheapest_moves(diagonal, fields, problem.h, sums, L)
                order = np.flatnonzero(unvisited)[np.argsort(cost[unvisited], kind="stable")]
                features = np.sort(order[:per_call])
                unvisited[features] = False
                sums = self._improve(problem, features, sums, reads, seeds, report, fields=fields)
            energy = float(problem.energy_of_sums(sums))
            if not energy < round_start - GAIN_TOLERANCE * max(abs(round_start), 1.0):
                break
        return sums

    def _improve(self, problem, features, sums, reads, seeds, report, fields=None) -> np.ndarray:
        """``sums`` with ``features`` set to the best read of one call on their subproblem, if that read lowers the
        energy (recomputed from the full problem), else unchanged."""
        fields = problem.fields(sums.astype(np.float64)) if fields is None else fields
        energy = float(problem.energy_of_sums(sums))
        sub = sub_problem(problem, features, sums, fields, energy)
        candidates = self.sample_embedded(sub, num_reads=reads, seed=seeds.spawn(1)[0], report=report)
        best = candidates[int(np.argmin(sub.energy_of_sums(candidates)))]
        trial = sums.copy()
        trial[features] = best
        if problem.energy_of_sums(trial) < energy - GAIN_TOLERANCE * max(abs(energy), 1.0):
            return trial
        return sums

    def sample_embedded(self, problem, *, num_reads=DEFAULT_READS, seed=None, report=None) -> np.ndarray:
        """Layer sums (reads, P) of one sampler call on a dense ``problem`` embedded whole as a clique.

        ``seed`` is an int or a :class:`numpy.random.SeedSequence` (passed on when the sampler declares
        ``seed``); ``report`` (a :func:`new_report` dict) gains this call's qubits, chains, broken chains and
        estimated QPU time.
        """
        from dwave.embedding.chain_breaks import majority_vote

        if report is None:
            report = new_report(logical_spins=problem.n_variables, decomposed=False)
        if not isinstance(seed, np.random.SeedSequence):
            seed = np.random.SeedSequence(seed)

        coefficients = weight_coefficients(problem.n_layers, self.encoding)
        bqm = encoded_bqm(problem.Q, problem.h, problem.offset, coefficients)
        composite = self._composite(bqm.num_variables)
        params = dict(self.sampler_params, num_reads=int(num_reads))
        if "seed" in (self.sampler.parameters or {}):
            params["seed"] = int(seed.generate_state(1, np.uint32)[0] >> 1)
        kwargs = {"chain_break_method": majority_vote, "return_embedding": True}
        if self.chain_strength is not None:
            kwargs["chain_strength"] = self.chain_strength
        sampleset = composite.sample(bqm, **params, **kwargs)
        labels = np.asarray(list(sampleset.variables))
        spins = np.asarray(sampleset.record.sample)[:, np.argsort(labels)]
        chains = list(composite.embedding.values())
        occurrences = np.asarray(sampleset.record.num_occurrences)
        qubits = sum(len(chain) for chain in chains)
        report["physical_qubits"] = max(report["physical_qubits"], qubits)
        report["max_chain_length"] = max(report["max_chain_length"], max(len(chain) for chain in chains))
        report["chains_read"] += len(chains) * int(occurrences.sum())
        report["chains_broken"] += float(np.round(sampleset.record.chain_break_fraction * len(chains))
                                         @ occurrences)
        report["sampler_calls"] += 1
        timing = {k: v for k, v in self.sampler_params.items() if k in TIMING_PARAMETERS}
        report["qpu_access_time_s"] += estimate_qpu_access_time_s(self.sampler, qubits, num_reads, **timing)
        return decode_sums(spins, coefficients)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({type(self.sampler).__name__}, subproblem_size={self.subproblem_size!r}, "
                f"encoding={shown(self.encoding)})")

