"""The property base class, the registry, and the exact / interval decisions of P3 and P2 at a point.

A float search proposes a point; these functions decide, outside floating
point, whether it really violates the property:

* :func:`check_zero` decides whether ``enc(x) = 0`` for a nonzero rational ``x`` (P3).
* :func:`check_flip` decides whether ``(x, u, v)`` is an ordering flip (P2):
  ``<x,u> <= <x,v>`` exactly and ``<enc x, enc u> > <enc x, enc v>``.

Each returns a :class:`PointCheck` whose ``violates`` is ``True`` (certified
violation), ``False`` (certified non-violation) or ``None`` (undecided: the
interval enclosure was too wide). Values are exact wherever they can be derived
exactly (rational activations; any activation at a rational point where it has
an exact rational value, e.g. ``tanh(0) = 0``), intervals elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from mpmath import iv

from ..encoder import Encoder
from ..errors import NotExact
from ..lower import INTERVAL_PREC, to_interval
from ..exact_arrays import exact_number

__all__ = ["Property", "REGISTRY", "register", "get_property", "PointCheck", "check_zero", "check_flip", "dot",
           "lower_decimal", "floor_decimal", "interval_ends"]


@dataclass(frozen=True)
class PointCheck:
    """Outcome of an exact or interval check at one point.

    Attributes:
        violates: True (certified violation), False (certified non-violation), None (undecided).
        certified: ``"exact"`` or ``"interval"`` (how it was decided), or ``"none"``.
        detail: one sentence for people.
        margin: the violation's size as a string (exact rational, or an interval's lower bound).
    """

    violates: bool | None
    certified: str
    detail: str
    margin: str | None = None


def dot(a: Sequence[Any], b: Sequence[Any]) -> Any:
    """Exact (or interval) inner product."""
    acc: Any = 0
    for p, q in zip(a, b):
        acc = acc + p * q
    return acc


def _as_fractions(x: Sequence[Any]) -> list[Fraction]:

    return [exact_number(v) for v in x]


def check_zero(encoder: Encoder, x: Sequence[Any]) -> PointCheck:
    """Decide, outside floating point, whether ``x != 0`` and ``enc(x) = 0``."""
    xs = _as_fractions(x)
    if all(v == 0 for v in xs):
        return PointCheck(False, "exact", "x is the zero vector, which P3 does not constrain")
    vals = encoder.mixed(xs)
    exact_all = all(isinstance(v, Fraction) for v in vals)
    nonzero = [i for i, v in enumerate(vals) if (v != 0 if isinstance(v, Fraction) else (v.a > 0 or v.b < 0))]
    if nonzero:
        how = "exact" if isinstance(vals[nonzero[0]], Fraction) and exact_all else "interval"
        return PointCheck(False, how, f"latent coordinate {nonzero[0]} is nonzero")
    zero = [isinstance(v, Fraction) or (v.a == 0 and v.b == 0) for v in vals]
    if all(zero):
        if exact_all:
            return PointCheck(True, "exact", "every latent coordinate is exactly 0 (pre-activations computed in rationals, "
                                             "s evaluated exactly)", "0")
        return PointCheck(True, "interval", "every latent coordinate is exactly 0 (exact where derivable, else an "
                                            "enclosure equal to [0, 0])", "0")
    undecided = [i for i, z in enumerate(zero) if not z]
    return PointCheck(None, "none", f"latent coordinates {undecided[:5]} could not be decided exactly")


def check_flip(encoder: Encoder, x: Sequence[Any], u: Sequence[Any], v: Sequence[Any]) -> PointCheck:
    """Decide, outside floating point, whether ``(x, u, v)`` is an ordering flip."""
    xs, us, vs = _as_fractions(x), _as_fractions(u), _as_fractions(v)
    lhs, rhs = dot(xs, us), dot(xs, vs)
    if lhs > rhs:
        return PointCheck(False, "exact", f"premise fails: <x,u> = {lhs} > <x,v> = {rhs}")
    return latent_flip(encoder, xs, us, vs, f"<x,u> - <x,v> = {lhs - rhs} <= 0")


def latent_flip(encoder: Encoder, xs: list[Fraction], us: list[Fraction], vs: list[Fraction], premise: str) -> PointCheck:
    """Decide ``<enc x, enc u> > <enc x, enc v>`` outside floating point (the premise, described by ``premise``,
    already holds exactly)."""
    if encoder.is_exact:
        ex, eu, ev = encoder.exact(xs), encoder.exact(us), encoder.exact(vs)
    else:
        ex, eu, ev = encoder.mixed(xs), encoder.mixed(us), encoder.mixed(vs)
    if all(isinstance(a, Fraction) for vec in (ex, eu, ev) for a in vec):
        diff = dot(ex, eu) - dot(ex, ev)
        if diff > 0:
            return PointCheck(True, "exact", f"{premise} but <enc x,enc u> - <enc x,enc v> = {diff} > 0 (exact rationals)", str(diff))
        return PointCheck(False, "exact", f"<enc x,enc u> - <enc x,enc v> = {diff} <= 0")
    old = iv.prec
    iv.prec = INTERVAL_PREC
    try:
        ex, eu, ev = ([to_interval(a) for a in vec] for vec in (ex, eu, ev))
        diff = dot(ex, eu) - dot(ex, ev)
    finally:
        iv.prec = old
    if diff.a > 0:
        return PointCheck(True, "interval", f"{premise} (exact) but <enc x,enc u> - <enc x,enc v> lies in [{diff.a}, {diff.b}] > 0 (interval arithmetic)", lower_decimal(diff.a))
    if diff.b <= 0:
        return PointCheck(False, "interval", "the latent difference is certified <= 0")
    return PointCheck(None, "none", f"the latent difference's enclosure [{diff.a}, {diff.b}] contains 0")


def lower_decimal(value: Any, digits: int = 20) -> str:
    """A decimal string that is at most ``value`` (an mpmath interval end or mpf): rounded down, never up.

    A margin printed from an interval must not claim more than the enclosure proves.
    """
    import mpmath

    if hasattr(value, "_mpi_"):  # an interval (iv.mpf, its .a too): its raw lower end, never re-rounded
        raw = value._mpi_[0]
    elif hasattr(value, "_mpf_"):
        raw = value._mpf_
    else:
        raw = mpmath.mpf(value)._mpf_
    return floor_decimal(_raw_fraction(raw), digits)


def _raw_fraction(raw: tuple) -> Fraction:
    """The exact value of an mpmath raw ``(sign, man, exp, bc)`` tuple."""
    sign, man, exp, _ = raw  # mpmath keeps the sign apart from the mantissa
    return (-1) ** sign * Fraction(int(man)) * (Fraction(2) ** int(exp))


def interval_ends(value: Any) -> tuple[Fraction, Fraction]:
    """The exact rational ends ``(lo, hi)`` of an mpmath interval (a ``Fraction`` gives ``(value, value)``)."""
    if isinstance(value, Fraction):
        return value, value
    lo, hi = value._mpi_
    return _raw_fraction(lo), _raw_fraction(hi)


def floor_decimal(exact: Fraction, digits: int = 20) -> str:
    """A decimal string that is at most ``exact`` (rounded toward -inf, ``digits`` significant digits)."""
    import math

    if exact == 0:
        return "0"
    scale = digits - 1 - math.floor(math.log10(abs(float(exact)))) if math.isfinite(float(exact)) and float(exact) != 0 else digits
    q = math.floor(exact * Fraction(10) ** scale)  # floor: rounds toward -inf, so the string is <= value
    text = str(Fraction(q) / Fraction(10) ** scale) if scale > 0 else str(q * 10 ** (-scale))
    if "/" in text:
        sign = "-" if q < 0 else ""
        digits_text = str(abs(q)).rjust(scale + 1, "0")
        text = f"{sign}{digits_text[:-scale]}.{digits_text[-scale:]}".rstrip("0").rstrip(".")
    return text
