"""Exact linear algebra for the repair step (integers and Fractions, no floats).

* :func:`solve_int`: an integer system ``A y = c`` solved exactly as ``y = N / d``
  by python-flint (``fmpz_mat.solve``: FLINT's p-adic / fraction-free solvers).
* :func:`solve_exact`: the same for a square rational system (``Fraction`` s).
* :func:`pivot_columns`: well-conditioned columns of a float matrix (QR with
  column pivoting) to solve on.
* :func:`local_jacobian`: for an encoder whose body is exact and
  piecewise-linear around ``x``, the exact matrix ``J_S`` with
  ``pre(x') = pre(x) + J_S (x'_S - x_S)`` for ``x'`` near ``x`` that differs
  from ``x`` only on the columns ``S``.
* :func:`exact_repair`: move ``x`` on ``S`` so that every latent
  pre-activation equals a rational target exactly (Newton steps in exact
  arithmetic; one step suffices for one-layer encoders).

Nothing here needs to be trusted: the pipeline certifies every repaired point
again from scratch (``latentcheck.counterexamples.certify_zero``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ...theorems.encoder import Encoder
from ...counterexamples.fast import QVec, exact_affine_fast, exact_pre_fast
from ...theorems.blas import serial_blas

__all__ = ["solve_exact", "solve_int", "pivot_columns", "local_jacobian", "exact_repair"]


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
    rows = [_row_to_ints([Fraction(a) for a in row] + [Fraction(r)]) for row, r in zip(A, rhs)]
    sol = solve_int([row[:-1] for row in rows], [row[-1] for row in rows])
    if sol is None:
        return None
    N, d = sol
    return [Fraction(v, d) for v in N]


def solve_int(A: Sequence[Sequence[int]], c: Sequence[int]) -> tuple[list[int], int] | None:
    """``(N, d)`` with ``A N = d c`` exactly, ``d > 0`` and ``gcd(N, d) = 1`` (so ``y = N / d``); ``None`` when ``A`` is singular."""
    from flint import fmpz_mat

    n = len(A)
    if n == 0:
        return [], 1
    try:
        X = fmpz_mat([[int(a) for a in row] for row in A]).solve(fmpz_mat([[int(v)] for v in c]))
    except ZeroDivisionError:  # FLINT: singular matrix
        return None
    ys = X.entries()
    d = math.lcm(*(int(y.q) for y in ys))
    return [int(y.p) * (d // int(y.q)) for y in ys], d


def _qr_pick(sub: np.ndarray, k: int, rel: float) -> np.ndarray | None:
    from scipy.linalg import qr


    with serial_blas():
        _, R, piv = qr(sub, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    if diag.size < k or not diag[k - 1] > rel * max(diag[0], 1e-300):
        return None
    return piv[:k]


def pivot_columns(J: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int] | None:
    """``k`` columns of ``J`` (restricted to ``allowed``) chosen by QR with column pivoting.

    A wide ``J`` first tries the ``2k`` columns of largest norm (a pivoted QR of
    ``k x 2k`` instead of ``k x n``) and keeps them when they are well
    conditioned (``|R_kk| > 1e-4 |R_11|``); otherwise the QR runs on every
    allowed column. Returns ``None`` when the columns are numerically
    rank-deficient (``|R_kk| <= 1e-10 |R_11|``).
    """
    cols = np.arange(J.shape[1]) if allowed is None else np.asarray(allowed)
    if len(cols) < k or k < 1:
        return None
    sub = np.asarray(J, dtype=np.float64)[:, cols]
    if len(cols) > 3 * k:
        norms = np.einsum("ij,ij->j", sub, sub)
        near = np.sort(np.argsort(-norms, kind="stable")[: 2 * k])
        pick = _qr_pick(sub[:, near], k, 1e-4)
        if pick is not None:
            return sorted(int(c) for c in cols[near[pick]])
    pick = _qr_pick(sub, k, 1e-10)
    return None if pick is None else sorted(int(c) for c in cols[pick])


def _layer_int_matrix(layer: Any, cols: "Sequence[int] | None") -> tuple[np.ndarray, int, int]:
    """``(K, e, D)`` with the layer's stored weights (columns ``cols``) ``== K * 2**e / D`` exactly (the exact
    kernel's integer form; ``K`` an object array of Python ints)."""
    M = layer.kernel.W
    K = M.K if cols is None else M.K[:, list(cols)]
    return K.astype(object), M.e, M.D


def _slope(act, p: Fraction) -> Fraction:
    """The slope of a piecewise-linear activation at ``p`` (right-hand at a kink)."""
    eps = Fraction(1, 1 << 40) * max(Fraction(1), abs(p))
    return (act.exact(p + eps) - act.exact(p)) / eps


def _affine(layer, h: list[Fraction]) -> list[Fraction]:
    """Exact ``W h + b`` (vectorised integer arithmetic when the weights allow it; ``latentcheck.theorems`` otherwise)."""

    return exact_affine_fast(layer, QVec.from_fractions(h))


def _int_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` for object arrays of Python ints, exactly, as one python-flint ``fmpz_mat`` product."""
    from flint import fmpz_mat

    C = fmpz_mat([[int(v) for v in row] for row in A.tolist()]) * fmpz_mat([[int(v) for v in row] for row in B.tolist()])
    out = np.empty((A.shape[0], B.shape[1]), dtype=object)
    out.ravel()[:] = [int(v) for v in C.entries()]
    return out


def _local_jacobian_int(encoder: Encoder, x: Sequence[Fraction], S: Sequence[int]) -> tuple[np.ndarray, int, int, list[Fraction]]:
    """``(K, e, den, pre)`` with ``J_S = K * 2**e / den`` (``K`` an object array of ints) and ``pre = pre(x)``."""
    xs = [Fraction(v) for v in x]
    S = list(S)
    # Forward pass in exact arithmetic, recording slopes.
    h = xs
    slopes: list[list[Fraction]] = []
    for layer in encoder.layers[:-1]:
        pre = _affine(layer, h)
        slopes.append([_slope(layer.activation, p) for p in pre])
        h = [layer.activation.exact(p) for p in pre]
    pre_L = _affine(encoder.layers[-1], h)
    # Jacobian: right to left, as integers K * 2**e / den.
    K, e, den = _layer_int_matrix(encoder.layers[0], S)
    for layer, sl in zip(encoder.layers[1:], slopes):
        d = 1
        for s in sl:
            d = d * s.denominator // math.gcd(d, s.denominator)
        scale = np.array([s.numerator * (d // s.denominator) for s in sl], dtype=object)
        K = K * scale[:, None]
        den *= d
        Wi, ei, di = _layer_int_matrix(layer, None)
        K = _int_matmul(Wi, K)
        e += ei
        den *= di
    return K, e, den, pre_L


def local_jacobian(encoder: Encoder, x: Sequence[Fraction], S: Sequence[int]) -> tuple[list[list[Fraction]], list[Fraction]]:
    """Exact ``J_S`` (``m x |S|``) and latent pre-activations ``pre(x)`` for an exact body.

    ``J_S = W_L D_{L-1} W_{L-1} ... D_1 W_1[:, S]`` with ``D_i`` the exact
    slopes of the hidden activations at ``x`` (piecewise-linear bodies).
    """
    K, e, den, pre_L = _local_jacobian_int(encoder, x, S)
    factor = Fraction(2) ** e / den
    J = [[Fraction(int(v)) * factor for v in row] for row in K.tolist()]
    return J, pre_L


def _exact_pre(encoder: Encoder, x: list[Fraction]) -> list[Fraction]:

    out = exact_pre_fast(encoder, QVec.from_fractions(x))
    return out if out is not None else encoder.exact_pre_activations(x)


def exact_repair(encoder: Encoder, x: Sequence[Fraction], S: Sequence[int], target: Fraction,
                 iterations: int = 3) -> list[Fraction] | None:
    """Move ``x`` on the columns ``S`` until every latent pre-activation equals ``target`` exactly.

    Exact Newton steps on the local affine model (exact for a one-layer
    encoder after one step; for piecewise-linear bodies exact once the
    activation pattern stops changing), each an integer system solved by
    :func:`solve_int`. ``None`` when ``J_S`` is singular or the steps do not
    land on the target.
    """
    cur = [Fraction(v) for v in x]
    S = list(S)
    for _ in range(iterations):
        K, e, den, pre = _local_jacobian_int(encoder, cur, S)
        resid = [target - p for p in pre]
        if all(r == 0 for r in resid):
            return cur
        # J d = resid with J = K 2**e / den  <=>  K d = resid * den * 2**-e: one integer equation per row.
        scale = Fraction(den) * (Fraction(2) ** (-e))
        A, c = [], []
        for row, r in zip(K.tolist(), resid):
            q = r * scale
            A.append([int(v) * q.denominator for v in row])
            c.append(q.numerator)
        sol = solve_int(A, c)
        if sol is None:
            return None
        N, d = sol
        for j, v in zip(S, N):
            if v:
                cur[j] += Fraction(v, d)
    pre = _exact_pre(encoder, cur)
    return cur if all(p == target for p in pre) else None
