"""An interval margin is printed rounded down: the string never claims more than the enclosure proves."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest

from theorems.properties import lower_decimal


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
