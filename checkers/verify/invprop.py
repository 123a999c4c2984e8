"""Intermediate bounds under the latent constraint, INVPROP-style: alpha-CROWN with output multipliers, batched.

The bound of ``s z_kj`` (``s = +1``: lower, ``-1``: upper) over the relaxation *with*
``h_L = 0`` is at least, for any ``y >= 0`` over the latent rows ``sigma (a z_L + c) <= 0``
(:class:`alpha_crown.LatentRows`) and any lower-line mixes ``alpha``, the back-substitution
bound of ``s z_kj + sum_r y_r sigma_r (a_r z_L + c_r)``: the added term is ``<= 0`` on every
zero-mapped input. One column per bound; all the columns of a layer are optimised together
(projected Adam on ``y >= 0`` and ``alpha in [0, 1]``, one ``alpha`` per unit *and column*, as
alpha-CROWN does), with the hand-written reverse pass of :mod:`alpha_crown` extended to
matrices.

These bounds are used only as certificate entries: :func:`rows_for` writes the rows of one
column (latent rows with ``y``, affine rows with the back-substituted coefficients, hull rows
with ``|g|`` split by ``alpha``), and :mod:`tighten` keeps a bound only after
:func:`latentcheck.counterexamples.certificate.implied_bound` derives it from those rows in
exact rationals.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .alpha_crown import LatentRows, latent_rows
from .bound_methods import Relaxation, certificate_rows

__all__ = ["optimise_layer", "rows_for"]

#: Adam steps for one layer's bounds, and the step size.
STEPS = 30
LR = 0.25


def _lines(R: Relaxation, k: int, G: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit and column: slope and intercept used (the mixed lower line where ``G > 0``, the upper one where
    ``G < 0``; units without a line: slope 0 and their ``h`` bound)."""
    pos = G > 0
    al = (1 - alpha) * R.al[k][:, None] + alpha * R.ab[k][:, None]
    cl = (1 - alpha) * R.cl[k][:, None] + alpha * R.cb[k][:, None]
    a = np.where(pos, al, R.au[k][:, None])
    c = np.where(pos, cl, R.cu[k][:, None])
    none = np.isnan(a)
    return np.where(none, 0.0, a), np.where(none, np.where(pos, R.hlo[k][:, None], R.hhi[k][:, None]), c)


def _x_part(P: Any, G: np.ndarray, xlo: np.ndarray, xhi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: ``min over the x box of G . x`` (with the sum row's best multiplier on binary) and the minimiser."""
    ys = np.zeros(G.shape[1])
    if P.binary:
        free = (xlo < xhi)[:, None]
        gmin = np.where(free, G, np.inf).min(axis=0)
        ys = np.maximum(0.0, np.where(np.isfinite(gmin), gmin, 0.0))
    Gs = G - ys[None, :]
    xstar = np.where(Gs > 0, xlo[:, None], xhi[:, None])
    return (Gs * xstar).sum(axis=0) + ys, xstar


def _selector(P: Any, rows: LatentRows) -> np.ndarray:
    """The 0/1 matrix taking latent rows to their units (``Lam = sel @ (Y * sigma a)``)."""
    sel = np.zeros((P.sizes[-1], len(rows.j)))
    sel[rows.j, np.arange(len(rows.j))] = 1.0
    return sel


def bounds_and_grad(P: Any, R: Relaxation, rows: LatentRows, k: int, obj: np.ndarray, Y: np.ndarray, alphas: list,
                    xlo: np.ndarray, xhi: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Per column ``c``: the bound of ``obj[:, c] . z_k + latent combination Y[:, c]``, and its gradients."""
    L = len(P.sizes) - 1
    sel = _selector(P, rows)
    Lam = sel @ (Y * (rows.sigma * rows.a)[:, None])
    const = (rows.sigma * rows.c) @ Y
    Gs, used = [None] * (L + 1), [None] * (L + 1)
    for kk in range(L, -1, -1):
        if kk == k:
            Lam = Lam + obj
        const = const + P.bs[kk] @ Lam
        G = P.Ws[kk].T @ Lam
        Gs[kk] = G
        if kk == 0:
            xb, xstar = _x_part(P, G, xlo, xhi)
            bound = const + xb
            break
        a, c = _lines(R, kk - 1, G, alphas[kk - 1])
        used[kk - 1] = (a, c)
        Lam = G * a
        const = const + (G * c).sum(axis=0)
    dG, dalpha = xstar, []
    for kk in range(0, L + 1):
        dLam = P.bs[kk][:, None] + P.Ws[kk] @ dG
        if kk == L:
            break
        a, c = used[kk]
        G = Gs[kk + 1]
        pos = (G > 0) & ~np.isnan(R.al[kk])[:, None]
        dalpha.append(np.where(pos, G * ((R.ab[kk] - R.al[kk])[:, None] * dLam + (R.cb[kk] - R.cl[kk])[:, None]), 0.0))
        dG = a * dLam + c
    dY = (rows.sigma[:, None] * (rows.a[:, None] * dLam[rows.j] + rows.c[:, None]))
    return bound, dY, dalpha


def optimise_layer(P: Any, R: Relaxation, k: int, units: np.ndarray, xlo: np.ndarray, xhi: np.ndarray,
                   steps: int | None = None, t_end: float = math.inf) -> tuple[np.ndarray, np.ndarray, Any]:
    """Lower and upper bounds of ``z_k`` on ``units`` under ``h_L = 0`` and the parameters giving each (best seen).

    Returns ``(lo, hi, best)``; ``best = (rows, Y, alphas, obj)`` with one column per bound (``lo`` first).
    Stops early at ``t_end`` (``time.perf_counter()``), keeping the best seen.
    """
    steps = STEPS if steps is None else steps
    rows = latent_rows(P, R)
    u = len(units)
    obj = np.zeros((P.sizes[k], 2 * u))
    obj[units, np.arange(u)] = 1.0
    obj[units, u + np.arange(u)] = -1.0
    C = 2 * u
    params = [np.zeros((len(rows.j), C))] + [np.zeros((m, C)) for m in P.sizes[:-1]]
    mom = [np.zeros_like(p) for p in params]
    var = [np.zeros_like(p) for p in params]
    best = np.full(C, -np.inf)
    bestY, bestA = params[0].copy(), [a.copy() for a in params[1:]]
    for t in range(1, steps + 1):
        if t > 1 and time.perf_counter() > t_end:
            break
        b, dY, dal = bounds_and_grad(P, R, rows, k, obj, params[0], params[1:], xlo, xhi)
        better = b > best
        best = np.where(better, b, best)
        bestY[:, better] = params[0][:, better]
        for i, a in enumerate(params[1:]):
            bestA[i][:, better] = a[:, better]
        for i, g in enumerate([dY] + dal):
            mom[i] = 0.9 * mom[i] + 0.1 * g
            var[i] = 0.999 * var[i] + 0.001 * g * g
            params[i] = params[i] + LR * (mom[i] / (1 - 0.9 ** t)) / (np.sqrt(var[i] / (1 - 0.999 ** t)) + 1e-12)
        params[0] = np.maximum(params[0], 0.0)
        params[1:] = [np.clip(a, 0.0, 1.0) for a in params[1:]]
    return best[:u], -best[u:], (rows, bestY, bestA, obj)


def rows_for(P: Any, R: Relaxation, k: int, best: Any, col: int, xlo: np.ndarray, xhi: np.ndarray) -> list:
    """The float certificate rows of column ``col`` of :func:`optimise_layer` (made exact by ``bab._cert_rows``)."""
    rows, Y, alphas, obj = best
    L = len(P.sizes) - 1
    y = Y[:, col]
    latent = [(j, side, float(w)) for (j, side), w in zip(rows.tags, y.tolist()) if w > 0]
    lam = np.zeros(P.sizes[L])
    np.add.at(lam, rows.j, y * rows.sigma * rows.a)
    return certificate_rows(P, R, L, lam, xlo, xhi, latent=latent, alphas=[a[:, col] for a in alphas],
                            inject={k: obj[:, col]})
