"""Interval enclosures of a *float computation* of an activation, for zero-set certificates.

The float evaluators (:func:`latentcheck.theorems.lower.to_array_fn` in NumPy or
``jax.numpy``, and the ``jax.nn`` functions of the catalog) compute ``s(t)``
one rounded operation at a time. :func:`enclose` follows the same expression
tree, in the same order, over a whole range of float inputs and returns an
interval that holds every float result, so a range can be certified

* all zero: the enclosure of the final float value is ``[0, 0]``;
* all nonzero: the enclosure excludes 0 (NaN is never 0 either).

Model of one operation (``fmt`` = the dtype, RN = round to nearest even in
``fmt``, FTZ = flush a subnormal result to 0, only for XLA):

* ``+ - * /`` and ``sqrt`` are correctly rounded: ``RN(exact)``; ``max``,
  ``min``, ``abs``, negation are exact.
* an elementary function ``f`` (exp, log, tanh, pow, erf, ...) returns
  ``RN(f(x) * (1 + d))`` with ``|d| <= ULPS * 2**(1-p)``: a few ulps of
  relative error before the final rounding (``ULPS`` below).
* XLA flushes subnormal results to 0 and reads subnormal inputs as 0, but
  some of its operations pass a subnormal through (selects, bitwise
  ``abs``, ``tanh`` of a tiny argument, simplified-away ``x * 1``), so a
  value that may be subnormal is read both ways. XLA may also contract
  ``a*b + c`` into one fused operation, so a product is enclosed by the
  hull of its exact and rounded values.

RN and FTZ are monotone, so an interval of exact results maps to the
interval between the rounded endpoints. Overflow gives ``+-inf``; a possible
NaN (``inf - inf``, ``0 * inf``, ``sqrt`` of a negative) makes the range
undecided. The libm model is an assumption about the runtime, not a proof;
callers evaluate every float of the undecided boundary band directly and
cross-check certified ranges on a sample (see :mod:`latentcheck.checkers.float_vanishing`).
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import mpmath
import numpy as np
from mpmath import iv

from ..theorems.symbols import sp, t_symbol

__all__ = ["FloatFormat", "FORMATS", "Undecided", "NoModel", "enclose", "round_nearest", "model_functions", "Expm1", "Log1p",
           "Erfc", "FDiv", "ULPS"]

#: Relative error (in ulps, before the final rounding) allowed to each elementary function.
ULPS = 8
_PREC = 240


@dataclass(frozen=True)
class FloatFormat:
    """A binary IEEE format: ``p`` significand bits, normal exponents ``emin..emax``."""

    name: str
    p: int
    emin: int
    emax: int

    @functools.cached_property
    def max_finite(self) -> Any:
        return mpmath.ldexp(mpmath.mpf(2**self.p - 1), self.emax - self.p + 1)

    @functools.cached_property
    def min_normal(self) -> Any:
        return mpmath.ldexp(mpmath.mpf(1), self.emin)


FORMATS = {
    "float16": FloatFormat("float16", 11, -14, 15),
    "bfloat16": FloatFormat("bfloat16", 8, -126, 127),
    "float32": FloatFormat("float32", 24, -126, 127),
    "float64": FloatFormat("float64", 53, -1022, 1023),
}


class Undecided(Exception):
    """The enclosure cannot decide this range (possible NaN, unsupported node)."""


class NoModel(Undecided):
    """The expression has a node with no float model: no range can ever be decided."""


#: The library calls and the float division modelled as one operation (classes made by :func:`model_functions`).
_MODEL_FUNCTIONS = ("Expm1", "Log1p", "Erfc", "FDiv")


@functools.lru_cache(maxsize=None)
def model_functions() -> SimpleNamespace:
    """``Expm1``, ``Log1p``, ``Erfc`` and ``FDiv``: sympy function classes with no evaluation of their own, made
    once, on first use (sympy loads lazily: importing this module, and the command line, imports no sympy)."""

    class Expm1(sp.Function):
        """``exp(x) - 1`` as one library call (model only)."""

        nargs = 1

    class Log1p(sp.Function):
        """``log(1 + x)`` as one library call (model only)."""

        nargs = 1

    class Erfc(sp.Function):
        """``1 - erf(x)`` as one library call (model only)."""

        nargs = 1

    class FDiv(sp.Function):
        """A float division ``a / b`` (one correctly rounded operation; model only)."""

        nargs = 2

    made = (Expm1, Log1p, Erfc, FDiv)
    for cls in made:
        cls.__qualname__ = cls.__name__  # found as float_model.<name> (the module __getattr__ below)
    return SimpleNamespace(**{cls.__name__: cls for cls in made})


def __getattr__(name: str) -> Any:
    """The public names ``Expm1``, ``Log1p``, ``Erfc``, ``FDiv`` (PEP 562): :func:`model_functions`' classes."""
    if name in _MODEL_FUNCTIONS:
        return getattr(model_functions(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def round_nearest(x: Any, fmt: FloatFormat) -> Any:
    """``x`` (an mpf, possibly infinite) rounded to nearest-even in ``fmt``, with subnormals and overflow."""
    if not mpmath.isfinite(x) or x == 0:
        return x
    sign, man, exp, bc = x._mpf_
    top = exp + bc - 1  # binary exponent of the leading bit
    if top > fmt.emax + 1:
        return mpmath.inf if not sign else -mpmath.inf
    if top < fmt.emin - fmt.p - 1:
        return mpmath.mpf(0)
    quantum = max(top, fmt.emin) - (fmt.p - 1)
    if exp < quantum:
        shift = quantum - exp
        kept = man >> shift
        rest = man - (kept << shift)
        half = 1 << (shift - 1)
        if rest > half or (rest == half and kept & 1):
            kept += 1
        man, exp = kept, quantum
    value = mpmath.ldexp(mpmath.mpf(man), exp)
    if value > fmt.max_finite:
        value = mpmath.inf
    return -value if sign else value


def _lo(v: Any) -> Any:
    return mpmath.mpf(v._mpi_[0])


def _hi(v: Any) -> Any:
    return mpmath.mpf(v._mpi_[1])


def _flush(x: Any, fmt: FloatFormat) -> Any:
    return mpmath.mpf(0) if (mpmath.isfinite(x) and abs(x) < fmt.min_normal) else x


@dataclass(frozen=True)
class _Box:
    """Enclosures of one float value: ``post`` (the rounded value), ``wide`` (hull with the exact value).

    ``sub``: (XLA only) the value may be a nonzero subnormal that XLA passes
    through unflushed (a select, a bitwise ``abs``/``neg``, a simplified-away
    operation), so consumers must allow both the flushed and the raw reading.
    """

    post: Any
    wide: Any
    sub: bool = False


@contextlib.contextmanager
def _precision() -> Iterator[None]:
    old = iv.prec
    iv.prec = _PREC
    try:
        with mpmath.workprec(_PREC):
            yield
    finally:
        iv.prec = old


def _finite_or_undecided(v: Any) -> Any:
    if mpmath.isnan(_lo(v)) or mpmath.isnan(_hi(v)):
        raise Undecided("NaN in an enclosure")
    return v


class _Rounder:
    def __init__(self, fmt: FloatFormat, flush: bool) -> None:
        self.fmt, self.flush = fmt, flush

    def _may_be_subnormal(self, v: Any) -> bool:
        mn = self.fmt.min_normal
        return bool(self.flush and _lo(v) < mn and _hi(v) > -mn and not (_lo(v) == 0 and _hi(v) == 0))

    def box(self, exact: Any, ulps: int = 0, operands: tuple = (), fused: bool = False) -> _Box:
        """The box of an operation whose exact result lies in ``exact`` (widened by ``ulps`` if inexact)."""
        exact = _finite_or_undecided(exact)
        if ulps:
            rel = mpmath.mpf(ulps) * mpmath.ldexp(1, 1 - self.fmt.p)
            exact = exact * iv.mpf([1 - rel, 1 + rel])
            exact = _finite_or_undecided(exact)
        a, b = round_nearest(_lo(exact), self.fmt), round_nearest(_hi(exact), self.fmt)
        post = iv.mpf([a, b])
        sub = False
        if self.flush:
            flushed = iv.mpf([_flush(a, self.fmt), _flush(b, self.fmt)])
            if any(o.sub for o in operands):
                post = iv.mpf([min(a, _lo(flushed)), max(b, _hi(flushed))])
                sub = self._may_be_subnormal(post)
            else:
                post = flushed
        wide = post
        if self.flush and fused:  # XLA may fuse this product into the next add (FMA): keep the exact value too
            wide = iv.mpf([min(_lo(post), _lo(exact)), max(_hi(post), _hi(exact))])
        return _Box(post, wide, sub)

    def exact_op(self, v: Any, operands: tuple) -> _Box:
        """An exact operation (max, min, abs): its value, plus XLA's possible pass-through readings."""
        if self.flush and any(o.sub for o in operands):
            return _Box(v, v, self._may_be_subnormal(v))
        return _Box(v, v)

    def constant(self, value: float) -> _Box:
        c = mpmath.mpf(float(np.asarray(value, dtype=np.float64).astype(_np_dtype(self.fmt.name))))
        v = iv.mpf([c, c])
        if self.flush and c != 0 and abs(c) < self.fmt.min_normal:
            v = iv.mpf([min(c, 0), max(c, 0)])
            return _Box(v, v, True)
        return _Box(v, v)


def _np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def _no_nan_mul(a: Any, b: Any) -> Any:
    for x, y in ((a, b), (b, a)):
        if _lo(x) <= 0 <= _hi(x) and (mpmath.isinf(_lo(y)) or mpmath.isinf(_hi(y))):
            raise Undecided("0 * inf")
    return a * b


def _no_nan_add(a: Any, b: Any) -> Any:
    if (_hi(a) == mpmath.inf and _lo(b) == -mpmath.inf) or (_lo(a) == -mpmath.inf and _hi(b) == mpmath.inf):
        raise Undecided("inf - inf")
    return a + b


def _div(a: Any, b: Any) -> Any:
    if _lo(b) <= 0 <= _hi(b):
        raise Undecided("division by a range holding 0")
    if (mpmath.isinf(_lo(a)) or mpmath.isinf(_hi(a))) and (mpmath.isinf(_lo(b)) or mpmath.isinf(_hi(b))):
        raise Undecided("inf / inf")
    return a / b


def _monotone(f: Callable, v: Any, increasing: bool = True) -> Any:
    """Enclosure of a monotone ``f`` over ``v`` (endpoints at high precision, widened outward)."""
    fa, fb = f(_lo(v)), f(_hi(v))
    lo, hi = (fa, fb) if increasing else (fb, fa)
    eps = mpmath.ldexp(1, 40 - _PREC)
    tiny = mpmath.ldexp(1, -4 * _PREC - 20000)
    lo = lo - abs(lo) * eps - tiny if mpmath.isfinite(lo) else lo
    hi = hi + abs(hi) * eps + tiny if mpmath.isfinite(hi) else hi
    return iv.mpf([lo, hi])


def _exp(x: Any) -> Any:
    if x == -mpmath.inf:
        return mpmath.mpf(0)
    if x > mpmath.mpf(2) ** 40:
        return mpmath.inf  # far beyond any float format's range
    if x < -(mpmath.mpf(2) ** 40):
        return mpmath.ldexp(1, -(2**41))  # positive and below every format's half-subnormal
    return mpmath.exp(x)


def _cosh_box(v: Any) -> Any:
    if _lo(v) >= 0:
        return _monotone(lambda z: mpmath.cosh(z) if mpmath.isfinite(z) else mpmath.inf, v)
    if _hi(v) <= 0:
        return _monotone(lambda z: mpmath.cosh(z) if mpmath.isfinite(z) else mpmath.inf, v, increasing=False)
    top = max(-_lo(v), _hi(v))
    return iv.mpf([1, _hi(_monotone(lambda z: mpmath.cosh(z) if mpmath.isfinite(z) else mpmath.inf, iv.mpf([0, top])))])


def _guard_log(v: Any, shift: int = 0) -> Any:
    if _lo(v) + shift < 0:
        raise Undecided("log of a possibly negative value")
    return v


def _unary(name: str, v: Any) -> tuple[Any, int]:
    """(exact enclosure of f over v, ulps of the float implementation)."""
    finite = mpmath.isfinite(_lo(v)) and mpmath.isfinite(_hi(v))
    safe = lambda f, lim: (lambda z: f(z) if mpmath.isfinite(z) else (lim if z > 0 else -lim))  # noqa: E731
    if name == "exp":
        return _monotone(_exp, v), ULPS
    if name == "expm1":
        return _monotone(lambda z: _exp(z) - 1 if z > -(mpmath.mpf(2) ** 40) else mpmath.mpf(-1), v), ULPS
    if name == "log":
        _guard_log(v)
        return _monotone(lambda z: mpmath.log(z) if z > 0 else -mpmath.inf, v), ULPS
    if name == "log1p":
        _guard_log(v, 1)
        return _monotone(lambda z: mpmath.log1p(z) if z > -1 else -mpmath.inf, v), ULPS
    if name == "tanh":
        return _monotone(safe(mpmath.tanh, mpmath.mpf(1)), v), ULPS
    if name == "sinh":
        return _monotone(safe(mpmath.sinh, mpmath.inf), v), ULPS
    if name == "cosh":
        return _cosh_box(v), ULPS
    if name == "erf":
        return _monotone(safe(mpmath.erf, mpmath.mpf(1)), v), ULPS
    if name == "erfc":
        return _monotone(lambda z: mpmath.erfc(z) if mpmath.isfinite(z) else (mpmath.mpf(0) if z > 0 else mpmath.mpf(2)),
                         v, increasing=False), ULPS
    if name in ("sin", "cos"):
        if not finite or max(abs(_lo(v)), abs(_hi(v))) > 2**20:
            raise Undecided(f"{name} of a huge or infinite argument")
        return getattr(iv, name)(v), ULPS
    raise NoModel(f"no float model for {name}")


@functools.lru_cache(maxsize=None)
def _unary_names() -> dict[Any, str]:
    """The unary functions with a float model: sympy class -> name (built on first use: sympy loads lazily)."""
    f = model_functions()
    return {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh", sp.sin: "sin",
            sp.cos: "cos", sp.erf: "erf", f.Erfc: "erfc", f.Expm1: "expm1", f.Log1p: "log1p"}


class _Evaluator:
    def __init__(self, fmt: FloatFormat, flush: bool, t_box: _Box) -> None:
        self.r = _Rounder(fmt, flush)
        self.t_box = t_box

    def ev(self, node: sp.Expr) -> _Box:
        if node == t_symbol():
            return self.t_box
        if node.is_Number or node.is_NumberSymbol:
            return self.r.constant(float(node))
        if node.is_Add or node.is_Mul:
            op = _no_nan_add if node.is_Add else _no_nan_mul
            out = self.ev(node.args[0])
            for a in node.args[1:]:
                arg = self.ev(a)
                out = self.r.box(op(out.wide, arg.wide), 0, (out, arg), fused=node.is_Mul)
            return out
        if node.is_Pow:
            return self._pow(node)
        if isinstance(node, model_functions().FDiv):
            num, den = self.ev(node.args[0]), self.ev(node.args[1])
            return self.r.box(_div(num.wide, den.wide), 0, (num, den))
        if isinstance(node, (sp.Max, sp.Min)):
            boxes = tuple(self.ev(a) for a in node.args)
            pick = max if isinstance(node, sp.Max) else min
            v = iv.mpf([pick(_lo(x.post) for x in boxes), pick(_hi(x.post) for x in boxes)])
            return self.r.exact_op(v, boxes)
        if isinstance(node, sp.Abs):
            arg = self.ev(node.args[0])
            v = arg.post
            out = v if _lo(v) >= 0 else (-v if _hi(v) <= 0 else iv.mpf([0, max(-_lo(v), _hi(v))]))
            return self.r.exact_op(out, (arg, _Box(-v, -v, arg.sub)))
        if node.func in _unary_names():
            arg = self.ev(node.args[0])
            exact, ulps = _unary(_unary_names()[node.func], arg.wide)
            return self.r.box(exact, ulps, (arg,))
        raise NoModel(f"no float model for {type(node).__name__}")

    def _pow(self, node: sp.Expr) -> _Box:
        base, e = node.args
        if e == sp.Rational(1, 2):
            bb = self.ev(base)
            if _lo(bb.wide) < 0:
                raise Undecided("sqrt of a possibly negative value")
            return self.r.box(iv.sqrt(bb.wide), 0, (bb,))
        if e.is_Integer:
            k = int(e)
            b = self.ev(base)
            if k < 0:
                inner = self._int_pow(b, -k)
                one = self.r.constant(1.0)
                return self.r.box(_div(one.wide, inner.wide), 0, (inner,))
            return self._int_pow(b, k)
        if base.is_number:
            c = self.r.constant(float(sp.log(base)))
            eb = self.ev(e)
            scaled = self.r.box(_no_nan_mul(eb.wide, c.wide), 0, (eb, c))
            exact, ulps = _unary("exp", scaled.wide)
            return self.r.box(exact, ulps, (scaled,))
        bb, xb = self.ev(base), self.ev(e)
        b, x = bb.wide, xb.wide
        if _lo(b) < 0 or (_lo(b) <= 0 and _lo(x) <= 0):
            raise Undecided("pow near a non-positive base")
        logb, _ = _unary("log", b)
        exact, _ = _unary("exp", _no_nan_mul(x, logb))
        return self.r.box(exact, ULPS, (bb, xb))

    def _int_pow(self, b: _Box, k: int) -> _Box:
        if k == 1:
            return b
        v = b.wide
        if not (mpmath.isfinite(_lo(v)) and mpmath.isfinite(_hi(v))):
            if _lo(v) <= 0 <= _hi(v):
                raise Undecided("power of a range holding 0 and inf")
        exact = _finite_or_undecided(v**k)
        return self.r.box(exact, 0 if k == 2 else ULPS + 2 * k, (b,))


def enclose(expr: sp.Expr, lo: Any, hi: Any, fmt: FloatFormat, flush: bool) -> tuple[Any, Any]:
    """An interval ``(a, b)`` holding the float value of ``expr`` at every float input in ``[lo, hi]``.

    ``flush``: XLA semantics (subnormal inputs read as 0, subnormal results flushed to 0).

    Raises:
        Undecided: a NaN is possible or a node has no float model.
    """
    with _precision():
        lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
        sub = False
        if flush and lo < fmt.min_normal and hi > -fmt.min_normal:
            sub = not (lo == 0 and hi == 0)
            lo, hi = min(lo, mpmath.mpf(0)), max(hi, mpmath.mpf(0))
        t = iv.mpf([lo, hi])
        out = _Evaluator(fmt, flush, _Box(t, t, sub)).ev(expr).post
        return _lo(out), _hi(out)
