"""An interval margin is printed rounded down: the string never claims more than the enclosure proves."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

from latentcheck.theorems.properties import lower_decimal


def _exact(x: mpmath.mpf) -> Fraction:
    sign, man, exp, _ = x._mpf_
    return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)


@pytest.mark.parametrize("text", ["0.203928893796046960998037782866", "-0.1", "0.1", "1e-30", "-123.456", "7", "2.5e40"])
def test_lower_decimal_is_at_most_the_value_and_close(text: str) -> None:
    with mpmath.workprec(200):
        x = mpmath.mpf(text)
        printed = Fraction(lower_decimal(x))
        assert printed <= _exact(x)
        assert _exact(x) - printed <= abs(_exact(x)) * Fraction(1, 10**18)


def test_plain_str_of_an_interval_end_can_round_up() -> None:
    """Why the helper exists: mpmath's own decimal can exceed the end it prints (round to nearest)."""
    with mpmath.workprec(200):
        x = mpmath.mpf("0.203928893796046960998037782866")
    with mpmath.workdps(20):
        assert Fraction(mpmath.nstr(x, 20)) > _exact(x)


def test_interval_ends_are_read_at_their_own_precision() -> None:
    """An ``iv.mpf`` end carries more bits than a double: reading it through mpf at 53 bits rounded it up once."""
    from mpmath import iv

    with mpmath.workprec(96):
        exact = Fraction(199472820121643800239538037201, 10**30)
    old = iv.prec
    iv.prec = 96
    try:
        enclosure = iv.mpf(exact.numerator) / iv.mpf(exact.denominator)
        lower = enclosure.a
    finally:
        iv.prec = old
    assert Fraction(lower_decimal(lower)) <= exact
    assert Fraction(lower_decimal(enclosure)) <= exact
