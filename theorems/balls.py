"""Rigorous ball arithmetic for activation expressions (python-flint's ``arb``), compiled once per expression.

An ``arb`` is a ball ``[mid +- rad]`` that FLINT's Arb library guarantees to contain
the exact result of every operation, including ``exp``, ``log``, ``tanh``, ``erf`` and
the other elementary functions (each rounded outward). This module turns a sympy
expression in ``t`` into a closure over such balls, walking the tree once:
:func:`compile_ball` (``t``, rationals, ``pi``, ``E``, binary floats, ``+ *``, powers,
``exp log tanh sinh cosh sin cos erf``, ``Abs Max Min Piecewise``). A node outside
that list raises :class:`Unsupported` so the caller can keep mpmath's
:func:`latentcheck.theorems.lower.interval_value` for that expression, whose
enclosures :func:`ball_from_interval` turns into balls.

Decisions on balls are conservative: ``b > 0`` / ``b < 0`` are true only when every
point of the ball is; a ball that contains 0 decides nothing; a ball is exactly
zero only when ``b.is_zero()`` (midpoint and radius 0). :func:`exact_bounds` gives a
ball's ends as exact rationals (outward), for margins (theory: docs/theory.md, P2, P3).
"""

from __future__ import annotations

import contextlib
import functools
from fractions import Fraction
from typing import Any, Callable, Iterator

from flint import arb, ctx, fmpq, fmpz

from .errors import NotExact
from .lower import INTERVAL_PREC
from .symbols import sp, t_symbol

__all__ = ["BALL_PREC", "Unsupported", "ball_precision", "ball_of", "compile_ball", "ball_from_interval",
           "exact_bounds", "contains_zero", "lower_mpf", "upper_mpf"]

#: Working precision (bits) of ball evaluation: the same as mpmath's interval evaluation.
BALL_PREC = INTERVAL_PREC

Ball = Any  # flint.arb
BallFn = Callable[[Ball], Ball]


class Unsupported(Exception):
    """The expression has a node the ball compiler does not handle (the caller keeps mpmath for it)."""


@contextlib.contextmanager
def ball_precision(prec: int = BALL_PREC) -> Iterator[None]:
    """Run ball arithmetic at ``prec`` bits (python-flint's precision is process-wide: restored on exit)."""
    old = ctx.prec
    ctx.prec = prec
    try:
        yield
    finally:
        ctx.prec = old


def ball_of(q: Fraction) -> Ball:
    """A ball that contains the rational ``q`` (exact when ``q`` is dyadic and fits the precision)."""
    return arb(fmpq(q.numerator, q.denominator)) if q.denominator != 1 else arb(fmpz(q.numerator))


def contains_zero(b: Ball) -> bool:
    """Whether the ball might contain 0 (then it decides no sign)."""
    return not (b > 0 or b < 0)


#: Bits: a ball end below ``2**-_TINY`` in magnitude is widened to that size, and one above ``2**_HUGE`` is
#: not turned into a Fraction, so exact bounds stay small numbers (``erf(10**5)`` has a radius near ``2**-10**10``).
_TINY, _HUGE = 1 << 16, 1 << 20


def _dyadic(a: Ball) -> tuple[Fraction, bool]:
    """``(value, tiny)``: the exact binary number ``a`` (rad 0), or ``(2**-_TINY, True)`` when ``|a|`` is below that."""
    man, exp = a.man_exp()
    man, exp = int(man), int(exp)
    if man == 0:
        return Fraction(0), False
    if exp + man.bit_length() <= -_TINY:
        return Fraction(1, 1 << _TINY), True
    if exp > _HUGE:
        raise NotExact(f"the ball {a} is too large to bound exactly")
    return (Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)), False


def exact_bounds(b: Ball) -> tuple[Fraction, Fraction]:
    """``(lo, hi)``: exact rationals with ``lo <= every point of b <= hi`` (``mid -+ rad``, rounded outward).

    Raises:
        NotExact: the ball is not finite, or an end is beyond ``2**(2**20)``.
    """
    if not b.is_finite():
        raise NotExact(f"the ball {b} is not finite")
    rad, _ = _dyadic(b.rad())  # a tiny radius is rounded up to 2**-_TINY
    mid, tiny = _dyadic(b.mid())
    if tiny:  # |mid| <= 2**-_TINY: widen to both sides
        return -mid - rad, mid + rad
    return mid - rad, mid + rad


def _mpf(q: Fraction, lower: bool) -> Any:
    """An mpmath number ``<= q`` (``lower``) or ``>= q``, exact when ``q`` is dyadic."""
    import mpmath
    from mpmath.libmp import from_rational, round_ceiling, round_floor

    raw = from_rational(q.numerator, q.denominator, max(64, 2 * BALL_PREC), round_floor if lower else round_ceiling)
    return mpmath.mp.make_mpf(raw)


def lower_mpf(b: Ball) -> Any:
    """The ball's lower end as an mpmath number (never above it): for ``properties.lower_decimal``."""
    return _mpf(exact_bounds(b)[0], lower=True)


def upper_mpf(b: Ball) -> Any:
    """The ball's upper end as an mpmath number (never below it)."""
    return _mpf(exact_bounds(b)[1], lower=False)


def ball_from_interval(v: Any) -> Ball:
    """The smallest ball this precision gives around an mpmath interval ``[a, b]`` (ends read exactly)."""
    from mpmath.libmp import finf, fnan, fninf

    lo, hi = v._mpi_
    if any(raw in (finf, fninf, fnan) for raw in (lo, hi)):
        return arb("0 +/- inf")
    return _exact_ball(lo).union(_exact_ball(hi))


def _exact_ball(raw: tuple) -> Ball:
    sign, man, exp, _ = raw
    m = arb(fmpz(-int(man) if sign else int(man)))
    return m * arb(2) ** int(exp) if exp else m


# ---------------------------------------------------------------- the compiler
def _const(node: sp.Expr) -> Ball | None:
    if node.is_Rational:
        return ball_of(Fraction(int(node.p), int(node.q)))
    if node is sp.pi:
        return arb.pi()
    if node is sp.E:
        return arb.const_e()
    if node.is_Float:  # its exact binary value, not its printed decimal
        return _exact_ball(node._mpf_)
    return None


def _fold(parts: list[BallFn], add: bool) -> BallFn:
    first, rest = parts[0], parts[1:]

    def run(x: Ball) -> Ball:
        out = first(x)
        for f in rest:
            out = out + f(x) if add else out * f(x)
        return out

    return run


def _int_pow(base: BallFn, k: int, expr: sp.Expr) -> BallFn:
    if k >= 0:
        return lambda x: base(x) ** k

    def negpow(x: Ball) -> Ball:
        b = base(x)
        if contains_zero(b):
            raise NotExact(f"division by an interval containing 0 in {expr}")
        return 1 / b ** (-k)

    return negpow


def _pow(node: sp.Expr, comp: Callable[[sp.Expr], BallFn], expr: sp.Expr) -> BallFn:
    base, e = node.args
    if e.is_Integer:
        return _int_pow(comp(base), int(e), expr)
    b, ef = comp(base), comp(e)
    if e == sp.Rational(1, 2):
        def sqrt(x: Ball) -> Ball:
            v = b(x)
            if not v >= 0:
                raise NotExact(f"square root of a negative interval in {expr}")
            return v.sqrt()
        return sqrt

    def power(x: Ball) -> Ball:
        v = b(x)
        if not v > 0:
            raise NotExact(f"power of a non-positive base in {expr}")
        return (ef(x) * v.log()).exp()

    return power


def _log(node: sp.Expr, comp: Callable[[sp.Expr], BallFn], expr: sp.Expr) -> BallFn:
    """``log(a)``; ``log(1 + y)`` as ``log1p(y)`` (tight where ``y`` is tiny: softplus far left)."""
    arg = node.args[0]
    rest = arg - 1 if arg.is_Add and sp.S.One in arg.args else None
    inner = comp(rest if rest is not None else arg)

    def log(x: Ball) -> Ball:
        v = inner(x)
        if not (v > -1 if rest is not None else v > 0):
            raise NotExact(f"log of an interval reaching 0 in {expr}")
        return v.log1p() if rest is not None else v.log()

    return log


@functools.lru_cache(maxsize=None)
def _unary_names() -> dict[Any, str]:
    """The unary sympy functions with an arb method: class -> method name (built on first use: sympy loads lazily)."""
    return {sp.exp: "exp", sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh", sp.sin: "sin", sp.cos: "cos",
            sp.erf: "erf"}


def _unary(node: sp.Expr, comp: Callable[[sp.Expr], BallFn], expr: sp.Expr) -> BallFn | None:
    if node.func is sp.log and len(node.args) == 1:
        return _log(node, comp, expr)
    name = _unary_names().get(node.func)
    if name is None:
        return None
    arg = comp(node.args[0])
    method = getattr(arb, name)
    return lambda x: method(arg(x))


def _extremum(node: sp.Expr, comp: Callable[[sp.Expr], BallFn]) -> BallFn:
    parts = [comp(a) for a in node.args]
    pick = arb.max if isinstance(node, sp.Max) else arb.min

    def run(x: Ball) -> Ball:
        out = parts[0](x)
        for f in parts[1:]:
            out = pick(out, f(x))
        return out

    return run


def _cond(cond: Any, comp: Callable[[sp.Expr], BallFn]) -> Callable[[Ball], bool | None]:
    """True / False when the condition holds / fails on the whole ball, else None."""
    if cond is sp.true or cond is sp.false:
        return lambda x, c=bool(cond): c
    if isinstance(cond, (sp.And, sp.Or)):
        subs = [_cond(c, comp) for c in cond.args]
        conj = isinstance(cond, sp.And)

        def logic(x: Ball) -> bool | None:
            vals = [s(x) for s in subs]
            if conj:
                return False if False in vals else (True if all(v is True for v in vals) else None)
            return True if True in vals else (False if all(v is False for v in vals) else None)

        return logic
    tests = {sp.StrictGreaterThan: (lambda d: d > 0, lambda d: d <= 0), sp.GreaterThan: (lambda d: d >= 0, lambda d: d < 0),
             sp.StrictLessThan: (lambda d: d < 0, lambda d: d >= 0), sp.LessThan: (lambda d: d <= 0, lambda d: d > 0)}
    if type(cond) not in tests:
        raise Unsupported(str(cond))
    yes, no = tests[type(cond)]
    lhs, rhs = comp(cond.lhs), comp(cond.rhs)

    def rel(x: Ball) -> bool | None:
        d = lhs(x) - rhs(x)
        return True if yes(d) else (False if no(d) else None)

    return rel


def _piecewise(node: sp.Expr, comp: Callable[[sp.Expr], BallFn], expr: sp.Expr) -> BallFn:
    branches = [(comp(value), _cond(cond, comp)) for value, cond in node.args]

    def run(x: Ball) -> Ball:
        hull = None
        for value, cond in branches:
            truth = cond(x)
            if truth is False:
                continue
            v = value(x)
            hull = v if hull is None else hull.union(v)
            if truth is True:
                return hull
        if hull is None:
            raise NotExact(f"no branch of {node} applies")
        return hull

    return run


def compile_ball(expr: sp.Expr) -> BallFn:
    """A function that maps a ball ``x`` to a ball containing ``expr(t)`` for every ``t`` in ``x``.

    Raises:
        Unsupported: a node outside the supported list (see the module docstring).
    Evaluation raises :class:`NotExact` where the expression is undefined on the ball (a
    division by a ball containing 0, the log of one reaching 0).
    """

    def comp(node: sp.Expr) -> BallFn:
        if node == t_symbol():
            return lambda x: x
        c = _const(node)
        if c is not None:
            return lambda x: c
        if node.is_Add and len(node.args) == 2 and sp.S.NegativeOne in node.args:  # exp(a) - 1 as expm1(a)
            other = node.args[1] if node.args[0] == sp.S.NegativeOne else node.args[0]
            if isinstance(other, sp.exp):
                arg = comp(other.args[0])
                return lambda x: arg(x).expm1()
        if node.is_Add or node.is_Mul:
            return _fold([comp(a) for a in node.args], add=bool(node.is_Add))
        if node.is_Pow:
            return _pow(node, comp, expr)
        if isinstance(node, (sp.Max, sp.Min)):
            return _extremum(node, comp)
        if isinstance(node, sp.Abs):
            arg = comp(node.args[0])
            return lambda x: abs(arg(x))
        if isinstance(node, sp.Piecewise):
            return _piecewise(node, comp, expr)
        fn = _unary(node, comp, expr)
        if fn is None:
            raise Unsupported(str(node))
        return fn

    with ball_precision():  # constants (pi, e, 1/3) are rounded at the working precision
        return comp(expr)
