"""Smooth activations, rigorously: small-value windows and linear bounds, each proved with arb balls.

Two objects, both with exact rational data and a proof by ball arithmetic
(python-flint's ``arb``, :mod:`latentcheck.theorems.balls`):

* :func:`small_window`: for ``eps > 0`` the set ``{t : |s(t)| < eps}`` of a
  catalog activation ``s`` lies inside the open interval ``(A, C)`` (the
  *outer* window, rational ends, ``None`` for an infinite end) and, for
  activations increasing on the whole line, contains ``(a, c)`` (the *inner*
  window). The proof: ``s(C) >= eps`` as a ball and ``s`` increasing on
  ``[C, inf)`` (so every ``t >= C`` has ``s(t) >= eps``); likewise
  ``s(A) <= -eps`` with ``s`` increasing on the whole line. Monotonicity is a
  fact of the catalog (:data:`SMOOTH`): tanh, sigmoid, softplus and elu
  increase on the whole line; gelu and silu on ``[0, inf)`` only (they dip
  below 0 for ``t < 0`` and return to 0 as ``t -> -inf``), so their outer
  window is ``(-inf, C)`` with ``C > 0``.
* :func:`linear_bounds`: on ``[l, u]`` a lower line and an upper line
  ``a t + c`` (rational ``a``, ``c``) with ``lower(t) <= s(t) <= upper(t)``
  for every ``t`` in ``[l, u]``. Both have the secant's slope; the offsets
  come from a float scan of the gap ``s(t) - secant(t)`` widened by a margin,
  so for an activation convex on ``[l, u]`` the upper line is the secant and
  the lower one the tangent parallel to it (concave: the other way round; an
  interval across the inflection point gets the two parallel supporting
  lines). Validity is *proved*: ``[l, u]`` is bisected until on every piece
  the mean-value enclosure ``g(m) + g'(piece) (piece - m)`` of the gap
  ``g = s - line`` (or ``line - s``) is ``>= 0`` as a ball. A piece that stays
  undecided after the budget gives ``None`` (no relaxation: the caller says
  unknown). :func:`line_valid` is that proof on its own (a too-tight line is
  rejected).

Nothing here imports a solver; flint and sympy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable

from flint import arb, fmpq

from .activations import get_activation
from .balls import Unsupported, ball_precision, compile_ball, exact_bounds
from .errors import InvalidArgument, NotExact
from .symbols import sp, t_symbol

__all__ = ["SMOOTH", "SmoothFacts", "Window", "small_window", "Line", "linear_bounds", "line_valid",
           "smooth_facts", "is_smooth", "ball_value", "abs_upper"]

#: Working precision (bits) of the proofs.
PREC = 128


@dataclass(frozen=True)
class SmoothFacts:
    """What the proofs assume about a catalog activation (textbook calculus, stated once).

    Attributes:
        increasing_from: ``s`` is strictly increasing on ``[increasing_from, inf)``; ``None``: on the whole line.
        inf: ``inf s`` over the line (``None``: ``-inf``); sup: ``sup s`` (``None``: ``+inf``).
    """

    increasing_from: Fraction | None
    inf: Fraction | None
    sup: Fraction | None


#: Catalog activations handled here. tanh, sigmoid, softplus: derivative > 0; elu (alpha 1): derivative 1 or
#: exp(t) > 0; gelu' = Phi(t) + t phi(t) > 0 and silu' = s(t)(1 + t(1 - s(t))) > 0 for t >= 0.
SMOOTH: dict[str, SmoothFacts] = {
    "tanh": SmoothFacts(None, Fraction(-1), Fraction(1)),
    "sigmoid": SmoothFacts(None, Fraction(0), Fraction(1)),
    "softplus": SmoothFacts(None, Fraction(0), None),
    "elu": SmoothFacts(None, Fraction(-1), None),
    "gelu": SmoothFacts(Fraction(0), None, None),
    "silu": SmoothFacts(Fraction(0), None, None),
}


def is_smooth(activation: Any) -> bool:
    """Whether ``activation`` (a name or an :class:`~latentcheck.theorems.activations.Activation`) is one of
    :data:`SMOOTH`: the catalogue's name *and* its expression. The proofs evaluate the name's formula, so an
    Activation built with the name ``tanh`` and another expression is not tanh here."""
    name = getattr(activation, "name", activation)
    return (isinstance(name, str) and name in SMOOTH
            and getattr(activation, "expr", None) in (None, get_activation(name).expr))


def smooth_facts(activation: Any) -> SmoothFacts:
    """The facts for a catalog activation (checked to be the catalog's expression, not a look-alike name).

    Raises:
        InvalidArgument: not one of :data:`SMOOTH` (with the list).
    """
    name = getattr(activation, "name", activation)
    if not is_smooth(activation):
        raise InvalidArgument(f"activation {str(name)[:60]!r} is not one of the smooth activations handled "
                              f"({', '.join(SMOOTH)}); use one of them")
    return SMOOTH[name]


@lru_cache(maxsize=32)
def _fns(name: str) -> tuple[Callable, Callable | None]:
    expr = get_activation(name).expr
    if name == "elu":  # Max/Min differentiate to Heaviside; elu' = min(exp(t), 1) for alpha = 1
        return compile_ball(expr), compile_ball(sp.Min(sp.exp(t_symbol()), 1))
    try:
        return compile_ball(expr), compile_ball(sp.diff(expr, t_symbol()))
    except Unsupported:
        return compile_ball(expr), None


def _ball(q: Fraction) -> Any:
    return arb(fmpq(q.numerator, q.denominator))


def ball_value(name: str, t: Any) -> Any:
    """``s(t)`` as a ball (``t`` a Fraction or a ball), at :data:`PREC` bits."""
    with ball_precision(PREC):
        return _fns(name)[0](_ball(t) if isinstance(t, Fraction) else t)


def abs_upper(name: str, t: Any) -> Fraction:
    """An exact rational ``>= |s(t)|`` (``t`` a Fraction or a ball)."""
    lo, hi = exact_bounds(ball_value(name, t))
    return max(-lo, hi)


# ---------------------------------------------------------------- windows {t : |s(t)| < eps}
@dataclass(frozen=True)
class Window:
    """``inner <= {t : |s(t)| < eps} <= outer`` as open intervals; ``None`` ends are infinite.

    ``inner`` is ``None`` when no inner interval was proved (gelu, silu)."""

    eps: Fraction
    outer: tuple[Fraction | None, Fraction | None]
    inner: tuple[Fraction | None, Fraction | None] | None


def _ge(name: str, t: Fraction, v: Fraction) -> bool:
    """Proved: ``s(t) >= v``."""
    return exact_bounds(ball_value(name, t))[0] >= v


def _lt(name: str, t: Fraction, v: Fraction) -> bool:
    """Proved: ``s(t) < v``."""
    return exact_bounds(ball_value(name, t))[1] < v


def _crossing(name: str, level: Fraction, start: Fraction, step: int) -> tuple[Fraction, Fraction] | None:
    """``(below, above)`` with ``s(below) < level <= s(above)`` proved, ``above - below`` small; ``None``: not found.

    ``start`` has ``s(start) < level`` (``step = +1``: search upward) or ``s(start) >= level`` (``step = -1``)."""
    lo = hi = start
    width = Fraction(1)
    for _ in range(80):  # bracket: go out in doubling steps; an end moves only where its side is proved
        probe = start + step * width
        if step > 0 and _ge(name, probe, level):
            hi = probe
            break
        if step < 0 and _lt(name, probe, level):
            lo = probe
            break
        if step > 0 and _lt(name, probe, level):
            lo = probe
        elif step < 0 and _ge(name, probe, level):
            hi = probe
        width *= 2
    else:
        return None
    for _ in range(200):  # bisect on dyadic points, each side proved
        if hi - lo <= Fraction(1, 1 << 40) * max(1, abs(hi)):
            break
        mid = (lo + hi) / 2
        if _ge(name, mid, level):
            hi = mid
        elif _lt(name, mid, level):
            lo = mid
        else:
            break
    return lo, hi


def small_window(activation: Any, eps: Fraction) -> Window:
    """Proved enclosures of ``{t : |s(t)| < eps}`` (see the module docstring).

    Raises:
        InvalidArgument: ``eps <= 0`` or an activation outside :data:`SMOOTH`.
        NotExact: a crossing could not be located (an ``eps`` beyond what the precision resolves).
    """
    facts, name = smooth_facts(activation), getattr(activation, "name", activation)
    eps = Fraction(eps)
    if eps <= 0:
        raise InvalidArgument(f"eps={eps} must be > 0")
    upper = lower = None
    if facts.sup is None or eps < facts.sup:
        start = facts.increasing_from if facts.increasing_from is not None else Fraction(0)
        up = _crossing(name, eps, start, +1 if _lt(name, start, eps) else -1)
        if up is None or not _ge(name, up[1], eps):
            raise NotExact(f"could not locate where {name} reaches {eps}")
        upper = up
    if facts.increasing_from is None and facts.inf is not None and -eps > facts.inf:
        down = _crossing(name, -eps, Fraction(0), -1)
        if down is None:
            raise NotExact(f"could not locate where {name} reaches {-eps}")
        lower = down  # s(down[0]) < -eps <= s(down[1])
    outer = (None if lower is None else lower[0], None if upper is None else upper[1])
    inner = None
    if facts.increasing_from is None:  # strictly increasing: s(t) > s(below end) >= -eps inside, s(t) < eps
        inner = (None if lower is None else lower[1], None if upper is None else upper[0])
    return Window(eps, outer, inner)


# ---------------------------------------------------------------- linear bounds on [l, u]
@dataclass(frozen=True)
class Line:
    """The line ``t -> a t + c`` (exact rationals)."""

    a: Fraction
    c: Fraction


def _gap_nonneg(name: str, line: Line, sign: int, p: Fraction, q: Fraction) -> bool | None:
    """On ``[p, q]``: ``sign * (s(t) - line(t)) >= 0`` proved (True), refuted at a point (False), or undecided."""
    f, df = _fns(name)
    with ball_precision(PREC):
        a, c = _ball(line.a), _ball(line.c)
        m = _ball((p + q) / 2)
        gm = sign * (f(m) - a * m - c)
        if gm < 0:
            return False
        piece = _ball(p).union(_ball(q))
        if df is not None:
            slope = sign * (df(piece) - a)
            enc = gm + slope * (piece - m)
        else:
            enc = sign * (f(piece) - a * piece - c)
        return True if enc >= 0 else None


def line_valid(activation: Any, line: Line, l: Fraction, u: Fraction, lower: bool, budget: int = 20000) -> bool:
    """Proved: ``line <= s`` on ``[l, u]`` (``lower``) or ``line >= s``, by bisection into at most ``budget`` pieces.

    False: refuted at a point, or not proved within the budget (never a false True)."""
    name = getattr(activation, "name", activation)
    smooth_facts(activation)
    todo, pieces = [(Fraction(l), Fraction(u))], 0
    while todo:
        p, q = todo.pop()
        pieces += 1
        if pieces > budget:
            return False
        ok = _gap_nonneg(name, line, 1 if lower else -1, p, q)
        if ok is False:
            return False
        if ok is None:
            mid = (p + q) / 2
            todo += [(p, mid), (mid, q)]
    return True


def _dyadic(v: float, up: bool, bits: int = 40) -> Fraction:
    q = Fraction(v).limit_denominator(1 << bits)
    step = Fraction(1, 1 << bits)
    return q + step if up else q - step


def linear_bounds(activation: Any, l: Fraction, u: Fraction, margin: Fraction = Fraction(1, 1 << 30),
                  samples: int = 256) -> tuple[Line, Line] | None:
    """``(lower, upper)`` lines proved valid for ``s`` on ``[l, u]`` (``l < u``), or ``None`` when a proof failed."""
    name = getattr(activation, "name", activation)
    smooth_facts(activation)
    l, u = Fraction(l), Fraction(u)
    if not l < u:
        raise InvalidArgument(f"[l, u] = [{l}, {u}] must have l < u")
    sl, su = ball_value(name, l).mid(), ball_value(name, u).mid()
    a = _dyadic(float((su - sl) / arb(fmpq((u - l).numerator, (u - l).denominator))), up=False)
    gaps = []
    for i in range(samples + 1):
        t = l + (u - l) * i / samples
        gaps.append(float(ball_value(name, t).mid()) - float(a * t))
    scale = margin * (1 + Fraction(max(abs(g) for g in gaps)))
    low = Line(a, _dyadic(min(gaps), up=False) - scale)
    high = Line(a, _dyadic(max(gaps), up=True) + scale)
    for _ in range(6):  # the scan misses a narrow dip: widen and prove again
        if line_valid(name, low, l, u, lower=True):
            break
        low = Line(a, low.c - 4 * scale - Fraction(1, 1 << 20) * (u - l))
    else:
        return None
    for _ in range(6):
        if line_valid(name, high, l, u, lower=False):
            break
        high = Line(a, high.c + 4 * scale + Fraction(1, 1 << 20) * (u - l))
    else:
        return None
    return low, high
