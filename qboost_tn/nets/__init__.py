"""Generic torch networks: building MLPs, training with early stopping, choosing hyper-parameters on validation,
fine-tuning, scoring and timing. Seeded through ``torch.Generator`` objects, never torch's global seed.

Nothing here knows about data sets or experiments; :mod:`qboost_tn.mpo` builds its MPO networks on it and the
experiments' network adapters train every network row through it.

Example
-------
>>> import numpy as np
>>> from qboost_tn.nets import make_mlp, fit, evaluate_model
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 5)).astype("float32"); y = (X[:, 0] > 0).astype(int)
>>> model = make_mlp(5, hidden=(16,), seed=0)
>>> history = fit(model, (X[:150], y[:150], X[150:], y[150:]), lr=1e-2, epochs=30, progress=False)
>>> evaluate_model(model, X[150:], y[150:])["macro_auc"] > 0.9
True
"""
from ._random import as_generator, drawing_from
from .augment import RandomShift
from .cnn import LENET5_LAYERS, lenet5
from .mlp import make_mlp
from .train import (best_of, evaluate_model, fine_tune, fit, latency_ms, log_probabilities, macro_auc, predict_proba,
                    probabilities,
                    scores, torch_threads, tune)

__all__ = ["as_generator", "best_of", "drawing_from", "evaluate_model", "fine_tune", "fit", "latency_ms",
           "log_probabilities", "macro_auc", "make_mlp", "predict_proba", "probabilities", "scores", "torch_threads", "tune",
           "LENET5_LAYERS", "RandomShift", "lenet5"]
