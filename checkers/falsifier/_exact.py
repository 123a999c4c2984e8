"""Exact linear algebra for the repair step (integers and Fractions, no floats).

* :func:`solve_int`: an integer system ``A y = c`` solved exactly as ``y = N / d``:
  Dixon's p-adic lifting (the inverse of ``A`` modulo a 25-bit prime, then
  ``O(bits)`` cheap lifting steps in int64 and Python ints, rational
  reconstruction, and an exact check ``A N == d c``), falling back to
  fraction-free Gaussian elimination (Bareiss) with fraction-free back
  substitution. For the ``64 x 64`` systems of a 1682-64 encoder (entries of
  ~66 bits, solutions of ~4400-bit numerators over a common denominator) Dixon
  is about ten times faster than Bareiss in pure Python.
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

from latentcheck.theorems.encoder import Encoder, exact_affine

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
    """``(N, d)`` with ``A N = d c`` exactly and ``d > 0`` (so ``y = N / d``); ``None`` when ``A`` is singular."""
    A = [[int(a) for a in row] for row in A]
    c = [int(v) for v in c]
    n = len(A)
    if n == 0:
        return [], 1
    # Strip common factors of each equation (smaller integers, same solutions).
    for i in range(n):
        g = 0
        for v in A[i]:
            g = math.gcd(g, v)
        g = math.gcd(g, c[i])
        if g > 1:
            A[i] = [v // g for v in A[i]]
            c[i] //= g
    if n >= 8:
        sol = _dixon(A, c)
        if sol is not None:
            return sol
    return _bareiss(A, c)


def _bareiss(A: list[list[int]], c: list[int]) -> tuple[list[int], int] | None:
    """Fraction-free elimination and back substitution (every division exact)."""
    n = len(A)
    M = [list(row) + [v] for row, v in zip(A, c)]
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
            M[i] = [0] * (k + 1) + [(pk * a - mik * c2) // prev for a, c2 in zip(Mi[k + 1:], Mk[k + 1:])]
        prev = pk
    det = M[n - 1][n - 1]  # +-det(A): the last Bareiss pivot
    # y_i = N_i / det with N_i = (det * b_i - sum_{j>i} U_ij N_j) / U_ii, an exact division (Cramer).
    N = [0] * n
    for i in range(n - 1, -1, -1):
        acc = det * M[i][n]
        row = M[i]
        for j in range(i + 1, n):
            if row[j]:
                acc -= row[j] * N[j]
        N[i] = acc // row[i]
    if det < 0:
        det, N = -det, [-v for v in N]
    g = det
    for v in N:
        g = math.gcd(g, v)
        if g == 1:
            break
    return [v // g for v in N], det // g


_PRIMES = (33554393, 33554383, 33554371, 33554341)  # the largest primes below 2**25


def _inverse_mod(A: np.ndarray, p: int) -> np.ndarray | None:
    """``A^{-1} mod p`` for an int64 matrix with entries in ``[0, p)`` (Gauss-Jordan, int64: products < 2**50)."""
    n = A.shape[0]
    M = np.concatenate([A % p, np.eye(n, dtype=np.int64)], axis=1)
    for k in range(n):
        nz = np.nonzero(M[k:, k])[0]
        if nz.size == 0:
            return None
        r = k + int(nz[0])
        if r != k:
            M[[k, r]] = M[[r, k]]
        inv = pow(int(M[k, k]), -1, p)
        M[k] = (M[k] * inv) % p
        f = M[:, k].copy()
        f[k] = 0
        M = (M - (f[:, None] * M[k][None, :]) % p) % p
    return M[:, n:]


def _ratrecon(u: int, m: int, nbound: int) -> tuple[int, int] | None:
    """``(a, b)`` with ``a = b u mod m``, ``|a| <= nbound``, ``0 < b``, by the half extended Euclid; ``None`` if none."""
    r0, r1 = m, u % m
    t0, t1 = 0, 1
    while r1 > nbound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        t0, t1 = t1, t0 - q * t1
    if t1 == 0:
        return None
    if t1 < 0:
        r1, t1 = -r1, -t1
    return r1, t1


def _dixon(A: list[list[int]], c: list[int]) -> tuple[list[int], int] | None:
    n = len(A)
    Aobj = np.array(A, dtype=object)
    for p in _PRIMES:
        C = _inverse_mod(np.array([[v % p for v in row] for row in A], dtype=np.int64), p)
        if C is not None:
            break
    else:
        return None
    # Hadamard bounds: |det A| <= D, every Cramer numerator |N_j| <= Nb.
    log_d = sum((sum(v * v for v in row).bit_length() + 1) // 2 for row in A)
    log_n = sum((sum(v * v for v in row).bit_length() + (c[i] * c[i]).bit_length() + 2) // 2 for i, row in enumerate(A))
    log_n = max(log_n, log_d)
    steps = (log_n + log_d + 2) // 24 + 2  # p > 2**24.99: p**steps > 2 * Nb * D
    # Limbs of A (25 bits, signed) so that A @ x for 0 <= x < p is exact in int64: 64 * 2**25 * 2**25 < 2**62.
    B = 25
    top = max(max(abs(v) for v in row) for row in A).bit_length()
    La = max(1, -(-top // B))
    if n * (1 << (2 * B)) >= 1 << 62:
        return None
    absA = np.abs(Aobj)
    signA = np.array([[1 if v >= 0 else -1 for v in row] for row in A], dtype=np.int64)
    limbs = [((absA >> (B * k)) & ((1 << B) - 1)).astype(np.int64) * signA for k in range(La)]
    r = np.array(c, dtype=object)
    digits = []
    for _ in range(steps):
        rm = (r % p).astype(np.int64)
        x = (C @ rm) % p  # int64: < 64 * 2**50
        digits.append(x)
        Ax = np.zeros(n, dtype=object)
        for k in range(La - 1, -1, -1):
            Ax = (Ax << B) + (limbs[k] @ x).astype(object)
        r = (r - Ax) // p  # exact: r = A x (mod p) by construction
    # X = sum_i digits_i p**i (mod P = p**steps), by halving (balanced products of Python ints).
    parts = [d.astype(object) for d in digits]
    pw = p
    while len(parts) > 1:
        nxt = [parts[i] + parts[i + 1] * pw if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
        parts, pw = nxt, pw * pw
    X = parts[0].tolist()
    P = p ** steps
    nb = 1 << log_n
    d = 1
    N = []
    for j in range(n):
        v = (X[j] * d) % P
        if v > P // 2:
            v -= P
        if abs(v) > nb:  # y_j needs more denominator than found so far
            rr = _ratrecon(X[j] * d % P, P, nb)
            if rr is None:
                return None
            d *= rr[1]
            N = [a * rr[1] for a in N]
            v = rr[0]
        N.append(v)
    # Exact check A N == d c (cheap next to the lifting; a failure falls back to Bareiss).
    AN = Aobj.dot(np.array(N, dtype=object))
    if any(int(a) != d * ci for a, ci in zip(AN.tolist(), c)):
        return None
    g = d
    for v in N:
        g = math.gcd(g, v)
        if g == 1:
            break
    return [v // g for v in N], d // g


def _qr_pick(sub: np.ndarray, k: int, rel: float) -> np.ndarray | None:
    from scipy.linalg import qr

    from latentcheck.checkers.falsifier._blas import serial_blas

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


def _layer_int_matrix(layer: Any, cols: "Sequence[int] | None") -> tuple[np.ndarray, int]:
    """``(K, e)`` with the layer's stored weights (columns ``cols``) ``== K * 2**e`` exactly, never via float64."""
    if getattr(layer, "float64_exact", True):
        return _int_matrix(layer.W if cols is None else layer.W[:, list(cols)])
    K, d = layer._int_form  # W_exact == K / d, d a power of two
    return (K if cols is None else K[:, list(cols)]), -(int(d).bit_length() - 1)


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


def _affine(layer, h: list[Fraction]) -> list[Fraction]:
    """Exact ``W h + b`` (vectorised integer arithmetic when the weights allow it; ``latentcheck.theorems`` otherwise)."""
    from latentcheck.counterexamples._fast import QVec, exact_affine_fast

    out = exact_affine_fast(layer, QVec.from_fractions(h))
    return out if out is not None else layer.exact_affine(h)


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
    K, e = _layer_int_matrix(encoder.layers[0], S)
    den = 1
    for layer, sl in zip(encoder.layers[1:], slopes):
        d = 1
        for s in sl:
            d = d * s.denominator // math.gcd(d, s.denominator)
        scale = np.array([s.numerator * (d // s.denominator) for s in sl], dtype=object)
        K = K * scale[:, None]
        den *= d
        Wi, ei = _layer_int_matrix(layer, None)
        K = Wi.dot(K)
        e += ei
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
    from latentcheck.counterexamples._fast import QVec, exact_pre_fast

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
