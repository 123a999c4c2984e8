"""Exact pieces stay exact (issue 17, item 3).

The piecewise-linear form of an activation (``checkers/verify/pl.py``) must agree with the activation
at exact rational points, knots included, for constants that are float32 values written out exactly
(``13421773/134217728`` is float32's 0.1, which ``sympy.nsimplify`` snapped to ``1/10``). The reference
here is a Fraction evaluator of the same formula tree, written in this file (no sympy, no latentcheck).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentcheck.theorems import pl as plmod
from latentcheck.checkers.verify.pl import NotPiecewiseLinear, piecewise_linear
from latentcheck.checkers.verify import verify
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.expr import T
from latentcheck.theorems.pl_catalog import CATALOG_PL
from latentcheck.theorems.pl_form import PLFunction

A32 = Fraction(float(np.float32(0.1)))  # 13421773/134217728


def _text(q: Fraction) -> str:
    """A float32 value exactly, as ``(p/2**e)`` (the parser refuses literals above 1e12, not powers)."""
    e = q.denominator.bit_length() - 1
    assert q.denominator == 2 ** e
    if not e:
        return f"({q.numerator})"
    parts = [64] * (e // 64) + ([e % 64] if e % 64 else [])  # the parser allows exponents up to 64
    return f"({q.numerator}/(" + "*".join(f"2**{k}" for k in parts) + "))"


# ------------------------------------------------------------------ formula trees: text + Fraction evaluator
F32 = st.floats(min_value=-64, max_value=64, allow_nan=False, allow_infinity=False, width=32).map(Fraction)
TINY = st.sampled_from([Fraction(float(np.float32(v))) for v in (0.1, 0.2, 0.3, 1e-7, 1 / 3, 2 / 3, 1e-3)])
CONST = st.one_of(F32, TINY, TINY.map(lambda q: -q))


@st.composite
def affine(draw):
    a, c = draw(CONST), draw(CONST)
    return (f"({_text(a)}*t + {_text(c)})", lambda t, a=a, c=c: a * t + c, [a, c])


def _combine(children):
    def build(draw):
        op = draw(st.sampled_from(["Max", "Min", "Abs", "scale", "sum"]))
        x = draw(children)
        if op == "Abs":
            return (f"Abs({x[0]})", lambda t, f=x[1]: abs(f(t)), x[2])
        if op == "scale":
            k = draw(CONST)
            return (f"{_text(k)}*{x[0]}", lambda t, f=x[1], k=k: k * f(t), x[2] + [k])
        y = draw(children)
        if op == "sum":
            return (f"({x[0]} + {y[0]})", lambda t, f=x[1], g=y[1]: f(t) + g(t), x[2] + y[2])
        fn = max if op == "Max" else min
        return (f"{op}({x[0]}, {y[0]})", lambda t, f=x[1], g=y[1], fn=fn: fn(f(t), g(t)), x[2] + y[2])

    return st.composite(build)()


FORMULA = st.recursive(affine(), _combine, max_leaves=4)


def _points(pl, consts) -> list[Fraction]:
    """Knots, points just beside them, midpoints, far points and every constant (and its negation)."""
    eps = Fraction(1, 2 ** 40)
    pts = [Fraction(0), Fraction(1), Fraction(-1), Fraction(10 ** 6), Fraction(-10 ** 6)]
    for k in pl.knots:
        pts += [k, k - eps, k + eps, k - 1, k + 1]
    pts += [(a + b) / 2 for a, b in zip(pl.knots, pl.knots[1:])]
    for c in consts:
        pts += [c, -c]
        if c != 0:
            pts += [-1 / c, 1 / c]
    return pts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULA)
def test_pl_form_agrees_with_the_formula_at_exact_points(formula) -> None:
    text, ref, consts = formula
    try:
        pl = piecewise_linear(text)
    except NotPiecewiseLinear as exc:  # only for a constant formula (every coefficient of t cancelled)
        assert "constant" in str(exc), (text, str(exc))
        return
    for p in _points(pl, consts):
        assert pl(p) == ref(p), (text, p, pl(p), ref(p))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONST, CONST, CONST)
def test_piecewise_and_heaviside_forms_agree_at_exact_points(a, k, c) -> None:
    """Piecewise and Heaviside (built in sympy: the restricted parser reads Max/Min/Abs only)."""
    A, K, C = (sp.Rational(v.numerator, v.denominator) for v in (a, k, c))
    cases = [
        (sp.Piecewise((C, T <= A), (K * (T - A) + C, True)), lambda t: c if t <= a else k * (t - a) + c),
        (sp.Heaviside(T - A) * (T - A) * K + C, lambda t: (k * (t - a) if t > a else Fraction(0)) + c),
        (sp.Max(0, T + A) - A, lambda t: max(Fraction(0), t + a) - a),
    ]
    for expr, ref in cases:
        try:
            pl = plmod._from_expr(expr)
        except NotPiecewiseLinear:
            continue  # a constant (k = 0): nothing to compare
        for p in _points(pl, [a, k, c]):
            assert pl(p) == ref(p), (expr, p)


def test_float32_knot_is_not_snapped() -> None:
    pl = piecewise_linear(f"Max(0, t + {A32.numerator}/{A32.denominator}) - {A32.numerator}/{A32.denominator}")
    assert pl.knots == (-A32,)
    assert pl(Fraction(0)) == 0 and pl(Fraction(1, 10)) == Fraction(1, 10)
    assert pl(-A32) == -A32


def test_discontinuous_piecewise_is_refused() -> None:
    """A planted jump at a float32 knot: the exact continuity probes must see it (no snapping to 1/10)."""
    A = sp.Rational(A32.numerator, A32.denominator)
    jump = sp.Piecewise((T, T <= A), (T + sp.Rational(1, 10 ** 30), True))
    with pytest.raises(NotPiecewiseLinear):
        plmod._from_expr(jump)


def test_issue_example_is_never_proved() -> None:
    """``Max(0, t + a) - a``, a = float32(0.1), W0 = [[1e-12]], b0 = [-1e-12]: enc(1) = 0 exactly."""
    act = f"Max(0, t + {A32.numerator}/{A32.denominator}) - {A32.numerator}/{A32.denominator}"
    enc = Encoder.from_arrays([np.array([[1e-12]])], [np.array([-1e-12])], [act])
    res = verify(enc, "p3", domain="box:1,2", timeout=30)
    assert res.verdict in ("refuted", "unknown"), res.reason
    assert res.verdict == "refuted"
    x = [Fraction(v) for v in res.counterexample]
    assert 1 <= x[0] <= 2
    z = Fraction(1e-12) * x[0] + Fraction(-1e-12)  # exact: both are float64 values
    assert max(Fraction(0), z + A32) - A32 == 0


# ------------------------------------------------------------------ range_on's nondecreasing shortcut
SMALLQ = st.fractions(min_value=-20, max_value=20, max_denominator=64)


@st.composite
def pl_forms(draw):
    """A PL form with 0-3 knots: increasing knots, any values, any end slopes (monotone or not)."""
    knots = sorted(set(draw(st.lists(SMALLQ, max_size=3))))
    values = [draw(SMALLQ) for _ in knots]
    if draw(st.booleans()):  # often nondecreasing: the shortcut's case
        values = sorted(values)
        sl, sr = abs(draw(SMALLQ)), abs(draw(SMALLQ))
    else:
        sl, sr = draw(SMALLQ), draw(SMALLQ)
    return PLFunction(tuple(knots), tuple(values), sl, sr, Fraction(0) if knots else draw(SMALLQ))


def _hinge_value(pl, t: Fraction) -> Fraction:
    """s(t) as its left line plus hinges (written apart from PLFunction.__call__'s interpolation)."""
    if not pl.knots:
        return pl.slope_left * t + pl.offset
    slopes = [pl.slope_left] + [(b - a) / (kb - ka) for a, b, ka, kb in
                                zip(pl.values, pl.values[1:], pl.knots, pl.knots[1:])] + [pl.slope_right]
    out = pl.values[0] + pl.slope_left * (t - pl.knots[0])
    for i, k in enumerate(pl.knots):
        out += (slopes[i + 1] - slopes[i]) * max(Fraction(0), t - k)
    return out


@settings(max_examples=300, deadline=None)
@given(pl_forms(), SMALLQ, SMALLQ)
def test_range_on_matches_min_and_max_over_the_breakpoints(pl, a, b) -> None:
    lo, hi = min(a, b), max(a, b)
    pts = [lo, hi] + [k for k in pl.knots if lo < k < hi]
    vals = [_hinge_value(pl, p) for p in pts]
    assert pl.range_on(lo, hi) == (min(vals), max(vals))
    slopes_ok = all(_hinge_value(pl, q) <= _hinge_value(pl, q + 1) for q in [lo - 30, *pl.knots, hi + 30])
    if pl.nondecreasing:  # the flag is never set on a form that decreases somewhere
        assert slopes_ok


def test_nondecreasing_flag_on_the_catalogue_forms() -> None:
    assert all(CATALOG_PL[n].nondecreasing for n in ("relu", "leaky_relu", "identity", "relu6", "hard_tanh",
                                                       "hard_sigmoid"))
    abs_form = PLFunction((Fraction(0),), (Fraction(0),), Fraction(-1), Fraction(1))
    assert not abs_form.nondecreasing
    assert abs_form.range_on(Fraction(-2), Fraction(1)) == (Fraction(0), Fraction(2))  # not (s(lo), s(hi))
