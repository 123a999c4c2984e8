"""Evaluate a sympy expression in ``t`` in several arithmetics, without codegen.

Each backend walks the sympy tree itself (no ``lambdify``, no ``exec``):

* ``to_array_fn(expr, xp)``: float evaluation with an array namespace ``xp``
  (``numpy`` or ``jax.numpy``), elementwise.
* ``exact_value(expr, q)``: exact rational value at a rational point, or
  :class:`NotExact` when the value is not rational (``exp(1)``).
* ``interval_value(expr, iv_x)``: an mpmath interval that encloses the value
  for every point of the input interval.
"""

from __future__ import annotations

from fractions import Fraction
import contextlib
import functools
from typing import Any, Callable, Iterator

import mpmath
from mpmath import iv, mp

from .errors import NotExact
from .symbols import sp, t_symbol

__all__ = [
    "to_array_fn",
    "exact_value",
    "interval_value",
    "is_rational_function_of_t",
    "to_interval",
    "INTERVAL_PREC",
]

#: Working precision (bits) of interval evaluation.
INTERVAL_PREC = 96



@functools.lru_cache(maxsize=None)
def _unary() -> dict[Any, str]:
    """The unary sympy functions evaluated here: class -> name (built on first use: sympy loads lazily)."""
    return {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh", sp.sin: "sin",
            sp.cos: "cos", sp.erf: "erf"}


# ---------------------------------------------------------------- floats
def to_array_fn(expr: sp.Expr, xp: Any) -> Callable[[Any], Any]:
    """An elementwise float function of ``expr`` using array namespace ``xp``."""

    def ev(node: sp.Expr, x: Any) -> Any:
        if node == t_symbol():
            return x
        if node.is_Number or node.is_NumberSymbol:
            return xp.full_like(x, float(node))
        if node.is_Add:
            out = ev(node.args[0], x)
            for a in node.args[1:]:
                out = out + ev(a, x)
            return out
        if node.is_Mul:
            out = ev(node.args[0], x)
            for a in node.args[1:]:
                out = out * ev(a, x)
            return out
        if node.is_Pow:
            base, e = node.args
            if e == sp.Rational(1, 2):
                return xp.sqrt(ev(base, x))
            if e.is_Integer:
                b = ev(base, x)
                k = int(e)
                if k < 0:
                    return 1 / (b ** (-k))
                return b**k
            if base.is_number:
                return xp.exp(ev(e, x) * float(sp.log(base)))
            return ev(base, x) ** ev(e, x)
        if isinstance(node, sp.Max):
            out = ev(node.args[0], x)
            for a in node.args[1:]:
                out = xp.maximum(out, ev(a, x))
            return out
        if isinstance(node, sp.Min):
            out = ev(node.args[0], x)
            for a in node.args[1:]:
                out = xp.minimum(out, ev(a, x))
            return out
        if isinstance(node, sp.Abs):
            return xp.abs(ev(node.args[0], x))
        if isinstance(node, sp.Piecewise):
            out = None
            for value, cond in reversed(node.args):
                v = ev(value, x)
                if out is None:
                    out = v
                else:
                    out = xp.where(_cond_array(cond, x, ev, xp), v, out)
            return out
        if node.func in _unary():
            name = _unary()[node.func]
            arg = ev(node.args[0], x)
            if name == "erf":
                if hasattr(xp, "erf"):
                    return xp.erf(arg)
                from math import erf as _erf

                import numpy as np

                return np.vectorize(_erf, otypes=[x.dtype])(arg)
            return getattr(xp, name)(arg)
        raise NotExact(f"cannot evaluate {node} in floating point")

    def fn(x: Any) -> Any:
        return ev(expr, x)

    return fn


def _cond_array(cond: Any, x: Any, ev: Callable, xp: Any) -> Any:
    if cond is sp.true:
        return xp.ones_like(x, dtype=bool)
    if cond is sp.false:
        return xp.zeros_like(x, dtype=bool)
    if isinstance(cond, sp.And):
        out = _cond_array(cond.args[0], x, ev, xp)
        for c in cond.args[1:]:
            out = out & _cond_array(c, x, ev, xp)
        return out
    if isinstance(cond, sp.Or):
        out = _cond_array(cond.args[0], x, ev, xp)
        for c in cond.args[1:]:
            out = out | _cond_array(c, x, ev, xp)
        return out
    lhs, rhs = ev(cond.lhs, x), ev(cond.rhs, x)
    ops = {sp.StrictGreaterThan: lambda a, b: a > b, sp.GreaterThan: lambda a, b: a >= b,
           sp.StrictLessThan: lambda a, b: a < b, sp.LessThan: lambda a, b: a <= b,
           sp.Eq: lambda a, b: a == b, sp.Ne: lambda a, b: a != b}
    return ops[type(cond)](lhs, rhs)


# ---------------------------------------------------------------- exact
def is_rational_function_of_t(expr: sp.Expr) -> bool:
    """True when ``expr`` maps rationals to rationals with no transcendental step.

    That is: rational constants, ``t``, ``+ *``, integer powers, ``Abs``,
    ``Max``, ``Min`` and ``Piecewise`` with such conditions.
    """
    for node in sp.preorder_traversal(expr):
        if node.is_Atom:
            if node != t_symbol() and not node.is_Rational and not isinstance(node, sp.logic.boolalg.BooleanAtom):
                return False
        elif node.is_Pow:
            if not node.args[1].is_Integer:
                return False
        elif not (node.is_Add or node.is_Mul or isinstance(node, (sp.Max, sp.Min, sp.Abs, sp.Piecewise))
                  or isinstance(node, (sp.Rel, sp.And, sp.Or, sp.Not, sp.core.containers.Tuple))
                  or type(node).__name__ == "ExprCondPair"):
            return False
    return True


def exact_value(expr: sp.Expr, q: Fraction) -> Fraction:
    """The exact value of ``expr`` at the rational ``q``.

    Raises:
        NotExact: the value is not a rational number (or division by zero).
    """

    def ev(node: sp.Expr) -> Fraction:
        if node == t_symbol():
            return q
        if node.is_Rational:
            return Fraction(int(node.p), int(node.q))
        if node.is_Add:
            return sum((ev(a) for a in node.args), Fraction(0))
        if node.is_Mul:
            out = Fraction(1)
            for a in node.args:
                out *= ev(a)
            return out
        if node.is_Pow and node.args[1].is_Integer:
            b = ev(node.args[0])
            k = int(node.args[1])
            if b == 0 and k < 0:
                raise NotExact(f"division by zero in {expr} at t = {q}")
            return b**k
        if isinstance(node, sp.Max):
            return max(ev(a) for a in node.args)
        if isinstance(node, sp.Min):
            return min(ev(a) for a in node.args)
        if isinstance(node, sp.Abs):
            return abs(ev(node.args[0]))
        if isinstance(node, sp.Piecewise):
            for value, cond in node.args:
                if _cond_exact(cond, ev):
                    return ev(value)
            raise NotExact(f"no branch of {node} applies at t = {q}")
        # Anything else (exp, tanh, sqrt of a constant...): let sympy decide
        # whether the value at this rational point is itself rational.
        value = node.subs(t_symbol(), sp.Rational(q.numerator, q.denominator))
        if value.is_Float:  # a binary float is a rational, but never guess one (nsimplify rounds)
            m, e = value._mpf_[1] * (-1) ** value._mpf_[0], value._mpf_[2]
            value = sp.Integer(m) * sp.Integer(2) ** e
        if value.is_Rational:
            return Fraction(int(value.p), int(value.q))
        raise NotExact(f"{node} at t = {q} is {value}, not a rational number")

    return ev(expr)


def _cond_exact(cond: Any, ev: Callable) -> bool:
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.And):
        return all(_cond_exact(c, ev) for c in cond.args)
    if isinstance(cond, sp.Or):
        return any(_cond_exact(c, ev) for c in cond.args)
    a, b = ev(cond.lhs), ev(cond.rhs)
    return {sp.StrictGreaterThan: a > b, sp.GreaterThan: a >= b, sp.StrictLessThan: a < b,
            sp.LessThan: a <= b, sp.Eq: a == b, sp.Ne: a != b}[type(cond)]


# ---------------------------------------------------------------- intervals
def to_interval(value: Any) -> Any:
    """An mpmath interval holding ``value`` (Fraction, int, float, str, sympy number, interval)."""
    with _iv_precision():
        if isinstance(value, iv.mpf):
            return value
        if isinstance(value, tuple):
            return iv.mpf([to_interval(value[0]).a, to_interval(value[1]).b])
        if isinstance(value, Fraction):
            return iv.mpf(value.numerator) / iv.mpf(value.denominator)
        if isinstance(value, (int, float)):
            return iv.mpf(value)
        if isinstance(value, sp.Rational):
            return iv.mpf(int(value.p)) / iv.mpf(int(value.q))
        if isinstance(value, sp.Expr):
            return interval_value(value, iv.mpf(0))
        return iv.mpf(value)


@contextlib.contextmanager
def _iv_precision() -> Iterator[None]:
    old = iv.prec
    iv.prec = INTERVAL_PREC
    try:
        yield
    finally:
        iv.prec = old


def _widen(lo: Any, hi: Any) -> Any:
    """An interval from two mp values computed to ~1 ulp, widened outward safely."""
    eps = mpmath.mpf(2) ** (-(INTERVAL_PREC - 16))
    tiny = mpmath.mpf(2) ** (-(INTERVAL_PREC * 8))
    lo = lo - abs(lo) * eps - tiny
    hi = hi + abs(hi) * eps + tiny
    return iv.mpf([lo, hi])


def _clamp(v: Any, lo: Any, hi: Any) -> Any:
    """``v`` intersected with the function's known range ``[lo, hi]`` (widening must not leave it)."""
    return iv.mpf([max(v.a, lo), min(v.b, hi)])


def _monotone(f: Callable, x: Any, increasing: bool = True) -> Any:
    with mp.workprec(INTERVAL_PREC + 32):  # widen at this precision too: at mpmath's default 53 bits the
        a, b = f(mpmath.mpf(x.a)), f(mpmath.mpf(x.b))  # endpoints would be rounded to doubles, possibly inward
        return _widen(a, b) if increasing else _widen(b, a)


def _iv_const(node: sp.Expr) -> Any:
    """The interval of a constant leaf, or None when ``node`` is not one."""
    if node.is_Rational:
        return iv.mpf(int(node.p)) / iv.mpf(int(node.q))
    if node is sp.pi:
        return iv.pi
    if node is sp.E:
        return iv.e
    if node.is_Float:  # its exact binary value, not its printed decimal
        return iv.mpf(mpmath.mpf(node._mpf_))
    return None


def _iv_fold(node: sp.Expr, ev: Callable, expr: sp.Expr) -> Any:
    out = ev(node.args[0])
    for a in node.args[1:]:
        out = out + ev(a) if node.is_Add else out * ev(a)
    return out


def _iv_pow(node: sp.Expr, ev: Callable, expr: sp.Expr) -> Any:
    base, e = node.args
    b = ev(base)
    if e.is_Integer:
        k = int(e)
        if k < 0:
            if b.a <= 0 <= b.b:
                raise NotExact(f"division by an interval containing 0 in {expr}")
            return iv.mpf(1) / (b ** (-k))
        return b**k
    if e == sp.Rational(1, 2):
        if b.a < 0:
            raise NotExact(f"square root of a negative interval in {expr}")
        return iv.sqrt(b)
    if b.a <= 0:
        raise NotExact(f"power of a non-positive base in {expr}")
    return iv.exp(ev(e) * iv.log(b))


def _iv_extremum(node: sp.Expr, ev: Callable, expr: sp.Expr) -> Any:
    vals = [ev(a) for a in node.args]
    pick = max if isinstance(node, sp.Max) else min
    return iv.mpf([pick(v.a for v in vals), pick(v.b for v in vals)])


def _iv_abs(node: sp.Expr, ev: Callable, expr: sp.Expr) -> Any:
    v = ev(node.args[0])
    if v.a >= 0:
        return v
    if v.b <= 0:
        return -v
    return iv.mpf([0, max(-v.a, v.b)])


def _iv_piecewise(node: sp.Expr, ev: Callable, expr: sp.Expr) -> Any:
    hull = None
    for value, cond in node.args:
        truth = _cond_interval(cond, ev)
        if truth is False:
            continue
        v = ev(value)
        hull = v if hull is None else iv.mpf([min(hull.a, v.a), max(hull.b, v.b)])
        if truth is True:
            return hull
    if hull is None:
        raise NotExact(f"no branch of {node} applies")
    return hull


def _iv_cosh(v: Any) -> Any:
    if v.a >= 0:
        return _clamp(_monotone(mpmath.cosh, v), 1, mpmath.inf)
    if v.b <= 0:
        return _clamp(_monotone(mpmath.cosh, v, increasing=False), 1, mpmath.inf)
    top = _monotone(mpmath.cosh, iv.mpf([0, max(-v.a, v.b)]))
    return iv.mpf([1, top.b])


def _iv_unary(node: sp.Expr, ev: Callable, expr: sp.Expr) -> Any:
    name = _unary()[node.func]
    v = ev(node.args[0])
    if name == "log":
        if v.a <= 0:
            raise NotExact(f"log of an interval reaching 0 in {expr}")
        return iv.log(v)
    if name in ("exp", "sin", "cos"):
        return getattr(iv, name)(v)
    if name in ("tanh", "erf"):
        return _clamp(_monotone(getattr(mpmath, name), v), -1, 1)
    if name == "sinh":
        return _monotone(mpmath.sinh, v)
    return _iv_cosh(v)


#: (test, rule) pairs tried in order after ``t`` and constants.
_IV_RULES: tuple[tuple[Callable[[sp.Expr], bool], Callable[[sp.Expr, Callable, sp.Expr], Any]], ...] = (
    (lambda n: bool(n.is_Add or n.is_Mul), _iv_fold),
    (lambda n: bool(n.is_Pow), _iv_pow),
    (lambda n: isinstance(n, (sp.Max, sp.Min)), _iv_extremum),
    (lambda n: isinstance(n, sp.Abs), _iv_abs),
    (lambda n: isinstance(n, sp.Piecewise), _iv_piecewise),
    (lambda n: n.func in _unary(), _iv_unary),
)


def interval_value(expr: sp.Expr, x: Any) -> Any:
    """An interval enclosing ``expr(t)`` for every ``t`` in the interval ``x``."""

    def ev(node: sp.Expr) -> Any:
        if node == t_symbol():
            return x
        c = _iv_const(node)
        if c is not None:
            return c
        for test, rule in _IV_RULES:
            if test(node):
                return rule(node, ev, expr)
        raise NotExact(f"cannot evaluate {node} in interval arithmetic")

    with _iv_precision():
        return ev(expr)


def _cond_interval(cond: Any, ev: Callable) -> bool | None:
    """True / False when the condition holds / fails on the whole interval, else None."""
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, (sp.And, sp.Or)):
        vals = [_cond_interval(c, ev) for c in cond.args]
        if isinstance(cond, sp.And):
            return False if False in vals else (True if all(v is True for v in vals) else None)
        return True if True in vals else (False if all(v is False for v in vals) else None)
    d = ev(cond.lhs) - ev(cond.rhs)
    if isinstance(cond, sp.StrictGreaterThan):
        return True if d.a > 0 else (False if d.b <= 0 else None)
    if isinstance(cond, sp.GreaterThan):
        return True if d.a >= 0 else (False if d.b < 0 else None)
    if isinstance(cond, sp.StrictLessThan):
        return True if d.b < 0 else (False if d.a >= 0 else None)
    if isinstance(cond, sp.LessThan):
        return True if d.b <= 0 else (False if d.a > 0 else None)
    return None
