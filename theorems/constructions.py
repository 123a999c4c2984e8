"""The explicit witnesses of the theorems, computed in exact rationals.

* :func:`t1_witness`: a nonzero ``x`` with ``W x + b = t0 * 1`` (so a one-layer
  encoder whose activation vanishes at ``t0`` maps it to 0).
* :func:`t3_witness`: a strict ordering flip ``(x, u, v)`` for a linear map ``A``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

from .errors import InvalidArgument
from .linalg import kernel_vector, least_norm_solve, matvec, rank, to_fraction_matrix

__all__ = ["t1_witness", "t3_witness", "dot"]


def dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    return sum((p * q for p, q in zip(a, b)), Fraction(0))


def t1_witness(W: Any, b: Sequence[Any], t0: Fraction) -> list[Fraction]:
    """T1: ``x = W^+ (t0*1 - b) + k`` with ``k`` a nonzero kernel vector of ``W``.

    ``W`` must have full row rank and fewer rows than columns. The result is
    nonzero (``k`` is orthogonal to the row-space part) and satisfies
    ``W x + b = t0 * 1`` exactly.
    """
    A = to_fraction_matrix(W)
    m, n = len(A), len(A[0])
    if m >= n:
        raise InvalidArgument(f"T1 needs m < n, got W of shape ({m}, {n})")
    if rank(A) < m:
        raise InvalidArgument(f"T1 needs W of full row rank {m}; this W has rank {rank(A)}")
    target = [Fraction(t0) - Fraction(v) for v in b]
    xp = least_norm_solve(A, target)
    k = kernel_vector(A)
    assert k is not None  # m < n
    return [p + q for p, q in zip(xp, k)]


def t3_witness(A_in: Any) -> tuple[list[Fraction], list[Fraction], list[Fraction]]:
    """T3: a strict ordering flip for ``x -> A x`` (``A != 0``, fewer rows than columns).

    ``k`` in ker A, ``r`` in the row space with ``A r != 0``, ``x = r + k``,
    ``v = k``, ``u = e x`` with ``e = |k|^2 / (2 |x|^2)``. Then
    ``<x,u> = |k|^2 / 2 < |k|^2 = <x,v>`` and ``<Ax,Au> = e |Ar|^2 > 0 = <Ax,Av>``.
    """
    A = to_fraction_matrix(A_in)
    m, n = len(A), len(A[0])
    if m >= n:
        raise InvalidArgument(f"T3 needs m < n, got A of shape ({m}, {n})")
    k = kernel_vector(A)
    assert k is not None
    # r: a row of A that is nonzero (rows span the row space; A r = A a_i has <a_i, A^T e_i> = |a_i|^2 > 0).
    r = next((row for row in A if any(v != 0 for v in row)), None)
    if r is None:
        raise InvalidArgument("T3 needs A != 0")
    x = [p + q for p, q in zip(r, k)]
    e = dot(k, k) / (2 * dot(x, x))
    u = [e * v for v in x]
    return x, u, list(k)


def check_t1(W: Any, b: Sequence[Any], t0: Fraction, x: Sequence[Fraction]) -> bool:
    """Exact re-check of a T1 witness: ``x != 0`` and ``W x + b = t0 * 1``."""
    A = to_fraction_matrix(W)
    pre = [p + Fraction(q) for p, q in zip(matvec(A, x), b)]
    return any(v != 0 for v in x) and all(v == Fraction(t0) for v in pre)
