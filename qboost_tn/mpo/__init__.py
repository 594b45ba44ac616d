"""MPO (tensor-train) compression of fully-connected networks in PyTorch.

One path: :func:`tt_svd` factors a matrix into cores (shapes from :mod:`.shapes`), :mod:`.contract` applies
them core by core, :class:`MPOLinear` is the layer, :func:`compress` puts such layers into any model,
:mod:`.train` trains and fine-tunes, :mod:`.entanglement` measures bond entropies and :mod:`.baselines`
compresses the same layers by other means for comparison.

Example
-------
>>> from torch import nn
>>> from qboost_tn.mpo import compress, save_compressed, load_compressed
>>> def build():  # the uncompressed architecture; also the skeleton when loading
...     return nn.Sequential(nn.Linear(62, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1))
>>> small, report = compress(build(), layers=["2"], max_bond=4)
>>> report[["layer", "params_before", "params_after"]].values.tolist()
[['2', 65536, 640]]

Saving: ``save_compressed(small, "m.pt")`` writes the state_dict (``m.pt``) and the MPO layer shapes
(``m.pt.mpo.json``); ``load_compressed(build(), "m.pt")`` puts MPO layers of those shapes into a fresh skeleton
and loads the tensors with ``torch.load(weights_only=True)``. A single layer: ``MPOLinear.from_config(cfg)``
with ``cfg = layer.config()``.
"""
from .baselines import low_rank_layer, make_permanent, prune_layer, quantize_layer
from .compress import compress, load_compressed, mpo_config, restore_mpo_layers, save_compressed
from .contract import mpo_matmul, plan, reconstruct
from .entanglement import (bond_spectra, entanglement_table, entropy, entropy_recorder, plot_entropy_evolution,
                           plot_entropy_profile)
from .handson import run_bank_marketing
from .layer import MPOLinear
from .shapes import factorize, tensorize_shape
from .train import evaluate_model, fine_tune, fit, make_mlp, mpo_network, scores
from .ttsvd import TTResult, tt_svd

__all__ = ["MPOLinear", "TTResult", "bond_spectra", "compress", "entanglement_table", "entropy",
           "entropy_recorder", "evaluate_model", "factorize", "fine_tune", "fit", "load_compressed",
           "low_rank_layer", "make_mlp", "make_permanent", "mpo_config", "mpo_matmul", "mpo_network", "plan",
           "plot_entropy_evolution", "plot_entropy_profile", "prune_layer", "quantize_layer", "reconstruct",
           "restore_mpo_layers", "run_bank_marketing", "save_compressed", "scores", "tensorize_shape", "tt_svd"]
