"""Piecewise-linear activations: their exact PL form (:class:`PLFunction`), decided from the sympy expression.

The form itself (knots, values, end slopes, exact rationals) is :mod:`latentcheck.theorems.pl_form`. The one PL
form of the project: the verifier (``checkers/verify``), the certificate re-checkers
(``counterexamples/certificate.py``, ``certificate_l2.py``) and the exact kernel
(:mod:`latentcheck.theorems.exact_net`) all use it.

A catalogue activation's form is data (:data:`latentcheck.theorems.pl_catalog.CATALOG_PL`, no sympy: what
``latentcheck verify`` uses); every other activation's is derived here from its expression, and the tests
derive each catalogue entry again here and check the table against it.

Exact means exact: coefficients and values are taken from sympy only when they
are ``Rational`` (after exact simplification), never through ``nsimplify``
(which snaps ``13421773/134217728``, float32's 0.1, to ``1/10``) or a float.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

from .activations import Activation, get_activation
from .pl_catalog import CATALOG_PL
from .pl_form import PLFunction, as_fmpq
from .symbols import sp, t_symbol

__all__ = ["PLFunction", "piecewise_linear", "derive_piecewise_linear", "NotPiecewiseLinear", "as_fmpq"]


class NotPiecewiseLinear(Exception):
    """The activation is not (provably) continuous piecewise linear; the message says why."""


def _exact_rational(v: Any) -> "sp.Rational | None":
    """``v`` as a sympy Rational when it is one exactly (after exact simplification), else ``None``.

    Never ``nsimplify``: it snaps exact rationals to nearby simple ones (``13421773/134217728`` -> ``1/10``),
    and never a float: a ``Float`` is not read as a rational here.
    """
    if isinstance(v, int) and not isinstance(v, bool):
        return sp.Integer(v)
    if not isinstance(v, sp.Basic) or v.has(sp.Float):
        return None
    if isinstance(v, sp.Rational):
        return v
    try:
        w = sp.simplify(v)
    except Exception:  # sympy could not simplify: not provably rational
        return None
    return w if isinstance(w, sp.Rational) and not w.has(sp.Float) else None


def _q(v: Any) -> Fraction:
    r = _exact_rational(v)
    if r is None:
        raise NotPiecewiseLinear(f"{v} is not an exact rational")
    return Fraction(int(r.p), int(r.q))


def _linear_coeffs(expr: sp.Expr) -> tuple[Fraction, Fraction]:
    poly = sp.Poly(sp.expand(expr), t_symbol())
    if poly.degree() > 1:
        raise NotPiecewiseLinear(f"piece {expr} is not linear in t")
    coeffs = poly.all_coeffs()
    a, c = (coeffs if len(coeffs) == 2 else [0, coeffs[0]])
    if _exact_rational(a) is None or _exact_rational(c) is None:
        raise NotPiecewiseLinear(f"piece {expr} has coefficients that are not exact rationals")
    return _q(a), _q(c)


@functools.lru_cache(maxsize=128)
def _from_expr(expr: sp.Expr) -> PLFunction:
    if expr.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign):
        expr = expr.rewrite(sp.Piecewise)
    folded = sp.piecewise_fold(expr)
    knots: set[Fraction] = set()
    pieces = [folded] if not isinstance(folded, sp.Piecewise) else [p for p, _ in folded.args]
    conds = [] if not isinstance(folded, sp.Piecewise) else [c for _, c in folded.args]
    for piece in pieces:
        if piece.free_symbols - {t_symbol()}:
            raise NotPiecewiseLinear(f"piece {piece} has symbols other than t")
        try:
            _linear_coeffs(piece)
        except (sp.PolynomialError, sp.GeneratorsNeeded, TypeError, ValueError) as exc:
            raise NotPiecewiseLinear(f"piece {piece} is not a polynomial in t ({exc})") from None
    for cond in conds:
        if cond in (sp.true, True):
            continue
        for rel in cond.atoms(sp.core.relational.Relational):
            if not isinstance(rel, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
                raise NotPiecewiseLinear(f"condition {rel} is not an inequality")
            a, c = _linear_coeffs(rel.lhs - rel.rhs)
            if a != 0:
                knots.add(-c / a)
    act_exact = _exact_fn(expr)
    ks = tuple(sorted(knots))
    if not ks:
        c0 = act_exact(Fraction(0))
        a = act_exact(Fraction(1)) - c0
        pl = PLFunction((), (), a, a, c0)
        probes = [Fraction(-7, 3), Fraction(5, 2)]
    else:
        vals = tuple(act_exact(k) for k in ks)
        sl = vals[0] - act_exact(ks[0] - 1)
        sr = act_exact(ks[-1] + 1) - vals[-1]
        pl = PLFunction(ks, vals, sl, sr)
        probes = [ks[0] - 3, ks[0] - Fraction(1, 2), ks[-1] + Fraction(1, 2), ks[-1] + 3]
        for a, b in zip(ks, ks[1:]):
            probes += [a + (b - a) / 3, a + 2 * (b - a) / 3]
    for p in probes:  # linear pieces agreeing at two interior points with the interpolation: equal on the piece
        if act_exact(p) != pl(p):
            raise NotPiecewiseLinear(f"s({p}) = {act_exact(p)} differs from the interpolation through its knots: s is not continuous")
    return pl


def _exact_fn(expr: sp.Expr):
    def f(q: Fraction) -> Fraction:
        v = expr.subs(t_symbol(), sp.Rational(q.numerator, q.denominator))
        if _exact_rational(v) is None:
            raise NotPiecewiseLinear(f"s({q}) = {v} is not an exact rational")
        return _q(v)

    return f


def piecewise_linear(activation: "str | Activation") -> PLFunction:
    """The exact :class:`PLFunction` of a continuous piecewise-linear activation.

    Raises:
        NotPiecewiseLinear: with the reason, for any other activation.

    Example:
        >>> piecewise_linear("relu").knots
        (Fraction(0, 1),)
    """
    act = get_activation(activation)
    table = CATALOG_PL.get(act.catalog_name)
    if table is not None:  # a catalogue entry: its form is data (the tests derive each entry again and compare)
        return table
    return derive_piecewise_linear(act)


def derive_piecewise_linear(activation: "str | Activation") -> PLFunction:
    """The :class:`PLFunction` of ``activation`` derived from its sympy expression (what :func:`piecewise_linear`
    gives for every activation outside the catalogue's table).

    Raises:
        NotPiecewiseLinear: with the reason, for any other activation.
    """
    act = get_activation(activation)
    if not act.expr.has(t_symbol()):
        raise NotPiecewiseLinear(f"{act.name} is constant; P3 is decided by its value")
    try:
        return _from_expr(act.expr)
    except NotPiecewiseLinear:
        raise
    except Exception as exc:  # sympy could not reduce it: not provably piecewise linear
        raise NotPiecewiseLinear(f"{act.name}: {type(exc).__name__}: {exc}") from None
