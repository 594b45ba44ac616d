"""Training, tuning and scoring of torch classifiers that output logits (one for binary tasks, one per class).

Everything random (batch order, dropout, the initial weights of models built here) draws from a
``torch.Generator`` made from ``seed``; torch's global RNG is never seeded and is left as it was.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import statistics
import time

import numpy as np
import pandas as pd
import torch
from joblib import effective_n_jobs
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..errors import QBoostTNError
from ..eval.metrics import macro_auc as shared_macro_auc
from ._random import as_generator, drawing_from
from .._numeric import check_float32
from .._text import shown

SCHEDULES = (None, "plateau", "cosine")


def _arrays(data):
    if isinstance(data, (tuple, list)):
        if len(data) != 4:
            raise QBoostTNError("fit: data must be (X_train, y_train, X_val, y_val) or have those attributes")
        return data
    return data.X_train, data.y_train, data.X_val, data.y_val


def _tensor(X):
    check_float32(X)  # a float32 copy would hold inf (and warn) instead
    return torch.as_tensor(np.asarray(X, dtype=np.float32))


def _hard_loss(logits, y):
    if logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(logits.reshape(-1), y.float())
    return F.cross_entropy(logits, y.long())


def _soft_loss(logits, teacher, temperature):
    """Hinton et al.'s distillation term: cross-entropy to the teacher's tempered outputs, scaled by T^2 so
    its gradients keep their size as T changes."""
    t = temperature
    if logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(logits / t, torch.sigmoid(teacher / t)) * t * t
    return F.kl_div(F.log_softmax(logits / t, 1), F.softmax(teacher / t, 1), reduction="batchmean") * t * t


@torch.no_grad()
def scores(model, X, batch_size=8192) -> np.ndarray:
    """Model outputs (logits) as numpy: shape (n,) for one output unit, (n, C) otherwise. Eval mode."""
    was_training = model.training
    model.eval()
    X = X if isinstance(X, torch.Tensor) else _tensor(X)
    out = torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    model.train(was_training)
    out = out.numpy()
    return out.reshape(-1) if out.shape[1] == 1 else out


def probabilities(logits) -> np.ndarray:
    """Sigmoid of binary logits (n,) or softmax of multi-class logits (n, C)."""
    t = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    return (torch.sigmoid(t) if t.ndim == 1 else torch.softmax(t, 1)).numpy()


def log_probabilities(logits) -> np.ndarray:
    """What a network's rows rank samples by: binary logits (already log-odds), or the log-softmax of multi-class
    logits, which makes a class's column comparable across samples (adding a constant to one sample's logits
    changes none of its probabilities) without the ties a softmax underflowing to 0 would make."""
    t = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    return (t if t.ndim == 1 else torch.log_softmax(t, 1)).numpy()


def predict_proba(model, X) -> np.ndarray:
    """P(class 1) for binary models (n,), class probabilities (n, C) otherwise."""
    return probabilities(scores(model, X))


def macro_auc(y, logits) -> float:
    """:func:`qboost_tn.eval.macro_auc` of a network's logits, ranked by :func:`log_probabilities` (as
    scikit-learn's ``multi_class="ovr"`` ranks by probability: a sample's raw logits shift together)."""
    value = shared_macro_auc(y, log_probabilities(logits))
    if np.isnan(value):
        raise QBoostTNError("macro_auc: y needs at least two classes")
    return value


def evaluate_model(model, X, y) -> dict:
    """``accuracy`` and ``macro_auc`` (see :func:`macro_auc`) of the model's logits on ``(X, y)``."""
    logits = scores(model, X)
    y = np.asarray(y)
    predicted = (logits > 0).astype(int) if logits.ndim == 1 else logits.argmax(1)
    return {"accuracy": float(np.mean(predicted == y)), "macro_auc": macro_auc(y, logits)}


def fit(model, data, epochs=200, batch_size=128, lr=1e-3, weight_decay=0.0, patience=20, monitor="loss",
        schedule=None, params=None, teacher=None, distill=0.5, temperature=2.0, augment=None, metric=macro_auc,
        seed=0, callbacks=(), progress=True, desc="train") -> pd.DataFrame:
    """Train with AdamW and early stopping on the validation part; the best epoch's weights are restored.

    Parameters
    ----------
    model : nn.Module
        Outputs one logit per sample (binary, BCE loss) or one per class (cross-entropy).
    data : (X_train, y_train, X_val, y_val) or an object with those attributes
    epochs : int
        Upper bound; early stopping usually ends sooner.
    batch_size, lr : int, float
    weight_decay : float, default 0
        AdamW's decoupled weight decay.
    patience : int or None, default 20
        Stop after this many epochs without improving the monitored quantity; None trains all epochs. Either
        way the weights of the best epoch are restored (a deep copy taken at that epoch).
    monitor : {"loss", "metric"}, default "loss"
        Early stopping on the validation loss (lower is better) or on ``metric`` (higher is better).
    schedule : {None, "plateau", "cosine"}
        Learning-rate schedule: constant; halved after ``patience // 4`` epochs without a lower validation
        loss; cosine decay to 0 over ``epochs``.
    params : iterable of Parameter or callable ``model -> iterable``, optional
        Train only these; the others are frozen for the run (e.g. MPO cores only). A callable is asked with
        the model, which is what :func:`tune` needs, as it trains fresh copies.
    teacher : nn.Module, optional
        Distil from this model's logits on the training inputs: the loss is
        ``(1 - distill) * hard + distill * T^2 * soft`` (Hinton et al., 2015), ``T = temperature``.
    augment : callable ``(X_batch, generator) -> X_batch``, optional
        Applied to every training batch (never to validation), e.g. :class:`~qboost_tn.nets.RandomShift`;
        a teacher then scores the augmented batch, so the soft targets match what the student sees.
    metric : callable ``(y, logits) -> float``, default :func:`macro_auc`
        Recorded every epoch as ``val_<name>``.
    seed : int or torch.Generator
        Batch order and dropout draw from it.
    callbacks : sequence of callable ``(epoch, model) -> dict``
        Called after every epoch; their values become history columns.

    Returns
    -------
    DataFrame
        One row per epoch: ``epoch, lr, train_loss, val_loss, val_<metric>`` (+ callback columns);
        ``attrs["best_epoch"]`` is the restored epoch, ``attrs["epochs"]`` the number run.
    """
    if monitor not in ("loss", "metric"):
        raise QBoostTNError(f"fit: monitor must be 'loss' or 'metric', got {shown(monitor)}")
    if schedule not in SCHEDULES:
        raise QBoostTNError(f"fit: schedule must be one of {SCHEDULES}, got {shown(schedule)}")
    if not 0.0 <= distill <= 1.0 or temperature <= 0:
        raise QBoostTNError(f"fit: need 0 <= distill <= 1 and temperature > 0, got {distill}, {temperature}")
    X_tr, y_tr, X_va, y_va = _arrays(data)
    if len(X_va) == 0:
        raise QBoostTNError("fit: early stopping needs a non-empty validation set")
    X_tr, y_tr = _tensor(X_tr), torch.as_tensor(np.asarray(y_tr))
    X_va_t, y_va_t, y_va = _tensor(X_va), torch.as_tensor(np.asarray(y_va)), np.asarray(y_va)
    if augment is not None and not callable(augment):
        raise QBoostTNError(f"fit: augment must be a callable (X_batch, generator) -> X_batch, got {shown(augment)}")
    def teacher_logits(X):
        return torch.as_tensor(scores(teacher, X)).reshape(len(X), -1)

    # without augmentation the teacher's outputs are fixed, so the training set is scored once
    soft = None if teacher is None or augment is not None else teacher_logits(X_tr)
    chosen = list(model.parameters() if params is None else params(model) if callable(params) else params)
    if not chosen:
        raise QBoostTNError("fit: no parameters to train")
    chosen_ids = {id(p) for p in chosen}
    frozen = [p for p in model.parameters() if id(p) not in chosen_ids and p.requires_grad]
    optimizer = torch.optim.AdamW(chosen, lr=lr, weight_decay=weight_decay)
    scheduler = {None: None,
                 "plateau": lambda: torch.optim.lr_scheduler.ReduceLROnPlateau(
                     optimizer, factor=0.5, patience=max(1, (patience or epochs) // 4)),
                 "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)}[schedule]
    scheduler = scheduler() if scheduler else None
    metric_name = f"val_{getattr(metric, '__name__', 'metric')}"
    generator = as_generator(seed)
    best, best_epoch, best_state, waited = -np.inf, 0, copy.deepcopy(model.state_dict()), 0
    rows = []
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False)
    for p in frozen:
        p.requires_grad_(False)
    try:
        with drawing_from(generator):  # dropout draws from the generator too
            for epoch in bar:
                model.train()
                order = torch.randperm(len(X_tr), generator=generator)
                total, current_lr = 0.0, optimizer.param_groups[0]["lr"]
                for start in range(0, len(order), batch_size):
                    idx = order[start:start + batch_size]
                    batch = X_tr[idx] if augment is None else augment(X_tr[idx], generator)
                    optimizer.zero_grad(set_to_none=True)
                    out = model(batch)
                    loss = _hard_loss(out, y_tr[idx])
                    if teacher is not None:
                        target = soft[idx] if soft is not None else teacher_logits(batch)
                        loss = (1 - distill) * loss + distill * _soft_loss(out.reshape(len(idx), -1), target,
                                                                           temperature)
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * len(idx)
                logits = scores(model, X_va_t)
                val_loss = float(_hard_loss(torch.as_tensor(logits).reshape(len(logits), -1), y_va_t))
                if not np.isfinite(val_loss):
                    raise QBoostTNError(f"fit: validation loss became {val_loss} at epoch {epoch}; lower the lr")
                row = {"epoch": epoch, "lr": current_lr, "train_loss": total / len(X_tr), "val_loss": val_loss,
                       metric_name: metric(y_va, logits)}
                for callback in callbacks:
                    row.update(callback(epoch, model))
                rows.append(row)
                bar.set_postfix(val_loss=f"{val_loss:.4f}", val=f"{row[metric_name]:.4f}")
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(val_loss)
                elif scheduler is not None:
                    scheduler.step()
                value = -val_loss if monitor == "loss" else row[metric_name]
                if value > best:
                    best, best_epoch, waited = value, epoch, 0
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
    history.attrs.update(best_epoch=best_epoch, epochs=len(rows), monitor=monitor, metric=metric_name)
    return history


def fine_tune(model, data, params=None, **fit_args) -> pd.DataFrame:
    """:func:`fit` an already trained (e.g. compressed) model further, under the same stopping rule."""
    return fit(model, data, params=params, **{"desc": "fine-tune", **fit_args})


_FIT_KEYS = set(inspect.signature(fit).parameters) - {"model", "data"}


def best_of(history) -> dict:
    """The restored epoch's figures: ``epochs``, ``best_epoch``, ``val_loss`` and the validation metric."""
    best = history.attrs["best_epoch"]
    row = history.iloc[best - 1]
    return {"epochs": int(history.attrs["epochs"]), "best_epoch": int(best), "val_loss": float(row["val_loss"]),
            history.attrs["metric"]: float(row[history.attrs["metric"]])}


def tune(build, data, grid, seed=0, **fit_args):
    """Train ``build(**build_args)`` for every combination of ``grid`` and keep the best on validation.

    Parameters
    ----------
    build : callable
        Returns a fresh model. It receives the grid's keys that are not :func:`fit` arguments (e.g.
        ``dropout``) plus ``seed``; the others (``lr``, ``weight_decay``, ...) go to :func:`fit`.
    data : as for :func:`fit`
    grid : dict of name -> list of values
        Every combination is tried with the same seed, so they differ only in the setting.
    fit_args : passed to every :func:`fit`.

    Returns
    -------
    model, history, info
        The best model (restored to its best epoch), its history, and ``info``: the chosen setting and
        :func:`best_of` its history. The criterion is the one ``fit`` monitors (``monitor``).
    """
    keys = list(grid)
    best = None
    for combo in itertools.product(*(list(grid[k]) for k in keys)):
        setting = dict(zip(keys, combo))
        model = build(**{k: v for k, v in setting.items() if k not in _FIT_KEYS}, seed=seed)
        history = fit(model, data, seed=seed, **{**fit_args, **{k: v for k, v in setting.items() if k in _FIT_KEYS}})
        summary = best_of(history)
        value = (-summary["val_loss"] if fit_args.get("monitor", "loss") == "loss"
                 else summary[history.attrs["metric"]])
        if best is None or value > best[0]:
            best = (value, model, history, {**setting, **summary})
    return best[1], best[2], best[3]


@contextlib.contextmanager
def torch_threads(n_jobs):
    """Run the block with ``n_jobs`` torch intra-op threads (joblib's convention: -1 every core, -2 all but
    one), restoring the caller's setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(effective_n_jobs(n_jobs))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@torch.no_grad()
def latency_ms(model, X, repeats=21, warmup=3, threads=1) -> float:
    """Median wall time (ms) of one forward pass over the batch ``X`` on ``threads`` torch threads.

    ``warmup`` untimed calls first (allocator, lazy init, merged-core caches), then the median of ``repeats``
    timed calls: one slow call on a shared machine moves the median little, where it would move a mean or a
    single timing by the full stall.
    """
    was_training = model.training
    model.eval()
    X = X if isinstance(X, torch.Tensor) else _tensor(X)
    times = []
    with torch_threads(threads):
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(X)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    model.train(was_training)
    return 1e3 * statistics.median(times)
