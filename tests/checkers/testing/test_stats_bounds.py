"""Clopper-Pearson bounds (checkers/testing/_stats.py, scipy.stats) against the binomial tail summed exactly."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from latentcheck.checkers.testing._stats import clopper_pearson_lower, clopper_pearson_upper


def _cdf(k: int, n: int, p: Fraction) -> Fraction:
    """P(X <= k) for X ~ Binomial(n, p), summed in exact rationals."""
    return sum((math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1)), Fraction(0))


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (3, 40), (17, 60), (59, 60), (5, 300)])
def test_bounds_solve_the_binomial_tail(k: int, n: int) -> None:
    alpha = Fraction(1, 20)
    up = clopper_pearson_upper(k, n)
    # the upper bound is where P(X <= k) crosses alpha: just below it the tail is above alpha, just above below it
    assert _cdf(k, n, Fraction(up) * (1 - Fraction(1, 10**9))) > alpha > _cdf(k, n, Fraction(up) * (1 + Fraction(1, 10**9)))
    if k > 0:
        lo = clopper_pearson_lower(k, n)  # P(X >= k) = 1 - P(X <= k - 1) crosses alpha at lo
        assert 1 - _cdf(k - 1, n, Fraction(lo) * (1 - Fraction(1, 10**9))) < alpha < 1 - _cdf(k - 1, n, Fraction(lo) * (1 + Fraction(1, 10**9)))


def test_edges_and_bad_input() -> None:
    assert clopper_pearson_upper(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-12)
    assert clopper_pearson_upper(10, 10) == 1.0 and clopper_pearson_lower(0, 10) == 0.0
    assert clopper_pearson_upper(0, 0) == 1.0 and clopper_pearson_lower(3, 0) == 0.0
    assert clopper_pearson_upper(5, 100, 0.99) > clopper_pearson_upper(5, 100, 0.9)
    with pytest.raises(ValueError):
        clopper_pearson_upper(11, 10)
    with pytest.raises(ValueError):
        clopper_pearson_upper(1, 10, 1.5)
