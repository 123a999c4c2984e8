"""Decide the class of an activation from its mathematics, with a certificate.

Classes (THEORY.md):

* ``relu-like``: the zero set of ``s`` contains a half-line; certificate: sympy
  reduces ``s(a - u)`` (or ``s(a + u)``) to 0 for a symbol ``u >= 0``.
* ``tanh-like``: ``s`` has a real zero but no interval of zeros; certificate:
  an exact zero (checked by substitution) or a sign change certified in
  interval arithmetic on a continuous stretch, plus a proof that the zeros are
  isolated (a finite zero set from ``solveset``, or every analytic piece of
  ``s`` is nonzero at a certified point).
* ``vanishing``: zeros on a bounded interval but on no half-line (rare; T1
  still applies).
* ``non-vanishing``: ``s(t) != 0`` for every real ``t``; certificate: sympy's
  assumption system proves ``s > 0`` or ``s < 0`` (possibly after rewriting
  in ``exp``), or ``solveset`` proves there is no real zero.
* ``unknown``: none of the above could be established within the time limit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from mpmath import iv

from .activations import Activation, get_activation
from .errors import NotExact
from .lower import interval_value
from .symbols import sp, t_symbol
from .timeouts import Timeout as _Timeout
from .timeouts import check as _check_deadline
from .timeouts import time_limit as _time_limit

__all__ = ["Classification", "classify", "class_name", "RELU_LIKE", "TANH_LIKE", "NON_VANISHING", "VANISHING", "UNKNOWN"]

RELU_LIKE = "relu-like"
TANH_LIKE = "tanh-like"
VANISHING = "vanishing"
NON_VANISHING = "non-vanishing"
UNKNOWN = "unknown"


@functools.lru_cache(maxsize=None)
def _u_symbol() -> Any:
    """The half-line parameter ``u >= 0`` (built on first use: sympy loads lazily)."""
    return sp.Symbol("u", nonnegative=True)


@dataclass(frozen=True)
class Classification:
    """The class of an activation and why.

    Attributes:
        activation: the activation's name.
        cls: one of ``relu-like``, ``tanh-like``, ``vanishing``, ``non-vanishing``, ``unknown``.
        certificate: one sentence a person can re-check.
        method: short tag of the proof technique.
        zero: an exact real zero of ``s`` (sympy number), when one is known.
        zero_bracket: rationals ``(a, b)`` with a certified sign change, when no exact zero is known.
        half_line: ``("left", a)`` when ``s = 0`` on ``(-inf, a]``, ``("right", a)`` on ``[a, inf)``.
    """

    activation: str
    cls: str
    certificate: str
    method: str
    zero: Any = None
    zero_bracket: tuple[Fraction, Fraction] | None = None
    half_line: tuple[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def vanishing(self) -> bool:
        """True when ``s`` has a real zero (T1 applies)."""
        return self.cls in (RELU_LIKE, TANH_LIKE, VANISHING)

    def to_json(self) -> dict[str, Any]:
        return {
            "activation": self.activation,
            "class": self.cls,
            "certificate": self.certificate,
            "method": self.method,
            "zero": None if self.zero is None else str(self.zero),
            "zero_bracket": None if self.zero_bracket is None else [str(v) for v in self.zero_bracket],
            "half_line": None if self.half_line is None else [self.half_line[0], str(self.half_line[1])],
        }


def _grid() -> np.ndarray:
    lin = np.linspace(-64.0, 64.0, 1025)
    mags = np.logspace(-3, 3, 121)
    return np.unique(np.concatenate([lin, mags, -mags, [0.0]]))


def _is_zero(expr: sp.Expr) -> bool:
    if expr == 0:
        return True
    try:
        return sp.simplify(expr) == 0
    except Exception:
        return False


def _nonvanishing_proof(expr: sp.Expr) -> str | None:
    candidates = [("s", expr)]
    rewritten = expr.rewrite(sp.exp)
    if rewritten != expr:
        candidates.append(("s rewritten in exp", rewritten))
    candidates.append(("s simplified", None))
    for label, e in candidates:
        if e is None:
            e = sp.simplify(rewritten)
        if e.is_positive:
            return f"sympy's assumption system proves {label} > 0 for every real t ({e})"
        if e.is_negative:
            return f"sympy's assumption system proves {label} < 0 for every real t ({e})"
    return None


def _rational_guess(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


def _half_line(expr: sp.Expr, values: np.ndarray, grid: np.ndarray) -> tuple[str, Any, str] | None:
    zero = values == 0
    for side in ("left", "right"):
        run = zero if side == "left" else zero[::-1]
        pts = grid if side == "left" else grid[::-1]
        if not run[0]:
            continue
        k = int(np.argmin(run)) if not run.all() else len(run)
        boundary = pts[k - 1]
        cands: list[Fraction] = []
        for c in (_rational_guess(boundary), Fraction(int(np.floor(boundary)) if side == "left" else int(np.ceil(boundary)))):
            if c not in cands:
                cands.append(c)
        # A more conservative point well inside the run.
        inner = pts[max(0, k // 2)]
        cands.append(Fraction(int(np.floor(inner)) if side == "left" else int(np.ceil(inner))))
        for a in cands:
            a_sym = sp.Rational(a.numerator, a.denominator)
            shifted = expr.subs(t_symbol(), a_sym - _u_symbol() if side == "left" else a_sym + _u_symbol())
            if _is_zero(shifted):
                sign = "-" if side == "left" else "+"
                rng = f"t <= {a_sym}" if side == "left" else f"t >= {a_sym}"
                cert = f"s(t) = 0 for every {rng}: sympy reduces s({a_sym} {sign} u) to 0 for every u >= 0"
                return side, a_sym, cert
    return None


def _pieces(expr: sp.Expr) -> list[sp.Expr]:
    e = expr.rewrite(sp.Piecewise) if expr.has(sp.Max, sp.Min, sp.Abs) else expr
    e = sp.piecewise_fold(e)
    if isinstance(e, sp.Piecewise):
        return [piece for piece, _ in e.args]
    return [e]


def _isolated_zeros(expr: sp.Expr) -> str | None:
    """A certificate that the zero set of ``expr`` has no interval, or None."""
    pieces = _pieces(expr)
    witnesses = []
    for piece in pieces:
        if not piece.has(t_symbol()):
            if piece == 0:
                return None
            witnesses.append(f"{piece} (constant)")
            continue
        found = None
        for q in (Fraction(1, 3), Fraction(-2, 7), Fraction(5, 4), Fraction(-9, 4), Fraction(7, 2)):
            try:
                val = interval_value(piece, iv.mpf(q.numerator) / q.denominator)
            except NotExact:
                continue
            if val.a > 0 or val.b < 0:
                found = q
                break
        if found is None:
            return None
        witnesses.append(f"{piece} != 0 at t = {found}")
    return ("every analytic piece of s is nonzero somewhere (" + "; ".join(witnesses)
            + "), so its zeros are isolated")


def _sign_change(act: Activation, grid: np.ndarray, values: np.ndarray) -> tuple[Fraction, Fraction] | None:
    from sympy.calculus.util import continuous_domain

    signs = np.sign(values)
    for i in range(len(grid) - 1):
        if signs[i] * signs[i + 1] < 0 and np.isfinite(values[i]) and np.isfinite(values[i + 1]):
            a, b = Fraction(grid[i]), Fraction(grid[i + 1])
            try:
                va = interval_value(act.expr, iv.mpf(a.numerator) / a.denominator)
                vb = interval_value(act.expr, iv.mpf(b.numerator) / b.denominator)
            except NotExact:
                continue
            certified = (va.b < 0 < vb.a) or (vb.b < 0 < va.a)
            if not certified:
                continue
            interval = sp.Interval(sp.Rational(a.numerator, a.denominator), sp.Rational(b.numerator, b.denominator))
            try:
                dom = continuous_domain(act.expr, t_symbol(), interval)
            except Exception:
                continue
            if dom == interval:
                return a, b
    return None


def classify(activation: "str | Activation", timeout: float = 10.0) -> Classification:
    """Classify an activation (catalog name, expression text or :class:`Activation`).

    Example:
        >>> classify("relu").cls
        'relu-like'
        >>> classify("tanh(t) + 1").cls
        'non-vanishing'
    """
    act = get_activation(activation)
    expr = act.expr
    name = act.name
    try:
        with _time_limit(timeout):
            return _classify(act, expr, name)
    except _Timeout:
        _check_deadline()  # an enclosing deadline that has passed goes on up
        return Classification(name, UNKNOWN, f"no decision within {timeout:g} s", "timeout")


def _classify(act: Activation, expr: sp.Expr, name: str) -> Classification:
    if not expr.has(t_symbol()):
        if expr == 0:
            return Classification(name, RELU_LIKE, "s is identically 0", "constant", zero=sp.Integer(0),
                                  half_line=("left", sp.oo))
        return Classification(name, NON_VANISHING, f"s is the nonzero constant {expr}", "constant")

    proof = _nonvanishing_proof(expr)
    if proof:
        return Classification(name, NON_VANISHING, proof, "positivity")

    grid = _grid()
    values = act.numpy(grid.astype(np.float64))

    half = _half_line(expr, values, grid)
    if half is not None:
        side, a, cert = half
        return Classification(name, RELU_LIKE, cert, "half-line", zero=a, half_line=(side, a))

    zeros = None
    try:
        sol = sp.solveset(expr, t_symbol(), domain=sp.S.Reals)
    except Exception:
        sol = None
    if sol is sp.S.EmptySet:
        if not np.any(values == 0) and not np.any(np.diff(np.sign(values[np.isfinite(values)])) != 0):
            return Classification(name, NON_VANISHING, "sympy's solveset proves s(t) = 0 has no real solution",
                                  "solveset")
    elif isinstance(sol, sp.FiniteSet) and len(sol) > 0:
        zeros = sorted(sol, key=lambda z: (not z.is_Rational, sp.count_ops(z)))
        for z in zeros:
            if _is_zero(expr.subs(t_symbol(), z)):
                cert = f"s({z}) = 0 exactly (checked by substitution); solveset gives the finite zero set {sorted(sol, key=sp.default_sort_key)}, so no interval of zeros"
                return Classification(name, TANH_LIKE, cert, "exact-zero", zero=z)
    elif sol is not None and (isinstance(sol, sp.Interval) or (isinstance(sol, sp.Union) and any(isinstance(a, sp.Interval) for a in sol.args))):
        intervals = [sol] if isinstance(sol, sp.Interval) else [a for a in sol.args if isinstance(a, sp.Interval)]
        for itv in intervals:
            if itv.start == -sp.oo or itv.end == sp.oo:
                side = "left" if itv.start == -sp.oo else "right"
                a = itv.end if side == "left" else itv.start
                return Classification(name, RELU_LIKE, f"solveset gives the zero set {sol}, which contains a half-line",
                                      "solveset", zero=a, half_line=(side, a))
        itv = intervals[0]
        return Classification(name, VANISHING, f"solveset gives the zero set {sol}: an interval of zeros but no half-line",
                              "solveset", zero=itv.start)

    isolated = _isolated_zeros(expr)
    # An exact zero on the grid.
    for g in grid[values == 0]:
        q = Fraction(g)
        z = sp.Rational(q.numerator, q.denominator)
        if _is_zero(expr.subs(t_symbol(), z)):
            if isolated:
                return Classification(name, TANH_LIKE, f"s({z}) = 0 exactly (checked by substitution); {isolated}",
                                      "exact-zero", zero=z)
            return Classification(name, UNKNOWN, f"s({z}) = 0 exactly, but no proof that the zeros are isolated or form a half-line",
                                  "exact-zero", zero=z)
    bracket = _sign_change(act, grid, values)
    if bracket is not None:
        a, b = bracket
        cert = (f"s changes sign on [{a}, {b}] (endpoint values certified by interval arithmetic) and is "
                f"continuous there, so it has a zero in between")
        if isolated:
            return Classification(name, TANH_LIKE, f"{cert}; {isolated}", "sign-change", zero_bracket=bracket)
        return Classification(name, UNKNOWN, f"{cert}, but no proof that the zeros are isolated", "sign-change",
                              zero_bracket=bracket)
    return Classification(name, UNKNOWN, "no real zero found and no proof that s never vanishes", "none")


def class_name(name: str, timeout: float = 5.0) -> str:
    """The class of the activation called ``name`` (``classify(...).cls``), or ``"unknown"`` where it cannot be
    classified in ``timeout`` seconds: for reports where the class is informative only (the study's tables)."""
    try:
        return classify(get_activation(name), timeout=timeout).cls
    except Exception:  # classification is informative only
        return "unknown"

