"""Piecewise-linear activations, decided from the sympy expression, exactly.

A continuous piecewise-linear ``s: R -> R`` is stored as its knots
``k_1 < ... < k_p`` (rationals), its values ``s(k_i)`` and the slopes left of
``k_1`` and right of ``k_p`` (with no knot: ``s(t) = a t + c``). Everything is
an exact rational: a :class:`fractions.Fraction` as derived from the expression, or python-flint's ``fmpq``
as read from a certificate (:meth:`PLFunction.from_json`); floats are derived for the LP search only.

The one PL form of the project: the verifier (``checkers/verify``), the certificate re-checkers
(``counterexamples/certificate.py``, ``certificate_l2.py``) and the exact kernel
(:mod:`latentcheck.theorems.exact_net`) all use it.

Exact means exact: coefficients and values are taken from sympy only when they
are ``Rational`` (after exact simplification), never through ``nsimplify``
(which snaps ``13421773/134217728``, float32's 0.1, to ``1/10``) or a float.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import sympy as sp

from flint import fmpq

from .activations import Activation, get_activation
from .expr import T

__all__ = ["PLFunction", "piecewise_linear", "NotPiecewiseLinear", "as_fmpq"]


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


@dataclass(frozen=True)
class PLFunction:
    """A continuous piecewise-linear function in exact rationals.

    Attributes:
        knots: breakpoints, increasing.
        values: ``s(knot)`` for each knot.
        slope_left: slope on ``(-inf, knots[0]]`` (or the only slope).
        slope_right: slope on ``[knots[-1], inf)``.
        offset: ``s(0)`` when there is no knot (``s = slope * t + offset``).
    """

    knots: tuple[Fraction, ...]
    values: tuple[Fraction, ...]
    slope_left: Fraction
    slope_right: Fraction
    offset: Fraction = Fraction(0)

    @classmethod
    def from_json(cls, d: dict, number: Callable[[Any], Any] = Fraction) -> "PLFunction":
        """The form :meth:`to_json` writes (exact strings), its numbers built by ``number`` (``Fraction``, or
        :func:`as_fmpq` for python-flint's ``fmpq``)."""
        return cls(tuple(number(k) for k in d["knots"]), tuple(number(v) for v in d["values"]),
                   number(d["slope_left"]), number(d["slope_right"]), number(d.get("offset", "0")))

    # ------------------------------------------------------------- exact
    def __call__(self, t: Any) -> Any:
        """``s(t)`` exactly, in the number type of ``t`` and the knots (``Fraction`` or ``fmpq``)."""
        if isinstance(t, (float, str)):
            t = Fraction(t)
        if not self.knots:
            return self.slope_left * t + self.offset
        if t <= self.knots[0]:
            return self.values[0] + self.slope_left * (t - self.knots[0])
        if t >= self.knots[-1]:
            return self.values[-1] + self.slope_right * (t - self.knots[-1])
        for i in range(len(self.knots) - 1):
            a, b = self.knots[i], self.knots[i + 1]
            if a <= t <= b:
                va, vb = self.values[i], self.values[i + 1]
                return va + (vb - va) * (t - a) / (b - a)
        raise AssertionError("unreachable")

    @property
    def positively_homogeneous(self) -> bool:
        """``s(l t) = l s(t)`` for ``l > 0``: knots only at 0 and ``s(0) = 0``."""
        if not self.knots:
            return self.offset == 0
        return len(self.knots) == 1 and self.knots[0] == 0 and self.values[0] == 0

    def to_json(self) -> dict[str, Any]:
        return {"knots": [str(k) for k in self.knots], "values": [str(v) for v in self.values],
                "slope_left": str(self.slope_left), "slope_right": str(self.slope_right), "offset": str(self.offset)}

    # ------------------------------------------------------------- float
    def numpy(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        if not self.knots:
            return float(self.slope_left) * t + float(self.offset)
        ks = [float(k) for k in self.knots]
        vs = [float(v) for v in self.values]
        out = np.interp(t, ks, vs)
        out = np.where(t < ks[0], vs[0] + float(self.slope_left) * (t - ks[0]), out)
        return np.where(t > ks[-1], vs[-1] + float(self.slope_right) * (t - ks[-1]), out)

    # ------------------------------------------------------------- on an interval
    def points(self, lo: Fraction | None, hi: Fraction | None) -> list[Fraction]:
        """Finite endpoints and the knots strictly inside ``(lo, hi)`` (``None`` = infinite)."""
        pts = [] if lo is None else [lo]
        pts += [k for k in self.knots if (lo is None or k > lo) and (hi is None or k < hi)]
        if hi is not None and (lo is None or hi > lo):
            pts.append(hi)
        return pts

    def slope_at(self, side: str) -> Fraction:
        return self.slope_left if side == "left" else self.slope_right

    def line_valid(self, a: Fraction, c: Fraction, sense: str, lo: Fraction | None, hi: Fraction | None) -> bool:
        """Whether ``s(t) >= a t + c`` (sense ``ge``) or ``<=`` (``le``) for all ``t`` in ``[lo, hi]``."""
        sign = 1 if sense == "ge" else -1
        pts = self.points(lo, hi)
        if not pts:
            pts = [0]  # an int: exact with Fraction and fmpq knots alike
        for p in pts:
            if sign * (self(p) - (a * p + c)) < 0:
                return False
        if lo is None and sign * (self.slope_left - a) > 0:  # going left, s - line grows by -(slope - a)
            return False
        if hi is None and sign * (self.slope_right - a) < 0:
            return False
        return True

    def hull_lines(self, lo: Fraction | None, hi: Fraction | None) -> list[tuple[Fraction, Fraction, str]]:
        """Lines ``h >= a t + c`` (``ge``) and ``h <= a t + c`` (``le``) valid on ``[lo, hi]``;
        together with ``lo <= t <= hi`` they give the convex hull of the graph.

        On a bounded interval the lines are the edges of the hull of the points ``(p, s(p))``, ``p`` the ends
        and the knots inside (lower edges ``ge``, upper edges ``le``; Andrew's monotone chain, exact). Elsewhere
        every valid chord between those points, and the end slopes."""
        if lo is not None and hi is not None and hi > lo:
            fast = self._hull_by_pieces(lo, hi)
            if fast is not None:
                return fast
            pts = [(p, self(p)) for p in self.points(lo, hi)]
            out: list[tuple[Fraction, Fraction, str]] = []
            for sense, sign in (("ge", 1), ("le", -1)):
                chain: list[tuple[Fraction, Fraction]] = []
                for q in pts:
                    while len(chain) >= 2 and sign * _cross(chain[-2], chain[-1], q) <= 0:
                        chain.pop()
                    chain.append(q)
                for (x1, y1), (x2, y2) in zip(chain, chain[1:]):
                    a = (y2 - y1) / (x2 - x1)
                    out.append((a, y1 - a * x1, sense))
            return out
        return self._hull_lines_general(lo, hi)

    @functools.cached_property
    def _pieces(self) -> tuple[tuple[Fraction, Fraction], ...]:
        """``(a, c)`` with ``s(t) = a t + c`` on each piece, left to right (one piece without knots)."""
        if not self.knots:
            return ((self.slope_left, self.offset),)
        ks, vs = self.knots, self.values
        slopes = [self.slope_left] + [(vs[i + 1] - vs[i]) / (ks[i + 1] - ks[i]) for i in range(len(ks) - 1)]
        slopes.append(self.slope_right)
        anchors = list(zip(ks, vs)) + [(ks[-1], vs[-1])]
        return tuple((a, v - a * k) for a, (k, v) in zip(slopes, anchors))

    def _hull_by_pieces(self, lo: Fraction, hi: Fraction) -> list[tuple[Fraction, Fraction, str]] | None:
        """The hull's lines when ``s`` is convex or concave on ``[lo, hi]``: its pieces on one side, the chord
        on the other (``None`` when it is neither, e.g. hard_tanh across both knots)."""
        i = sum(1 for k in self.knots if k <= lo)  # the piece at lo (a knot at lo starts the next piece)
        j = sum(1 for k in self.knots if k < hi)  # the piece at hi
        pieces = self._pieces[i:j + 1]
        slopes = [a for a, _c in pieces]
        if len(pieces) == 1:
            a, c = pieces[0]
            return [(a, c, "ge"), (a, c, "le")]
        convex = all(x < y for x, y in zip(slopes, slopes[1:]))
        if not convex and not all(x > y for x, y in zip(slopes, slopes[1:])):
            return None
        a0, c0 = pieces[0]
        a1, c1 = pieces[-1]
        ylo, yhi = a0 * lo + c0, a1 * hi + c1
        ch = (yhi - ylo) / (hi - lo)
        chord = (ch, ylo - ch * lo)
        side, other = ("ge", "le") if convex else ("le", "ge")
        return [(a, c, side) for a, c in pieces] + [(chord[0], chord[1], other)]

    def _hull_lines_general(self, lo: Fraction | None, hi: Fraction | None) -> list[tuple[Fraction, Fraction, str]]:
        pts = self.points(lo, hi)
        cands: list[tuple[Fraction, Fraction]] = []
        for i in range(len(pts)):
            for j in range(i + 1, len(pts)):
                a = (self(pts[j]) - self(pts[i])) / (pts[j] - pts[i])
                cands.append((a, self(pts[i]) - a * pts[i]))
        if pts and lo is None:
            a = self.slope_left
            cands.append((a, self(pts[0]) - a * pts[0]))
        if pts and hi is None:
            a = self.slope_right
            cands.append((a, self(pts[-1]) - a * pts[-1]))
        if not pts:
            cands.append((self.slope_left, self.offset))
        if len(pts) == 1 and lo is not None and hi is not None:
            cands.append((Fraction(0), self(pts[0])))
        out: list[tuple[Fraction, Fraction, str]] = []
        for a, c in cands:
            for sense in ("ge", "le"):
                if (a, c, sense) not in out and self.line_valid(a, c, sense, lo, hi):
                    out.append((a, c, sense))
        return out

    def range_on(self, lo: Fraction | None, hi: Fraction | None) -> tuple[Fraction | None, Fraction | None]:
        """``(min, max)`` of ``s`` on ``[lo, hi]`` (``None`` = unbounded)."""
        pts = self.points(lo, hi)
        vals = [self(p) for p in pts]
        low = min(vals) if vals else None
        high = max(vals) if vals else None
        for side, end in (("left", lo), ("right", hi)):
            if end is None:
                s = self.slope_at(side) * (-1 if side == "left" else 1)
                if s < 0 or (not vals and s != 0):
                    low = None
                if s > 0 or (not vals and s != 0):
                    high = None
        if not vals and self.slope_left == 0:
            low = high = self.offset
        return low, high

    value_range = range_on  # the name the certificate re-checker and the bound tightening use


def as_fmpq(v: Any) -> fmpq:
    """An exact rational as python-flint's ``fmpq`` (from int, ``"p"`` / ``"p/q"`` strings, Fraction, exact float)."""
    if isinstance(v, fmpq):
        return v
    if isinstance(v, int):
        return fmpq(v)
    if isinstance(v, str) and v.count("/") <= 1:  # the integers read directly (the same value as Fraction(v))
        num, _, den = v.partition("/")
        try:
            return fmpq(int(num), int(den) if den else 1)
        except ValueError:
            pass
    if isinstance(v, float):
        return fmpq(*v.as_integer_ratio())
    q = v if isinstance(v, Fraction) else Fraction(v)
    return fmpq(q.numerator, q.denominator)


def _cross(o: tuple, a: tuple, b: tuple) -> Fraction:
    """``(a - o) x (b - o)``: positive for a left turn."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _linear_coeffs(expr: sp.Expr) -> tuple[Fraction, Fraction]:
    poly = sp.Poly(sp.expand(expr), T)
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
        if piece.free_symbols - {T}:
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
        v = expr.subs(T, sp.Rational(q.numerator, q.denominator))
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
    if not act.expr.has(T):
        raise NotPiecewiseLinear(f"{act.name} is constant; P3 is decided by its value")
    try:
        return _from_expr(act.expr)
    except NotPiecewiseLinear:
        raise
    except Exception as exc:  # sympy could not reduce it: not provably piecewise linear
        raise NotPiecewiseLinear(f"{act.name}: {type(exc).__name__}: {exc}") from None
