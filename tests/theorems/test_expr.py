"""The restricted expression parser: accepts formulas, refuses everything else, runs nothing."""

from __future__ import annotations

import os

import pytest
import sympy as sp

from latentcheck.theorems import T, ExpressionSyntaxError, UnsafeExpression, parse_expression


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1/(1+exp(-t))", 1 / (1 + sp.exp(-T))),
        ("Max(0, t - 1)", sp.Max(0, T - 1)),
        ("t^3 - 2*t", T**3 - 2 * T),
        ("0.5*t", T / 2),
        ("abs(t) + min(t, 0)", sp.Abs(T) + sp.Min(T, 0)),
        ("erf(t/sqrt(2))", sp.erf(T / sp.sqrt(2))),
    ],
)
def test_parses_formulas(text: str, expected: sp.Expr) -> None:
    assert sp.simplify(parse_expression(text) - expected) == 0


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch PWNED')",
        "t.__class__",
        "t.real",
        "(lambda x: x)(t)",
        "open('PWNED', 'w')",
        "exec('1')",
        "eval('t')",
        "t**100000",
        "9**9**9",
        "2**(2**(2**(2**(2**9))))",
        "[t for t in range(10)]",
        "{'a': t}",
        "t if t > 0 else 0",
        "sp.exp(t)",
        "getattr(t, 'x')",
        "100000000000000*t",
        "t**t",
        "x + 1",
    ],
)
def test_refuses_unsafe(text: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises((UnsafeExpression, ExpressionSyntaxError)) as info:
        parse_expression(text)
    assert "\n" not in str(info.value)
    assert not os.path.exists(tmp_path / "PWNED")


@pytest.mark.parametrize("text", ["", "   ", "t +", "import os", "exp(t, 2)", "Max(t)"])
def test_syntax_errors_are_one_line(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(text)
    assert "\n" not in str(info.value)


def test_decimal_literals_are_exact() -> None:
    assert parse_expression("0.1*t") == T / 10
