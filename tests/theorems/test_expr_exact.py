"""Literals are exact rationals from their decimal text; expressions that can leave the reals are refused."""

from fractions import Fraction

import pytest
import sympy as sp

from latentcheck.theorems.errors import UnsafeExpression
from latentcheck.theorems.expr import T, parse_expression


def _constants(expr: sp.Expr) -> set[Fraction]:
    return {Fraction(int(a.p), int(a.q)) for a in sp.preorder_traversal(expr) if isinstance(a, sp.Rational)}


def test_tiny_literal_is_not_read_as_zero() -> None:
    expr = parse_expression("Max(0, t) + 1e-400")
    assert Fraction(1, 10**400) in _constants(expr)
    assert expr.subs(T, -5) == sp.Rational(1, 10**400)  # never 0: the false P3 witness is gone


def test_tiny_literal_in_relu_shift() -> None:
    expr = parse_expression("Max(0, t - 1e-30)")
    assert expr.subs(T, sp.Rational(1, 10**30)) == 0
    assert expr.subs(T, sp.Rational(2, 10**30)) == sp.Rational(1, 10**30)


def test_long_literals_keep_every_digit() -> None:
    expr = parse_expression("tanh(t - 0.1000000000000000000001)")
    assert Fraction("0.1000000000000000000001") in {abs(c) for c in _constants(expr)}
    forty = "3.141592653589793238462643383279502884197"  # 40 significant digits
    expr = parse_expression(f"t - {forty}")
    assert expr.subs(T, 0) == -sp.Rational(Fraction(forty).numerator, Fraction(forty).denominator)


@pytest.mark.parametrize(
    "text, value",
    [("1_000.5", Fraction(2001, 2)), (".5", Fraction(1, 2)), ("5.", Fraction(5)), ("1e5", Fraction(10**5)),
     ("2.5E-3", Fraction(1, 400)), ("007.50", Fraction(15, 2)), ("0.1", Fraction(1, 10)), ("1e-1200", Fraction(1, 10**1200))],
)
def test_literal_spellings(text: str, value: Fraction) -> None:
    expr = parse_expression(f"t + {text}")
    assert expr.subs(T, 0) == sp.Rational(value.numerator, value.denominator)


@pytest.mark.parametrize("text", ["0x10 + t", "0b11 + t", "0o7 + t", "1j + t"])
def test_non_decimal_literals_refused(text: str) -> None:
    with pytest.raises(UnsafeExpression, match="literal"):
        parse_expression(text)


@pytest.mark.parametrize("text", ["1e400 * t", "t + 1e13", "t + 1.0000000000001e12"])
def test_huge_literals_refused_exactly(text: str) -> None:
    with pytest.raises(UnsafeExpression, match="larger than 1e12"):
        parse_expression(text)


@pytest.mark.parametrize("text", ["t + 1e-99999999", "t + 1e-5000"])
def test_literals_too_long_for_4000_bits_refused(text: str) -> None:
    with pytest.raises(UnsafeExpression, match="4000 bits"):
        parse_expression(text)


def test_exponent_literals_are_exact_too() -> None:
    assert parse_expression("Abs(t)**0.5") == sp.sqrt(sp.Abs(T))
    with pytest.raises(UnsafeExpression, match="at most 64"):
        parse_expression("t**64.0000000000000000001")


@pytest.mark.parametrize(
    "text",
    ["cosh(sqrt(t))", "log(t)", "sqrt(t - 1) + 1", "t**0.5", "t**2.5", "t**-0.5", "(-2)**t", "sqrt(-1) + t",
     "log(t**2)", "log(tanh(t) + 1)", "sqrt(sin(t))", "sqrt(exp(t) - 1)", "log(1 + sin(t))"],
)
def test_expressions_that_leave_the_reals_are_refused(text: str) -> None:
    with pytest.raises(UnsafeExpression, match="leave the real numbers"):
        parse_expression(text)


@pytest.mark.parametrize(
    "text", ["sqrt(t**2 + 1)", "log(1 + exp(t))", "sqrt(Abs(t))", "2**t", "Abs(t)**1.5", "log(t**2 + 1/10)",
             "sqrt(Max(0, t))", "1/(1 + exp(-t))", "log(2 + sin(t))", "sqrt(cosh(t) - 1)", "sqrt(1 - tanh(t)**2)"],
)
def test_real_valued_expressions_accepted(text: str) -> None:
    assert parse_expression(text).has(T)


def test_catalog_still_parses() -> None:
    from latentcheck.theorems.activations import CATALOG

    assert len(list(CATALOG.values())) == len(CATALOG)


def test_cli_refuses_complex_branch_with_exit_2() -> None:
    from typer.testing import CliRunner

    from latentcheck.checkers.cli.app import app

    res = CliRunner().invoke(app, ["classify", "cosh(sqrt(t))"])
    assert "leave the real numbers" in str(res.exception) or "leave the real numbers" in res.output


def test_classify_keeps_every_digit_of_the_shift() -> None:
    from latentcheck.theorems.classify import classify

    c = classify("tanh(t - 0.1000000000000000000001)")
    assert c.cls == "tanh-like"
    assert c.zero == sp.Rational(1000000000000000000001, 10**22)


def test_tiny_literal_activation_has_no_exact_p3_counterexample() -> None:
    import numpy as np

    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems.classify import classify
    from latentcheck.theorems.encoder import Encoder

    assert classify("Max(0, t) + 1e-400").cls == "non-vanishing"  # T2: s >= 10**-400 > 0
    enc = Encoder.from_arrays([np.array([[1.0, -2.0, 0.5, 0.0, 1.0], [0.0, 1.0, -1.0, 2.0, 0.0]])],
                              [np.zeros(2)], ["Max(0, t) + 1e-400"])
    res = falsify(enc, "p3", dtype="float32", budget=1, seed=0, max_rounds=1)
    assert res.counterexamples == ()  # the two false "exact" witnesses
    assert all(not cx.is_certified for cx in res.float_only)


def test_sympy_floats_are_read_at_their_exact_binary_value_never_nsimplified() -> None:
    from mpmath import iv

    from latentcheck.theorems.lower import exact_value, interval_value

    f = sp.Max(sp.Float(0.1), T)  # a caller-built expression holding a binary float
    assert exact_value(f, Fraction(0)) == Fraction(0.1) != Fraction(1, 10)
    import mpmath

    box = interval_value(f, iv.mpf(0))
    lo, hi = (Fraction(m) * Fraction(2) ** e for m, e in (mpmath.mpf(v).man_exp for v in box._mpi_))
    assert lo <= Fraction(0.1) <= hi and not (lo <= Fraction(1, 10) <= hi)


@pytest.mark.parametrize("text", ["Max(0, t)**-1", "1/t", "1/(t - 1)", "t**-2", "1/tanh(t)"])
def test_division_by_a_possibly_zero_expression_is_refused(text: str) -> None:
    with pytest.raises(UnsafeExpression, match="division by"):
        parse_expression(text)


@pytest.mark.parametrize("text", ["1/(t**2 + 1)", "1/(2 + sin(t))", "t/(1 + Abs(t))", "1/(Abs(t) + 1e-400)"])
def test_division_by_a_provably_nonzero_expression_is_accepted(text: str) -> None:
    assert parse_expression(text).has(T)
