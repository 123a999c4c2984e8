"""Exact linear algebra for the repair step (integers and Fractions, no floats).

* :func:`solve_exact`: fraction-free Gaussian elimination (Bareiss) on a
  square rational system, then exact back substitution.
* :func:`pivot_columns`: well-conditioned columns of a float matrix (QR with
  column pivoting) to solve on.
* :func:`local_jacobian`: for an encoder whose body is exact and
  piecewise-linear around ``x``, the exact matrix ``J_S`` with
  ``pre(x') = pre(x) + J_S (x'_S - x_S)`` for ``x'`` near ``x`` that differs
  from ``x`` only on the columns ``S``.
* :func:`exact_repair`: move ``x`` on ``S`` so that every latent
  pre-activation equals a rational target exactly (Newton steps in exact
  arithmetic; one step suffices for one-layer encoders).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

import numpy as np

from theorems.encoder import Encoder, exact_affine

__all__ = ["solve_exact", "pivot_columns", "local_jacobian", "exact_repair"]


def _row_to_ints(row: Sequence[Fraction]) -> list[int]:
    den = 1
    for v in row:
        den = den * v.denominator // math.gcd(den, v.denominator)
    return [v.numerator * (den // v.denominator) for v in row]


def solve_exact(A: Sequence[Sequence[Fraction]], rhs: Sequence[Fraction]) -> list[Fraction] | None:
    """Solve the square system ``A y = rhs`` exactly; ``None`` when ``A`` is singular.

    Example:
        >>> from fractions import Fraction as F
        >>> solve_exact([[F(2), F(1)], [F(1), F(3)]], [F(3), F(5)])
        [Fraction(4, 5), Fraction(7, 5)]
    """
    n = len(A)
    M = [_row_to_ints([Fraction(a) for a in row] + [Fraction(r)]) for row, r in zip(A, rhs)]
    prev = 1
    for k in range(n):
        piv = next((r for r in range(k, n) if M[r][k] != 0), None)
        if piv is None:
            return None
        if piv != k:
            M[k], M[piv] = M[piv], M[k]
        Mk = M[k]
        pk = Mk[k]
        for i in range(k + 1, n):
            Mi = M[i]
            mik = Mi[k]
            if mik == 0:
                if prev != 1:
                    M[i] = Mi[:k + 1] + [(pk * a) // prev for a in Mi[k + 1:]]
                else:
                    M[i] = Mi[:k + 1] + [pk * a for a in Mi[k + 1:]]
                continue
            M[i] = [0] * (k + 1) + [(pk * a - mik * c) // prev for a, c in zip(Mi[k + 1:], Mk[k + 1:])]
        prev = pk
    y: list[Fraction] = [Fraction(0)] * n
    for i in range(n - 1, -1, -1):
        acc = Fraction(M[i][n])
        for j in range(i + 1, n):
            if M[i][j]:
                acc -= M[i][j] * y[j]
        y[i] = acc / M[i][i]
    return y


def pivot_columns(J: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int] | None:
    """``k`` columns of ``J`` (restricted to ``allowed``) chosen by QR with column pivoting.

    Returns ``None`` when those columns are numerically rank-deficient.
    """
    from scipy.linalg import qr

    cols = np.arange(J.shape[1]) if allowed is None else np.asarray(allowed)
    if len(cols) < k:
        return None
    sub = np.asarray(J, dtype=np.float64)[:, cols]
    _, R, piv = qr(sub, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    if diag.size < k or diag[k - 1] <= 1e-10 * max(diag[0], 1e-300):
        return None
    return sorted(int(c) for c in cols[piv[:k]])


def _int_matrix(M: np.ndarray) -> tuple[np.ndarray, int]:
    """Object array of Python ints ``K`` and exponent ``e`` with ``M == K * 2**e`` exactly."""
    M = np.asarray(M, dtype=np.float64)
    mant, expo = np.frexp(M)
    nz = M != 0
    e_min = int(expo[nz].min()) if nz.any() else 0
    ints = (mant * (1 << 53)).astype(np.int64)
    out = np.empty(M.shape, dtype=object)
    flat_i, flat_e = ints.ravel().tolist(), expo.ravel().tolist()
    out.ravel()[:] = [int(k) << int(e - e_min) if k else 0 for k, e in zip(flat_i, flat_e)]
    return out, e_min - 53


def _slope(act, p: Fraction) -> Fraction:
    """The slope of a piecewise-linear activation at ``p`` (right-hand at a kink)."""
    eps = Fraction(1, 1 << 40) * max(Fraction(1), abs(p))
    return (act.exact(p + eps) - act.exact(p)) / eps


def local_jacobian(encoder: Encoder, x: Sequence[Fraction], S: Sequence[int]) -> tuple[list[list[Fraction]], list[Fraction]]:
    """Exact ``J_S`` (``m x |S|``) and latent pre-activations ``pre(x)`` for an exact body.

    ``J_S = W_L D_{L-1} W_{L-1} ... D_1 W_1[:, S]`` with ``D_i`` the exact
    slopes of the hidden activations at ``x`` (piecewise-linear bodies).
    """
    xs = [Fraction(v) for v in x]
    S = list(S)
    # Forward pass in exact arithmetic, recording slopes.
    h = xs
    slopes: list[list[Fraction]] = []
    for layer in encoder.layers[:-1]:
        pre = exact_affine(layer.W, layer.b, h)
        slopes.append([_slope(layer.activation, p) for p in pre])
        h = [layer.activation.exact(p) for p in pre]
    last = encoder.layers[-1]
    pre_L = exact_affine(last.W, last.b, h)
    # Jacobian: right to left, as integers K * 2**e / den.
    K, e = _int_matrix(encoder.layers[0].W[:, S])
    den = 1
    for layer, sl in zip(encoder.layers[1:], slopes):
        d = 1
        for s in sl:
            d = d * s.denominator // math.gcd(d, s.denominator)
        scale = np.array([s.numerator * (d // s.denominator) for s in sl], dtype=object)
        K = K * scale[:, None]
        den *= d
        Wi, ei = _int_matrix(layer.W)
        K = Wi.dot(K)
        e += ei
    factor = Fraction(2) ** e / den
    J = [[Fraction(int(v)) * factor for v in row] for row in K.tolist()]
    return J, pre_L


def exact_repair(encoder: Encoder, x: Sequence[Fraction], S: Sequence[int], target: Fraction,
                 iterations: int = 3) -> list[Fraction] | None:
    """Move ``x`` on the columns ``S`` until every latent pre-activation equals ``target`` exactly.

    Exact Newton steps on the local affine model (exact for a one-layer
    encoder after one step; for piecewise-linear bodies exact once the
    activation pattern stops changing). ``None`` when ``J_S`` is singular or
    the steps do not land on the target.
    """
    cur = [Fraction(v) for v in x]
    S = list(S)
    for _ in range(iterations):
        J, pre = local_jacobian(encoder, cur, S)
        resid = [target - p for p in pre]
        if all(r == 0 for r in resid):
            return cur
        delta = solve_exact(J, resid)
        if delta is None:
            return None
        for j, d in zip(S, delta):
            cur[j] += d
    pre = encoder.exact_pre_activations(cur)
    return cur if all(p == target for p in pre) else None
