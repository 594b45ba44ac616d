"""The learner's layered problems on a quantum annealer's graph: :class:`~.embedded.EmbeddedSolver` (clique
embedding or decomposition around the warm start, chains, majority vote), the weight encodings
(:mod:`.encoding`), the QPU access-time estimate (:mod:`.timing`) and the offline mock samplers and the real
``DWaveSampler`` behind the registered names ``"pegasus-mock"``, ``"zephyr-mock"`` and ``"dwave"``
(:mod:`.samplers`). dwave-system and minorminer load on first use.
"""
