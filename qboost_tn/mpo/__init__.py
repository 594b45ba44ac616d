"""MPO (tensor-train) compression of networks in PyTorch.

One path: :func:`tt_svd` factors a matrix into cores (shapes from :mod:`.shapes`), :mod:`.contract` applies
them core by core, :class:`MPOLinear` is the layer, :func:`compress` replaces layers of any model through a
registered compression method (``"mpo"`` here; ``"low-rank"``, ``"prune"``, ``"int8"`` in :mod:`.baselines`)
with one report schema, :mod:`.layer_types` names the MPO layer types (:data:`MPO_LAYERS`), :mod:`.train`
builds MPO networks and compresses-then-fine-tunes (generic training and fine-tuning are :mod:`qboost_tn.nets`),
:mod:`.saving` saves and loads without pickle, and :mod:`.entanglement` measures bond entropies.

Example
-------
>>> from torch import nn
>>> from qboost_tn.mpo import compress, save_compressed, load_compressed
>>> def build():  # the uncompressed architecture; also the skeleton when loading
...     return nn.Sequential(nn.Linear(62, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1))
>>> small, report = compress(build(), layers=["2"], max_bond=4)
>>> report[["layer", "params_before", "params_after"]].values.tolist()
[['2', 65536, 640]]
>>> _, same_budget = compress(build(), layers=["2"], method="low-rank", budget=640)
>>> int(same_budget.params_after.iloc[0])
512

Saving: ``save_compressed(small, "m.pt")`` writes the state_dict (``m.pt``) and the compressed layers' shapes
(``m.pt.mpo.json``; every type of :data:`SAVED_LAYERS`: MPO, Tucker, low-rank, pruned);
``load_compressed(build(), "m.pt")`` puts layers of those shapes into a fresh skeleton and loads the tensors
with ``torch.load(weights_only=True)``. A single layer: ``MPOLinear.from_config(cfg)``
with ``cfg = layer.config()``.

A new compression method is one :class:`CompressionMethod` subclass with a handler per module type
(``@Method.handles(nn.Linear)``) and ``register_compression(name, Method)``.
"""
from ..nets import fine_tune  # the one fine-tuning, here too for MPO users (cores only: params=core_parameters)
from .compress import (COMPRESSIONS, REPORT_COLUMNS, Budget, CompressionMethod, MPOCompression, compress,
                       register_compression)
from .baselines import (Int8Compression, LowRankCompression, LowRankLinear, PruneCompression,  # noqa: I001
                        make_permanent)
from .contract import mpo_matmul, plan, reconstruct
from .conv import MPOConv2d, TuckerCompression, TuckerConv2d
from .entanglement import (bond_spectra, entanglement_table, entropy, entropy_recorder, plot_entropy_evolution,
                           plot_entropy_profile)
from .layer import MPOLinear
from .layer_types import MPO_LAYERS, core_parameters, dense_copy
from .saving import SAVED_LAYERS, load_compressed, mpo_config, restore_mpo_layers, save_compressed
from .shapes import factorize, tensorize_shape
from .train import compress_fine_tune, compress_gradually, mpo_network, truncation_steps
from .ttsvd import TTResult, tt_svd

__all__ = ["COMPRESSIONS", "MPO_LAYERS", "REPORT_COLUMNS", "SAVED_LAYERS", "Budget", "CompressionMethod",
           "Int8Compression", "LowRankCompression", "LowRankLinear", "MPOCompression", "MPOConv2d", "MPOLinear",
           "PruneCompression", "TTResult", "TuckerCompression", "TuckerConv2d", "bond_spectra", "compress",
           "compress_fine_tune", "compress_gradually", "core_parameters", "dense_copy", "entanglement_table",
           "entropy", "entropy_recorder", "factorize", "fine_tune", "load_compressed", "make_permanent", "mpo_config",
           "mpo_matmul", "mpo_network", "plan", "plot_entropy_evolution", "plot_entropy_profile", "reconstruct",
           "register_compression", "restore_mpo_layers", "save_compressed", "tensorize_shape", "truncation_steps",
           "tt_svd"]
