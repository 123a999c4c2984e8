"""Property tests of the theorems' witnesses: T1 zeros and T3 flips, certified exactly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from latentcheck.theorems import CATALOG, Encoder, check_flip, check_zero, classify
from latentcheck.theorems.constructions import check_t1, t1_witness, t3_witness
from latentcheck.theorems.linalg import kernel_vector, least_norm_solve, matvec, rank

VANISHING_WITH_RATIONAL_ZERO = [n for n in CATALOG if classify(n).vanishing and classify(n).zero.is_Rational]


@st.composite
def full_row_rank(draw, max_m: int = 4, max_n: int = 7):
    m = draw(st.integers(1, max_m))
    n = draw(st.integers(m + 1, max_n))
    W = draw(arrays(np.float64, (m, n), elements=st.integers(-4, 4).map(float)))
    assume(rank([[Fraction(v) for v in row] for row in W.tolist()]) == m)
    b = draw(arrays(np.float64, (m,), elements=st.sampled_from([-2.0, -0.5, 0.0, 0.25, 1.0, 3.0])))
    return W, b


def test_catalog_has_vanishing_activations() -> None:
    assert {"relu", "tanh", "identity", "hard_sigmoid"} <= set(VANISHING_WITH_RATIONAL_ZERO)


@settings(max_examples=30)
@given(wb=full_row_rank(), name=st.sampled_from(VANISHING_WITH_RATIONAL_ZERO))
def test_t1_witness_is_a_certified_zero(wb, name: str) -> None:
    W, b = wb
    z = classify(name).zero
    t0 = Fraction(int(z.p), int(z.q))
    x = t1_witness(W, b, t0)
    assert check_t1(W, b, t0, x)
    enc = Encoder.from_arrays([W], [b], [name])
    result = check_zero(enc, x)
    assert result.violates is True and result.certified == "exact"


@settings(max_examples=30)
@given(A=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 7)), elements=st.integers(-3, 3).map(float)))
def test_t3_witness_is_a_certified_strict_flip(A) -> None:
    assume(A.shape[0] < A.shape[1] and np.any(A != 0))
    x, u, v = t3_witness(A)
    lhs = sum(a * b for a, b in zip(x, u))
    rhs = sum(a * b for a, b in zip(x, v))
    assert lhs < rhs  # strict premise
    enc = Encoder.from_arrays([A], [np.zeros(A.shape[0])], ["identity"])
    result = check_flip(enc, x, u, v)
    assert result.violates is True and result.certified == "exact"


def test_linalg_helpers() -> None:
    A = [[Fraction(1), Fraction(2), Fraction(3)], [Fraction(0), Fraction(1), Fraction(4)]]
    k = kernel_vector(A)
    assert any(k) and matvec(A, k) == [0, 0]
    x = least_norm_solve(A, [Fraction(1), Fraction(2)])
    assert matvec(A, x) == [1, 2]


def test_t1_rejects_rank_deficient() -> None:
    from latentcheck.theorems import InvalidArgument

    with pytest.raises(InvalidArgument, match="full row rank"):
        t1_witness(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]), [0.0, 0.0], Fraction(0))
