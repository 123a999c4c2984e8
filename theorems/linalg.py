"""Exact linear algebra over the rationals (Fractions), for witnesses.

Small and dependency-free: row reduction, rank, a kernel vector, and the
least-norm solution of a full-row-rank system ``W x = y``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

__all__ = ["to_fraction_matrix", "rref", "rank", "kernel_vector", "least_norm_solve", "matvec"]

Matrix = list[list[Fraction]]


def to_fraction_matrix(W: Any) -> Matrix:
    """Exact copy of a float / int / Fraction matrix (floats are converted exactly)."""
    return [[Fraction(v) if not isinstance(v, float) else Fraction(v) for v in row] for row in W]


def rref(A: Matrix) -> tuple[Matrix, list[int]]:
    """Reduced row echelon form and pivot columns."""
    M = [row[:] for row in A]
    rows, cols = len(M), len(M[0]) if M else 0
    pivots: list[int] = []
    r = 0
    for c in range(cols):
        piv = next((i for i in range(r, rows) if M[i][c] != 0), None)
        if piv is None:
            continue
        M[r], M[piv] = M[piv], M[r]
        inv = 1 / M[r][c]
        M[r] = [v * inv for v in M[r]]
        for i in range(rows):
            if i != r and M[i][c] != 0:
                f = M[i][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[r])]
        pivots.append(c)
        r += 1
        if r == rows:
            break
    return M, pivots


def rank(A: Matrix) -> int:
    return len(rref(A)[1]) if A else 0


def kernel_vector(A: Matrix) -> list[Fraction] | None:
    """A nonzero ``k`` with ``A k = 0``, or None when the kernel is trivial."""
    n = len(A[0])
    R, pivots = rref(A)
    free = [c for c in range(n) if c not in pivots]
    if not free:
        return None
    f = free[0]
    k = [Fraction(0)] * n
    k[f] = Fraction(1)
    for row, p in zip(R, pivots):
        k[p] = -row[f]
    return k


def matvec(A: Matrix, x: Sequence[Fraction]) -> list[Fraction]:
    return [sum((a * b for a, b in zip(row, x)), Fraction(0)) for row in A]


def least_norm_solve(A: Matrix, y: Sequence[Fraction]) -> list[Fraction]:
    """``x = A^T (A A^T)^{-1} y`` for full-row-rank ``A`` (exact)."""
    m = len(A)
    AAt = [[sum((a * b for a, b in zip(A[i], A[j])), Fraction(0)) for j in range(m)] for i in range(m)]
    aug = [AAt[i] + [Fraction(y[i])] for i in range(m)]
    R, pivots = rref(aug)
    if len(pivots) < m or pivots[-1] == m:
        raise ValueError("matrix does not have full row rank")
    c = [R[i][m] for i in range(m)]
    n = len(A[0])
    return [sum((A[i][j] * c[i] for i in range(m)), Fraction(0)) for j in range(n)]
