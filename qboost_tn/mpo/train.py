"""Training of dense and MPO networks: early stopping that restores the best weights, fine-tuning, scoring."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..eval import evaluate
from .compress import replace_module, resolve_layers
from .layer import MPOLinear


def make_mlp(n_features, hidden=(256, 256), n_outputs=1, seed=0) -> nn.Sequential:
    """ReLU MLP ``n_features - hidden... - n_outputs`` with outputs as logits (the hands-on's 62-256-256-1).

    Linear layers are named ``"0", "2", "4", ...`` (the ReLUs sit between them).
    """
    torch.manual_seed(seed)
    sizes = [int(n_features), *map(int, hidden), int(n_outputs)]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mpo_network(model, layers=None, bond=8, n_cores=4, pattern="balanced", shapes=None, seed=0):
    """A copy of ``model`` whose named ``nn.Linear`` layers are randomly initialised :class:`MPOLinear`.

    For training MPO networks from scratch; initialisation keeps ``nn.Linear``'s weight variance.
    ``shapes`` maps layer names to explicit ``(in_modes, out_modes)`` as in :func:`compress`.
    """
    names = resolve_layers(model, layers)
    shapes = dict(shapes or {})
    unknown = sorted(set(shapes) - set(names))
    if unknown:
        raise ValueError(f"shapes given for {unknown}, which are not among the layers replaced ({names})")
    model = copy.deepcopy(model)
    torch.manual_seed(seed)
    for name in names:
        linear = model.get_submodule(name)
        ins, outs = shapes.get(name, (None, None))
        replace_module(model, name, MPOLinear(linear.in_features, linear.out_features, max_bond=bond, n_cores=n_cores,
                                              in_modes=ins, out_modes=outs, pattern=pattern,
                                              bias=linear.bias is not None))
    return model


def _arrays(data):
    if isinstance(data, (tuple, list)):
        if len(data) != 4:
            raise ValueError("fit: data must be (X_train, y_train, X_val, y_val) or have those attributes")
        return data
    return data.X_train, data.y_train, data.X_val, data.y_val


def _loss_fn(n_outputs):
    if n_outputs == 1:
        bce = nn.BCEWithLogitsLoss()
        return lambda out, y: bce(out.reshape(-1), y.float())
    return nn.CrossEntropyLoss()


@torch.no_grad()
def scores(model, X, batch_size=8192) -> np.ndarray:
    """Model outputs (logits) as numpy: shape (n,) for one output unit, (n, C) otherwise. Eval mode."""
    was_training = model.training
    model.eval()
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    out = torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    model.train(was_training)
    out = out.numpy()
    return out.reshape(-1) if out.shape[1] == 1 else out


def evaluate_model(model, X, y, class_names=None):
    """:func:`qboost_tn.eval.evaluate` on the model's logits, with sigmoid/softmax probabilities."""
    logits = scores(model, X)
    proba = torch.sigmoid(torch.as_tensor(logits)) if logits.ndim == 1 else torch.softmax(torch.as_tensor(logits), 1)
    return evaluate(y, logits, class_names=class_names, proba=proba.numpy())


def fit(model, data, epochs=200, batch_size=128, lr=1e-4, patience=20, params=None, seed=0, progress=True,
        callbacks=(), desc="train") -> pd.DataFrame:
    """Train with Adam and early stopping on the validation loss; the best weights are restored.

    Parameters
    ----------
    model : nn.Module
        Outputs one logit per sample (binary, BCE loss) or one per class (cross-entropy).
    data : Prepared or (X_train, y_train, X_val, y_val)
        E.g. ``qboost_tn.data.prepare(...)``.
    epochs, batch_size, lr : training schedule (the hands-on: 200, 128, 1e-4).
    patience : int or None, default 20
        Stop after this many epochs without a lower validation loss; None trains all epochs. Either way the
        weights of the best epoch are restored (from a deep copy taken at that epoch, not a reference to the
        live tensors, which the optimizer would keep changing).
    params : iterable of Parameter, optional
        Train only these; the others are frozen for the run (e.g. MPO cores only).
    seed : int
        Seeds the batch order.
    callbacks : sequence of callable ``(epoch, model) -> dict``
        Called after every epoch; their values become history columns (e.g. :func:`entropy_recorder`).

    Returns
    -------
    DataFrame
        One row per epoch: ``epoch, train_loss, val_loss, val_auc`` (+ callback columns);
        ``attrs["best_epoch"]`` is the restored epoch.
    """
    X_tr, y_tr, X_va, y_va = _arrays(data)
    X_tr = torch.as_tensor(np.asarray(X_tr, dtype=np.float32))
    y_tr = torch.as_tensor(np.asarray(y_tr))
    X_va_t = torch.as_tensor(np.asarray(X_va, dtype=np.float32))
    y_va_t = torch.as_tensor(np.asarray(y_va))
    if len(X_va) == 0:
        raise ValueError("fit: early stopping needs a non-empty validation set")
    with torch.no_grad():
        n_outputs = model(X_tr[:1]).shape[-1]
    loss_fn = _loss_fn(n_outputs)
    chosen = list(model.parameters()) if params is None else list(params)
    if not chosen:
        raise ValueError("fit: no parameters to train")
    chosen_ids = {id(p) for p in chosen}
    frozen = [p for p in model.parameters() if id(p) not in chosen_ids and p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    optimizer = torch.optim.Adam(chosen, lr=lr)
    generator = torch.Generator().manual_seed(seed)
    best_loss, best_epoch, best_state, waited = float("inf"), 0, copy.deepcopy(model.state_dict()), 0
    rows = []
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False)
    try:
        for epoch in bar:
            model.train()
            order = torch.randperm(len(X_tr), generator=generator)
            total = 0.0
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X_tr[idx]), y_tr[idx])
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
            logits = torch.as_tensor(scores(model, X_va_t))
            val_loss = float(loss_fn(logits.reshape(len(logits), -1), y_va_t))
            if not np.isfinite(val_loss):
                raise RuntimeError(f"fit: validation loss became {val_loss} at epoch {epoch}; lower the lr")
            row = {"epoch": epoch, "train_loss": total / len(X_tr), "val_loss": val_loss,
                   "val_auc": evaluate(y_va, logits.numpy()).summary["macro_auc"]}
            for callback in callbacks:
                row.update(callback(epoch, model))
            rows.append(row)
            bar.set_postfix(val_loss=f"{val_loss:.4f}", val_auc=f"{row['val_auc']:.4f}")
            if val_loss < best_loss:
                best_loss, best_epoch, waited = val_loss, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
    finally:
        for p in frozen:
            p.requires_grad_(True)
        bar.close()
    model.load_state_dict(best_state)
    model.eval()
    history = pd.DataFrame(rows)
    history.attrs["best_epoch"] = best_epoch
    return history


def core_parameters(model) -> list:
    """The cores of every :class:`MPOLinear` in ``model`` (for fine-tuning the cores only)."""
    return [p for m in model.modules() if isinstance(m, MPOLinear) for p in m.cores]


def fine_tune(model, data, cores_only=False, **fit_args) -> pd.DataFrame:
    """:func:`fit` a compressed model further: all parameters, or only the MPO cores (biases and the
    uncompressed layers frozen)."""
    params = core_parameters(model) if cores_only else None
    if cores_only and not params:
        raise ValueError("fine_tune: cores_only=True but the model has no MPOLinear layer")
    return fit(model, data, params=params, **{"desc": "fine-tune", **fit_args})
