"""The two ways to train an MPS classifier, both minimising softmax cross-entropy on the normalised scores.

- :func:`train_gradient`: all cores at a fixed bond size, mini-batch Adam through the whole chain (autograd),
  the environments renormalised at every site (:mod:`.core`), so 196 sites neither under- nor overflow.
- :func:`train_sweep`: Stoudenmire & Schwab's two-site sweeps. The label core and its neighbour are merged into
  one bond tensor, which takes gradient steps with everything else frozen (a linear model of the cached
  environments); an SVD then splits it again, truncated to ``max_bond`` or by ``cutoff``, and the label index
  moves one site on. Bond sizes therefore adapt to the data.

Both return a history (one dict per epoch or sweep) and accept ``callback(history_row, cores, label_site)``
returning extra columns (the classifier records bond entropies that way).
"""
from __future__ import annotations

import time

import torch

from .core import label_scores, left_step, normalize, right_step, scores, truncated_svd


def _batches(n, batch_size, generator):
    order = torch.randperm(n, generator=generator)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _row(epoch, loss_sum, correct, n, start, extra):
    return {"epoch": epoch, "loss": loss_sum / n, "train_accuracy": correct / n,
            "seconds": time.perf_counter() - start, **extra}


def _record(history, row, callback, cores, label_site, verbose, step, extra=""):
    """Add the callback's columns (entropies, ...) to one epoch's or sweep's row, keep it, and report it."""
    if callback is not None:
        row.update(callback(row, cores, label_site))
    history.append(row)
    if verbose:
        print(f"{step}: loss {row['loss']:.4f}, train accuracy {row['train_accuracy']:.4f}{extra}, "
              f"{row['seconds']:.1f} s", flush=True)


def _loss(logits, y, weight=None):
    """Cross-entropy, each row weighted by ``weight / mean(weight over all rows)`` when weights are given (so a
    batch's loss keeps the unweighted scale, and an integer weight counts like copies of the row)."""
    if weight is None:
        return torch.nn.functional.cross_entropy(logits, y)
    return (torch.nn.functional.cross_entropy(logits, y, reduction="none") * weight).mean()


def train_gradient(cores, label_site, Phi, y, *, n_epochs, learning_rate, batch_size, generator=None,
                   callback=None, verbose=False, sample_weight=None):
    """Adam on every core at fixed bond sizes, the rate decaying by a cosine to 0; ``cores`` (float tensors)
    are updated in place.

    Parameters
    ----------
    cores : list of Tensor
        As made by :func:`qboost_tn.mps.core.init_cores`; the label core is 4-d.
    label_site : int
    Phi : Tensor (n_samples, n_sites, d)
        Embedded training inputs, same dtype as the cores.
    y : Tensor of int64 (n_samples,)
        Class indices.
    sample_weight : Tensor (n_samples,), optional
        Row weights of the loss (normalised to mean 1).
    """
    weight = None if sample_weight is None else sample_weight / sample_weight.mean()
    params = [torch.nn.Parameter(c) for c in cores]
    optimiser = torch.optim.Adam(params, lr=learning_rate)
    # Cosine decay to zero over all steps: at a constant rate the loss on full MNIST stalls and rises again
    # after about ten epochs; decaying lets the last epochs settle.
    n_steps = n_epochs * -(-len(y) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=n_steps)
    history, start = [], time.perf_counter()
    for epoch in range(1, n_epochs + 1):
        loss_sum, correct = 0.0, 0
        for idx in _batches(len(y), batch_size, generator):
            logits, _ = scores(params, label_site, Phi[idx])
            loss = _loss(logits, y[idx], None if weight is None else weight[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y[idx]).sum())
        with torch.no_grad():
            for core, p in zip(cores, params):
                core.copy_(p)
        _record(history, _row(epoch, loss_sum, correct, len(y), start, {}), callback, cores, label_site,
                verbose, f"epoch {epoch}")
    return history


class _Environments:
    """Normalised left/right environments of every sample at every bond, updated as the label moves.

    ``env[k]`` is the left environment of sites ``< k`` when ``k <= label`` and the right environment of
    sites ``>= k`` otherwise, so the two halves share one list of ``n + 1`` arrays of shape ``(N, chi_k)``.
    """

    def __init__(self, cores, label_site, Phi):
        n_samples, n_sites, _ = Phi.shape
        self.Phi = Phi
        self.env = [None] * (n_sites + 1)
        ones = Phi.new_ones((n_samples, 1))
        zeros = Phi.new_zeros(n_samples)
        self.env[0], self.env[n_sites] = ones, ones
        for k in range(label_site):
            self.env[k + 1], _ = normalize(left_step(self.env[k], cores[k], Phi[:, k]), zeros)
        for k in range(n_sites - 1, label_site, -1):
            self.env[k], _ = normalize(right_step(self.env[k + 1], cores[k], Phi[:, k]), zeros)

    def moved_right(self, j, core):
        """Site ``j`` (now without label) was updated: its left environment ``env[j + 1]``."""
        self.env[j + 1], _ = normalize(left_step(self.env[j], core, self.Phi[:, j]), self.Phi.new_zeros(1))

    def moved_left(self, j, core):
        """Site ``j + 1`` (now without label) was updated: its right environment ``env[j + 1]``."""
        self.env[j + 1], _ = normalize(right_step(self.env[j + 2], core, self.Phi[:, j + 1]),
                                       self.Phi.new_zeros(1))


def _bond_logits(bond, left, phi_j, phi_k, right):
    """Scores of the merged tensor ``(a, d, d, C, b)`` between environments (all rows of the batch)."""
    a, d, _, C, b = bond.shape
    lp = (left[:, :, None] * phi_j[:, None, :]).reshape(-1, a * d)            # (N, a d)
    rp = (phi_k[:, :, None] * right[:, None, :]).reshape(-1, d * b)           # (N, d b)
    t = (lp @ bond.permute(0, 1, 3, 2, 4).reshape(a * d, C * d * b)).reshape(-1, C, d * b)
    return (t * rp[:, None, :]).sum(2)


def _update_bond(bond, envs, j, y, learning_rate, batch_size, local_steps, generator, weight=None):
    """``local_steps`` gradient steps on the merged tensor, each on a fresh random batch."""
    bond = bond.detach().requires_grad_(True)
    n = len(y)
    for _ in range(local_steps):
        idx = torch.randint(n, (min(batch_size, n),), generator=generator) if batch_size < n else slice(None)
        logits = _bond_logits(bond, envs.env[j][idx], envs.Phi[idx, j], envs.Phi[idx, j + 1], envs.env[j + 2][idx])
        loss = _loss(logits, y[idx], None if weight is None else weight[idx])
        grad, = torch.autograd.grad(loss, bond)
        with torch.no_grad():
            bond -= learning_rate * grad
    return bond.detach()


def train_sweep(cores, label_site, Phi, y, *, n_sweeps, learning_rate, batch_size, max_bond, cutoff,
                local_steps=4, generator=None, callback=None, verbose=False, sample_weight=None):
    """Two-site DMRG-style sweeps; ``cores`` (a list) is updated in place, bond sizes may change.

    One sweep moves the label from ``label_site`` to the right end, back to the left end and back to
    ``label_site``: ``2 (n - 1)`` bond updates. Each update takes ``local_steps`` gradient steps on the merged
    bond tensor (batches of ``batch_size`` rows) and splits it by :func:`truncated_svd`.

    Returns the history; each row also has ``max_chi`` and ``truncation_error`` (the largest of the sweep).
    ``sample_weight`` weighs the rows of the loss as in :func:`train_gradient`.
    """
    weight = None if sample_weight is None else sample_weight / sample_weight.mean()
    n_sites = len(cores)
    if n_sites < 2:
        raise ValueError("train_sweep needs at least 2 sites; use train_gradient for a single feature")
    path = ([(j, "right") for j in range(label_site, n_sites - 1)]
            + [(j, "left") for j in range(n_sites - 2, -1, -1)]
            + [(j, "right") for j in range(0, label_site)])
    with torch.no_grad():
        envs = _Environments(cores, label_site, Phi)
    history, start = [], time.perf_counter()
    for sweep in range(1, n_sweeps + 1):
        worst = 0.0
        for j, direction in path:
            A, B = cores[j], cores[j + 1]
            if direction == "right":   # label on j: (a, d, C, m) x (m, d, b)
                bond = torch.einsum("asCm,mtb->astCb", A, B)
            else:                      # label on j + 1: (a, d, m) x (m, d, C, b)
                bond = torch.einsum("asm,mtCb->astCb", A, B)
            bond = _update_bond(bond, envs, j, y, learning_rate, batch_size, local_steps, generator, weight)
            a, d, _, C, b = bond.shape
            with torch.no_grad():
                if direction == "right":   # left-orthonormal A_j, label on j + 1
                    U, S, Vh, err = truncated_svd(bond.reshape(a * d, d * C * b), max_bond, cutoff)
                    cores[j] = U.reshape(a, d, -1).contiguous()
                    cores[j + 1] = (S[:, None] * Vh).reshape(-1, d, C, b).contiguous()
                    envs.moved_right(j, cores[j])
                else:                      # right-orthonormal A_{j+1}, label on j
                    M = bond.permute(0, 1, 3, 2, 4).reshape(a * d * C, d * b)
                    U, S, Vh, err = truncated_svd(M, max_bond, cutoff)
                    cores[j] = (U * S).reshape(a, d, C, -1).contiguous()
                    cores[j + 1] = Vh.reshape(-1, d, b).contiguous()
                    envs.moved_left(j, cores[j + 1])
            worst = max(worst, err / max(float(S.norm()), 1e-300))
        with torch.no_grad():
            logits = _full_logits(cores, label_site, envs)
        loss = float(_loss(logits, y, weight))
        correct = int((logits.argmax(1) == y).sum())
        max_chi = max(c.shape[-1] for c in cores)
        _record(history, _row(sweep, loss * len(y), correct, len(y), start,
                              {"max_chi": max_chi, "truncation_error": worst}),
                callback, cores, label_site, verbose, f"sweep {sweep}", f", max chi {max_chi}")
    return history


def _full_logits(cores, label_site, envs):
    """Training-set scores from the cached environments around the label site (no re-contraction)."""
    return label_scores(envs.env[label_site], cores[label_site], envs.Phi[:, label_site],
                        envs.env[label_site + 1])
