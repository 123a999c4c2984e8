"""alpha-CROWN for the latent constraint: the multipliers of the latent rows and the lower-line slopes, optimised.

With ``h_L = 0`` each latent hull row reads ``sigma (a z_Lj + c) <= 0``; a node is
empty when some ``y >= 0`` makes ``sum_r y_r sigma_r (a_r z_Lj_r + c_r)`` positive on
the whole relaxation. :func:`bound_methods.backsub` bounds it for fixed choices;
here the bound ``M(y, alpha)`` (``y`` on the simplex, one ``alpha`` in ``[0, 1]`` per
hidden unit mixing its two lower lines, :func:`bound_methods.lower_line`) is raised
by projected gradient steps (Adam). ``M`` is piecewise bilinear; its gradient for
the current line choices is one reverse pass (hand-written, numpy, float64): the
adjoint of ``G_0`` is the box's minimising ``x``, and each layer passes it up through
``W_k`` and the chosen lines (the envelope theorem gives the ``x`` minimiser's
subgradient; the sum row's multiplier is optimal, so it adds no term).

The result is used only through :func:`bound_methods.certificate_rows` (the rows are
re-checked exactly); a wrong gradient costs strength, never soundness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bound_methods import Relaxation, _x_min, lower_line

__all__ = ["LatentRows", "latent_rows", "margin_and_grad", "optimise"]

#: Gradient steps per node (stopping early once the margin is positive) and Adam's step size.
STEPS = 25
LR = 0.2


@dataclass
class LatentRows:
    """The latent hull rows ``sigma (a z_Lj + c) <= 0``: unit ``j``, ``a``, ``c``, ``sigma`` and the tag for
    :func:`bound_methods.certificate_rows` (``(j, "ge"|"le")``)."""

    j: np.ndarray
    a: np.ndarray
    c: np.ndarray
    sigma: np.ndarray
    tags: list


def latent_rows(P: Any, R: Relaxation) -> LatentRows:
    L = len(P.sizes) - 1
    js, As, Cs, Ss, tags = [], [], [], [], []
    for side, a, c, sg in (("ge", R.al[L], R.cl[L], 1.0), ("le", R.au[L], R.cu[L], -1.0)):
        for j in range(P.sizes[L]):
            if np.isnan(a[j]) or (a[j] == 0.0 and c[j] == 0.0):
                continue
            js.append(j), As.append(a[j]), Cs.append(c[j]), Ss.append(sg), tags.append((j, side))
    return LatentRows(np.asarray(js, int), np.asarray(As, float), np.asarray(Cs, float), np.asarray(Ss, float), tags)


def _lines(R: Relaxation, k: int, G: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept used for each unit given the sign of its coefficient ``G`` (no line: slope 0 and the
    unit's ``h`` bound as intercept)."""
    pos = G > 0
    al, cl = lower_line(R, k, alpha)
    a = np.where(pos, al, R.au[k])
    c = np.where(pos, cl, R.cu[k])
    none = np.isnan(a)
    return np.where(none, 0.0, a), np.where(none, np.where(pos, R.hlo[k], R.hhi[k]), c)


def margin_and_grad(P: Any, R: Relaxation, rows: LatentRows, y: np.ndarray, alphas: list, xlo: np.ndarray,
                    xhi: np.ndarray) -> tuple[float, np.ndarray, list]:
    """``M(y, alpha)`` (a lower bound of the latent combination plus its constant) and its gradient."""
    L = len(P.sizes) - 1
    Lam = np.zeros(P.sizes[L])
    np.add.at(Lam, rows.j, y * rows.sigma * rows.a)
    const = float(np.dot(y, rows.sigma * rows.c))
    Gs, used = [None] * (L + 1), [None] * (L + 1)
    for k in range(L, -1, -1):
        const += float(P.bs[k] @ Lam)
        G = P.Ws[k].T @ Lam
        Gs[k] = G
        if k == 0:
            xb, _ys = _x_min(G[:, None], xlo, xhi, P.binary)
            Gs_ = G - _ys[0]
            xstar = np.where(Gs_ > 0, xlo, xhi)
            M = const + float(xb[0])
            break
        a, c = _lines(R, k - 1, G, alphas[k - 1])
        used[k - 1] = (a, c)
        Lam = G * a
        const += float(np.dot(G, c))
    dG = xstar
    dalpha = []
    for k in range(0, L + 1):
        dLam = P.bs[k] + P.Ws[k] @ dG
        if k == L:
            break
        a, c = used[k]
        G = Gs[k + 1]
        pos = (G > 0) & ~np.isnan(R.al[k])
        dalpha.append(np.where(pos, G * ((R.ab[k] - R.al[k]) * dLam + (R.cb[k] - R.cl[k])), 0.0))
        dG = a * dLam + c
    dy = rows.sigma * (rows.a * dLam[rows.j] + rows.c)
    return M, dy, dalpha


def _simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto ``{y >= 0, sum y = 1}``."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    idx = np.arange(1, len(v) + 1)
    rho = np.nonzero(u - css / idx > 0)[0][-1]
    return np.maximum(v - css[rho] / (rho + 1), 0.0)


def optimise(P: Any, R: Relaxation, xlo: np.ndarray, xhi: np.ndarray, steps: int | None = None,
             y0: np.ndarray | None = None) -> tuple[float, Any]:
    """The best margin found and ``(y, alphas, rows)`` giving it (``-inf, None`` without latent rows)."""
    rows = latent_rows(P, R)
    steps = STEPS if steps is None else steps
    if not len(rows.j):
        return -math.inf, None
    y = _simplex(np.ones(len(rows.j)) if y0 is None else y0)
    alphas = [np.zeros(m) for m in P.sizes[:-1]]
    params = [y] + alphas
    mom = [np.zeros_like(p) for p in params]
    var = [np.zeros_like(p) for p in params]
    best, best_at = -math.inf, None
    for t in range(1, steps + 1):
        M, dy, dal = margin_and_grad(P, R, rows, params[0], params[1:], xlo, xhi)
        if M > best:
            best, best_at = M, (params[0].copy(), [a.copy() for a in params[1:]], rows)
        if M > 0:
            break
        for i, g in enumerate([dy] + dal):
            mom[i] = 0.9 * mom[i] + 0.1 * g
            var[i] = 0.999 * var[i] + 0.001 * g * g
            step = LR * (mom[i] / (1 - 0.9 ** t)) / (np.sqrt(var[i] / (1 - 0.999 ** t)) + 1e-12)
            params[i] = params[i] + step
        params[0] = _simplex(params[0])
        params[1:] = [np.clip(a, 0.0, 1.0) for a in params[1:]]
    return best, best_at
