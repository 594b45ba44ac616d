"""MPO (tensor-train) compression of fully-connected networks in PyTorch.

One path: :func:`tt_svd` factors a matrix into cores (shapes from :mod:`.shapes`), :mod:`.contract` applies
them core by core, :class:`MPOLinear` is the layer, :func:`compress` puts such layers into any model,
:mod:`.train` trains and fine-tunes, :mod:`.entanglement` measures bond entropies and :mod:`.baselines`
compresses the same layers by other means for comparison.
"""
from .compress import compress, load_compressed, mpo_config, restore_mpo_layers, save_compressed
from .contract import mpo_matmul, plan, reconstruct
from .layer import MPOLinear
from .shapes import factorize, tensorize_shape
from .ttsvd import TTResult, tt_svd

__all__ = ["MPOLinear", "TTResult", "compress", "factorize", "load_compressed", "mpo_config", "mpo_matmul", "plan",
           "reconstruct", "restore_mpo_layers", "save_compressed", "tensorize_shape", "tt_svd"]
