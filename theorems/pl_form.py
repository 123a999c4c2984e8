"""The piecewise-linear form of an activation, in exact rationals (the verifier's and re-checkers' one PL form).

A continuous piecewise-linear ``s: R -> R`` is stored as its knots
``k_1 < ... < k_p`` (rationals), its values ``s(k_i)`` and the slopes left of
``k_1`` and right of ``k_p`` (with no knot: ``s(t) = a t + c``). Everything is
an exact rational: a :class:`fractions.Fraction` (derived from an activation's expression by
:mod:`latentcheck.theorems.pl`, or the catalogue's table :mod:`latentcheck.theorems.pl_catalog`), or
python-flint's ``fmpq`` as read from a certificate (:meth:`PLFunction.from_json`); floats are derived for
the LP search only. This module imports no sympy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np
from flint import fmpq

__all__ = ["PLFunction", "as_fmpq"]


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

    @functools.cached_property
    def nondecreasing(self) -> bool:
        """Every piece's slope is ``>= 0`` (relu, leaky relu, relu6, hard tanh ...): then ``s`` is smallest at an
        interval's left end and largest at its right end."""
        if not self.knots:
            return self.slope_left >= 0
        return (self.slope_left >= 0 and self.slope_right >= 0
                and all(a <= b for a, b in zip(self.values, self.values[1:])))

    def range_on(self, lo: Fraction | None, hi: Fraction | None) -> tuple[Fraction | None, Fraction | None]:
        """``(min, max)`` of ``s`` on ``[lo, hi]`` (``None`` = unbounded)."""
        if lo is not None and hi is not None and lo <= hi and self.nondecreasing:
            return self(lo), self(hi)  # the general case below gives the same (its min and max of s at the points)
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
