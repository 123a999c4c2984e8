"""Exact linear algebra over the rationals, for witnesses: python-flint's ``fmpq_mat`` behind Fraction lists.

Row reduction, rank, a kernel vector, a matrix-vector product and the
least-norm solution of a full-row-rank system ``W x = y``; matrices come in
and go out as lists of rows of ``Fraction`` s (every float read exactly).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

from flint import fmpq, fmpq_mat

__all__ = ["to_fraction_matrix", "rref", "rank", "kernel_vector", "least_norm_solve", "matvec"]

Matrix = list[list[Fraction]]


def to_fraction_matrix(W: Any) -> Matrix:
    """Exact copy of a float / int / Fraction matrix (floats are converted exactly)."""
    return [[Fraction(v) for v in row] for row in W]


def _fmpq(v: Any) -> fmpq:
    q = v if isinstance(v, Fraction) else Fraction(v)
    return fmpq(q.numerator, q.denominator)


def _to_flint(A: Sequence[Sequence[Any]]) -> fmpq_mat:
    rows, cols = len(A), len(A[0]) if A else 0
    return fmpq_mat(rows, cols, [_fmpq(v) for row in A for v in row])


def _fraction(q: fmpq) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def _from_flint(M: fmpq_mat) -> Matrix:
    return [[_fraction(v) for v in row] for row in M.tolist()]


def rref(A: Matrix) -> tuple[Matrix, list[int]]:
    """Reduced row echelon form and pivot columns."""
    if not A or not A[0]:
        return [row[:] for row in A], []
    R, r = _to_flint(A).rref()
    out = _from_flint(R)
    pivots = [next(c for c, v in enumerate(row) if v != 0) for row in out[:r]]
    return out, pivots


def rank(A: Matrix) -> int:
    return _to_flint(A).rank() if A and A[0] else 0


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
    if not A:
        return []
    return [row[0] for row in _from_flint(_to_flint(A) * _to_flint([[v] for v in x]))]


def least_norm_solve(A: Matrix, y: Sequence[Fraction]) -> list[Fraction]:
    """``x = A^T (A A^T)^{-1} y`` for full-row-rank ``A`` (exact)."""
    M = _to_flint(A)
    try:
        c = (M * M.transpose()).solve(_to_flint([[v] for v in y]))
    except ZeroDivisionError:
        raise ValueError("matrix does not have full row rank") from None
    return [row[0] for row in _from_flint(M.transpose() * c)]
