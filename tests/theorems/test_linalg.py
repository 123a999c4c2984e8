"""theorems/linalg.py (python-flint fmpq_mat) against sympy's exact matrices and plain Fraction sums."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp

from latentcheck.theorems.linalg import kernel_vector, least_norm_solve, matvec, rank, rref, to_fraction_matrix


def _random_matrix(R: random.Random, m: int, n: int, r: int) -> list[list[Fraction]]:
    """An ``m x n`` rational matrix of rank at most ``r`` (a product of random factors)."""
    B = [[Fraction(R.randint(-9, 9), R.randint(1, 5)) for _ in range(r)] for _ in range(m)]
    C = [[Fraction(R.randint(-9, 9), R.randint(1, 5)) for _ in range(n)] for _ in range(r)]
    return [[sum((B[i][k] * C[k][j] for k in range(r)), Fraction(0)) for j in range(n)] for i in range(m)]


def _sym(A):
    return sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in A])


def _dot(row, x):
    return sum((a * b for a, b in zip(row, x)), Fraction(0))


@pytest.mark.parametrize("seed", range(6))
def test_rref_rank_kernel_match_sympy(seed: int) -> None:
    R = random.Random(seed)
    m, n = R.randint(1, 5), R.randint(1, 7)
    A = _random_matrix(R, m, n, R.randint(1, min(m, n)))
    got, pivots = rref(A)
    want, want_piv = _sym(A).rref()
    assert _sym(got) == want and tuple(pivots) == want_piv
    assert rank(A) == _sym(A).rank()
    k = kernel_vector(A)
    if _sym(A).rank() == n:
        assert k is None
    else:
        assert any(k) and all(_dot(row, k) == 0 for row in A)


def test_least_norm_solve_and_matvec() -> None:
    R = random.Random(7)
    A = _random_matrix(R, 3, 6, 3)
    y = [Fraction(1), Fraction(-2, 3), Fraction(5)]
    x = least_norm_solve(A, y)
    assert [_dot(row, x) for row in A] == y  # solves the system
    c = (_sym(A) * _sym(A).T).solve(sp.Matrix(y))  # and lies in the row space: x = A^T c
    assert _sym([x]).T == _sym(A).T * c
    assert matvec(A, x) == [_dot(row, x) for row in A]
    with pytest.raises(ValueError):
        least_norm_solve([A[0], A[0]], [Fraction(1), Fraction(2)])


def test_floats_read_exactly() -> None:
    A = to_fraction_matrix([[0.1, 2], [Fraction(1, 3), -1e-300]])
    assert A[0][0] == Fraction(0.1) != Fraction(1, 10) and A[1][1] == Fraction(-1e-300)
    assert rank(A) == 2 and rank([[Fraction(0), Fraction(0)]]) == 0


def test_t4_integer_determinant_matches_sympy() -> None:
    from latentcheck.checkers.prove.t4_domains import _int_det

    R = random.Random(3)
    for n in (1, 2, 4, 7):
        A = [[R.randint(-10**12, 10**12) for _ in range(n)] for _ in range(n)]
        assert _int_det(A) == sp.Matrix(A).det()
        if n > 1:
            A[-1] = [3 * v for v in A[0]]
            assert _int_det(A) == 0
    assert _int_det([]) == 1


def test_falsifier_integer_matmul_matches_object_dot() -> None:
    import numpy as np

    from latentcheck.checkers.falsify._exact import _int_matmul

    R = random.Random(9)
    A = np.array([[R.randint(-2**90, 2**90) for _ in range(5)] for _ in range(3)], dtype=object)
    B = np.array([[R.randint(-2**70, 2**70) for _ in range(4)] for _ in range(5)], dtype=object)
    want = [[sum(A[i, k] * B[k, j] for k in range(5)) for j in range(4)] for i in range(3)]
    got = _int_matmul(A, B)
    assert got.shape == (3, 4) and got.tolist() == want and all(type(v) is int for v in got.ravel())
