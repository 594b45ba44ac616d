"""Matrix-product-state contraction for classification: feature maps, cores, environments, truncated SVD.

A chain of ``n`` sites holds one core per input feature: ``(chi_left, d, chi_right)``, except the label site,
whose core ``(chi_left, d, n_classes, chi_right)`` also carries the class index. A sample ``x`` is embedded as a
product state of local ``d``-vectors ``phi(x_j)`` and the class scores are the contraction
``f_c(x) = sum A_1[phi(x_1)] ... A_label[phi(x_m)]_c ... A_n[phi(x_n)]``.

Over 196 sites that product of matrices under- or overflows any float, so every contraction step here divides
the running environment vector by its norm and adds the log of that norm to a per-sample ``log_scale``:
``f(x) = exp(log_scale(x)) * scores(x)``. The classifier uses these scores (times :data:`LOGIT_SCALE`) as
logits; they differ from ``f`` by a positive factor per sample, so the predicted class is the same.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .feature_maps import FEATURE_MAPS


# Normalised scores lie in [-|label core|, |label core|]; softmax on them would need the label core to grow
# tenfold before it can be confident, which Adam (steps of ~learning_rate per entry) takes hundreds of steps to
# do. A fixed factor puts confident logits within reach of O(1) cores: in short runs on the 5,000 digits at
# 14x14, 30 (Adam at 1e-3: 0.946 after 8 epochs) beat 10, 100 and no factor.
LOGIT_SCALE = 30.0



def embed(X, feature_map="cos-sin") -> torch.Tensor:
    """Product-state embedding ``(n_samples, n_sites, d)`` of features already scaled to [0, 1]."""
    return FEATURE_MAPS[feature_map](torch.as_tensor(X))


def bond_dims(n_sites: int, d: int, max_bond: int) -> list[int]:
    """Largest useful bond sizes ``chi_0 .. chi_n`` (ends 1): ``min(max_bond, d^k, d^(n-k))``.

    A bond ``k`` sites from an end cannot carry more than ``d^k`` independent values; wider would be waste.
    """
    return [int(min(max_bond, d ** min(k, n_sites - k, 64))) for k in range(n_sites + 1)]


def init_cores(n_sites, d, n_classes, max_bond, label_site, std=1e-2, generator=None, dtype=torch.float32):
    """Near-identity cores: ``A[:, s, :] = I / d`` plus Gaussian noise of scale ``std``.

    The identity keeps the 196-fold product well conditioned at the start (each environment is passed on
    almost unchanged) and the noise breaks the symmetry between classes, as in TorchMPS.
    """
    chis = bond_dims(n_sites, d, max_bond)
    cores = []
    for k in range(n_sites):
        a, b = chis[k], chis[k + 1]
        eye = torch.eye(a, b, dtype=dtype)[:, None, :].expand(a, d, b) / d
        if k == label_site:
            eye = eye[:, :, None, :].expand(a, d, n_classes, b)
        noise = torch.randn(eye.shape, generator=generator, dtype=dtype) * std
        cores.append((eye + noise).contiguous())
    return cores


def left_step(env, core, phi):
    """Absorb one (non-label) site into a left environment: ``(N, a), (a, d, b), (N, d) -> (N, b)``."""
    a, d, b = core.shape
    return ((env @ core.reshape(a, d * b)).reshape(-1, d, b) * phi[:, :, None]).sum(1)


def right_step(env, core, phi):
    """Absorb one (non-label) site into a right environment: ``(N, b), (a, d, b), (N, d) -> (N, a)``."""
    a, d, b = core.shape
    return ((env @ core.permute(2, 0, 1).reshape(b, a * d)).reshape(-1, a, d) * phi[:, None, :]).sum(2)


def normalize(env, log_scale):
    """``env / |env|`` per row, with ``log |env|`` added to ``log_scale``; both returned."""
    norm = torch.linalg.vector_norm(env, dim=1, keepdim=True).clamp_min(torch.finfo(env.dtype).tiny)
    return env / norm, log_scale + norm[:, 0].log()


def left_env(cores, Phi, stop, log_scale=None):
    """Normalised left environment of sites ``0 .. stop-1`` for every sample, and its log-scale."""
    n = Phi.shape[0]
    env = Phi.new_ones((n, 1))
    log_scale = Phi.new_zeros(n) if log_scale is None else log_scale
    for k in range(stop):
        env, log_scale = normalize(left_step(env, cores[k], Phi[:, k]), log_scale)
    return env, log_scale


def right_env(cores, Phi, start, log_scale=None):
    """Normalised right environment of sites ``start .. n-1`` for every sample, and its log-scale."""
    n = Phi.shape[0]
    env = Phi.new_ones((n, 1))
    log_scale = Phi.new_zeros(n) if log_scale is None else log_scale
    for k in range(len(cores) - 1, start - 1, -1):
        env, log_scale = normalize(right_step(env, cores[k], Phi[:, k]), log_scale)
    return env, log_scale


def label_scores(left, core, phi, right):
    """Scores ``(N, C)`` of the label site between environments: ``(N,a), (a,d,C,b), (N,d), (N,b)``."""
    a, d, C, b = core.shape
    t = (left @ core.reshape(a, d * C * b)).reshape(-1, d, C * b)
    t = (t * phi[:, :, None]).sum(1).reshape(-1, C, b)
    return (t * right[:, None, :]).sum(2)


def scores(cores, label_site, Phi):
    """Class scores ``(N, C)`` and per-sample ``log_scale`` with ``f = exp(log_scale) * scores``.

    The scores are the contraction with both environments normalised, times :data:`LOGIT_SCALE`.
    """
    left, log_scale = left_env(cores, Phi, label_site)
    right, log_scale = right_env(cores, Phi, label_site + 1, log_scale)
    s = label_scores(left, cores[label_site], Phi[:, label_site], right)
    return LOGIT_SCALE * s, log_scale - math.log(LOGIT_SCALE)


def dense_tensor(cores, label_site) -> torch.Tensor:
    """The full weight tensor ``(d, ..., d, C)`` the chain represents (tiny chains only: ``d^n`` entries)."""
    out = torch.ones((1, 1), dtype=cores[0].dtype)  # (physical so far, bond)
    for k, core in enumerate(cores):
        if k == label_site:
            a, d, C, b = core.shape
            out = torch.einsum("pa,adcb->pdcb", out, core).reshape(-1, C, b)
            label = out.shape[1]
        else:
            if out.dim() == 3:  # label already absorbed: keep it as a middle index
                out = torch.einsum("pca,adb->pdcb", out, core)
                out = out.reshape(-1, out.shape[2], out.shape[3])
            else:
                out = torch.einsum("pa,adb->pdb", out, core).reshape(-1, core.shape[2])
    d = cores[0].shape[1]
    return out.reshape((d,) * len(cores) + (label,))


def truncated_svd(matrix, max_bond, cutoff=0.0):
    """SVD of ``matrix`` keeping at most ``max_bond`` values and dropping the smallest ones whose squares sum
    to at most ``cutoff`` times the total (ITensor's convention); at least one value is kept.

    Returns ``U, S, Vh, error`` with ``error = |matrix - U diag(S) Vh|_F``, the norm of the discarded values.
    """
    U, S, Vh = torch.linalg.svd(matrix, full_matrices=False)
    power = S ** 2
    # tail[k] = weight of the values from k on; keep the smallest k whose tail is within the cutoff.
    tail = torch.flip(torch.cumsum(torch.flip(power, (0,)), 0), (0,))
    allowed = int((tail > cutoff * power.sum()).sum())
    keep = max(1, min(int(max_bond), allowed))
    error = float(power[keep:].sum().sqrt())
    return U[:, :keep], S[:keep], Vh[:keep], error


def pack_cores(cores) -> tuple[np.ndarray, np.ndarray]:
    """Cores as one flat float64 array plus a ``(n_sites, 4)`` shape table (``chi_l, d, C or 1, chi_r``)."""
    shapes = np.array([c.shape if c.dim() == 4 else (c.shape[0], c.shape[1], 1, c.shape[2]) for c in cores],
                      dtype=np.int64)
    data = np.concatenate([c.detach().to(torch.float64).reshape(-1).numpy() for c in cores])
    return data, shapes


def unpack_cores(data, shapes, label_site) -> list[torch.Tensor]:
    """Inverse of :func:`pack_cores`: float64 tensors, the label core 4-d and the others 3-d."""
    data = torch.as_tensor(np.asarray(data, dtype=np.float64))
    cores, start = [], 0
    for k, (a, d, C, b) in enumerate(np.asarray(shapes).tolist()):
        size = a * d * C * b
        block = data[start:start + size]
        cores.append(block.reshape(a, d, C, b) if k == label_site else block.reshape(a, d, b))
        start += size
    return cores
