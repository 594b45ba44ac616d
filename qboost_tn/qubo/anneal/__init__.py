"""The project's annealers of layered Ising problems, below the solver registry that names them.

``kernels`` holds the compiled sweeps; ``layered`` anneals the layer sums of dense problems, ``factored`` those of
problems kept as ``Q = F Fᵀ + d``; ``dense`` is a plain spin-flip dimod sampler on the same kernel; ``common`` and
``schedule`` are what they share (start, rounding, seeds, β range). Nothing here imports
:mod:`qboost_tn.qubo.solvers`: the registry imports these on first use.
"""
