"""Vectorised exact re-checks: the decisions of ``latentcheck.theorems.check_zero`` / ``check_flip``, in milliseconds.

``latentcheck.theorems`` decides a candidate one rational at a time (a ``Fraction`` per
input entry, a Python sum per latent row). That is the reference, and for a
1682-dimensional triple it takes a few hundred milliseconds. This module
reaches the same decisions, with the same labels, from (an interval margin
is a ball's lower end here, an mpmath interval's there: both rounded down)

* :class:`QVec`: an exact rational vector kept sparse as Python-int
  numerators over one common denominator (no ``Fraction`` per entry);
* exact affine maps ``W x + b`` by the exact kernel (:mod:`latentcheck.theorems.exact_net`): ``W``
  is ``K * 2**e`` with integer ``K`` (built once per layer), and ``K`` times the
  numerators of ``x`` is one python-flint ``fmpz_mat`` product. No float
  rounding occurs anywhere;
* the latent activation evaluated exactly (rational activations) or in
  python-flint's ``arb`` ball arithmetic at ``BALL_PREC`` bits: the expression
  tree is compiled once (:func:`latentcheck.theorems.balls.compile_ball`); an
  expression it does not handle keeps mpmath's ``Activation.interval``.

Whatever is outside these cases (a transcendental hidden activation) returns ``None`` and the caller falls back to ``latentcheck.theorems``. Nothing here is a float
approximation: a decision is exact, or interval-certified, or not made.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from ..theorems.balls import Unsupported, ball_from_interval, ball_of, ball_precision, compile_ball, contains_zero, lower_mpf, upper_mpf
from ..theorems.encoder import exact_activation_value
from ..theorems.errors import NotExact
from ..theorems.exact_arrays import exact_number, exact_scalars, fits_float64
from ..theorems.exact_net import trailing_zeros
from ..theorems.properties import PointCheck, dot, lower_decimal

__all__ = ["QVec", "as_qvec", "exact_affine_fast", "exact_pre_fast", "check_zero_fast", "check_flip_fast",
           "ball_fn", "domain_contains"]


# ------------------------------------------------------------------ exact vectors
class QVec:
    """An exact rational vector: ``x[idx[k]] = num[k] / den``, zero elsewhere.

    Canonical: ``idx`` ascending, every ``num`` nonzero, ``den`` the least
    common denominator of the entries in lowest terms (so equal vectors have
    equal ``key()``).
    """

    __slots__ = ("n", "idx", "num", "den")

    def __init__(self, n: int, idx: np.ndarray, num: list[int], den: int) -> None:
        self.n = int(n)
        self.idx = idx
        self.num = num
        self.den = int(den)

    # ------------------------------------------------------------- building
    @classmethod
    def from_fractions(cls, values: Sequence[Any]) -> "QVec":
        idx: list[int] = []
        qs: list[Fraction] = []
        for i, v in enumerate(values):
            if v:
                q = v if type(v) is Fraction else Fraction(v) if not isinstance(v, np.generic) else _exact_number(v)
                if q:
                    idx.append(i)
                    qs.append(q)
        den = 1
        for q in qs:
            d = q.denominator
            if d != 1 and den % d:
                den = den * d // math.gcd(den, d)
        num = [q.numerator * (den // q.denominator) for q in qs]
        return cls(len(values), np.asarray(idx, dtype=np.int64), num, den)

    @classmethod
    def from_float(cls, values: np.ndarray) -> "QVec":
        """The exact value of a float array (every finite float is a dyadic rational; wider dtypes are read exactly)."""

        raw = np.asarray(values)
        if not fits_float64(raw):
            return cls.from_fractions(exact_scalars(raw).ravel().tolist())
        x = np.asarray(raw, dtype=np.float64).ravel()
        if not np.all(np.isfinite(x)):
            raise ValueError("a vector with NaN or infinite entries has no exact value")
        idx = np.flatnonzero(x)
        if idx.size == 0:
            return cls(x.size, idx.astype(np.int64), [], 1)
        mant, expo = np.frexp(x[idx])
        M = (mant * 9007199254740992.0).astype(np.int64)  # * 2**53, exact
        tz = trailing_zeros(M)
        M = M >> tz
        E = expo.astype(np.int64) - 53 + tz  # value = M * 2**E, M odd
        emin = int(E.min())
        den_exp = max(0, -emin)
        shifts = (E + den_exp).tolist()
        num = [m << s if s else m for m, s in zip(M.tolist(), shifts)]
        return cls(x.size, idx.astype(np.int64), num, 1 << den_exp)

    # ------------------------------------------------------------- views
    @property
    def nnz(self) -> int:
        return len(self.num)

    @property
    def is_zero(self) -> bool:
        return not self.num

    def key(self) -> tuple:
        return (self.n, self.idx.tobytes(), tuple(self.num), self.den)

    def fractions(self) -> list[Fraction]:
        out = [Fraction(0)] * self.n
        for i, a in zip(self.idx.tolist(), self.num):
            out[i] = Fraction(a, self.den)
        return out

    def floats(self) -> np.ndarray:
        out = np.zeros(self.n)
        if self.num:
            out[self.idx] = [_int_div_float(a, self.den) for a in self.num]
        return out

    def strings(self) -> tuple[str, ...]:
        """Every entry as an exact string (``"0"``, ``"-3"``, ``"5/8"``), dense."""
        out = ["0"] * self.n
        d = self.den
        for i, a in zip(self.idx.tolist(), self.num):
            if d == 1:
                out[i] = str(a)
            else:
                g = math.gcd(a, d)
                out[i] = str(a // g) if g == d else f"{a // g}/{d // g}"
        return tuple(out)

    def dot(self, other: "QVec") -> Fraction:
        if not self.num or not other.num:
            return Fraction(0)
        common, ia, ib = np.intersect1d(self.idx, other.idx, assume_unique=True, return_indices=True)
        acc = 0
        for a, b in zip(ia.tolist(), ib.tolist()):
            acc += self.num[a] * other.num[b]
        return Fraction(acc, self.den * other.den)

    def __repr__(self) -> str:
        return f"QVec(n={self.n}, nnz={self.nnz}, den_bits={self.den.bit_length()})"


def _exact_number(v: Any) -> Fraction:

    return exact_number(v)


def _int_div_float(a: int, b: int) -> float:
    try:
        return a / b
    except OverflowError:
        return float(Fraction(a, b))


def as_qvec(v: Any) -> QVec:
    """A :class:`QVec` from a QVec, a float array, or a sequence of rationals (ints, Fractions, strings)."""
    if isinstance(v, QVec):
        return v
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return QVec.from_float(v)
    return QVec.from_fractions(list(v))


def domain_contains(domain: Any, q: QVec) -> bool:
    """Exact membership, as the domain object decides it (its sparse test on ``q``'s support when it has one)."""
    sparse = getattr(domain, "contains_sparse", None)
    if sparse is None:
        return bool(domain.contains(q.fractions()))
    return bool(sparse(q.num, q.den, q))


# ------------------------------------------------------------------ exact affine maps
def exact_affine_fast(layer: Any, q: QVec) -> list[Fraction]:
    """Exact ``W x + b`` (a ``Fraction`` per output): the exact kernel's one integer matrix-vector product
    (:meth:`latentcheck.theorems.exact_net.ExactLayer.affine_sparse`; a sparse ``x`` multiplies only the
    columns it touches)."""
    return layer.kernel.affine_sparse(q.idx, q.num, q.den)


class _Memo:
    """Per-check memo of activation values (one computation per distinct rational)."""

    def __init__(self, act: Any) -> None:
        self.act = act
        self.exact: dict[Fraction, Any] = {}
        self.balls: dict[tuple[int, int], Any] = {}
        self.ballfn = ball_fn(act)

    def exact_value(self, p: Fraction) -> Fraction:
        """``act.exact(p)``; re-raises ``NotExact`` (memoised too)."""
        try:
            v = self.exact[p]
        except KeyError:
            try:
                v = self.act.exact(p)
            except Exception as exc:  # NotExact and friends: remember and re-raise
                v = exc
            self.exact[p] = v
        if isinstance(v, Exception):
            raise v
        return v

    def ball(self, p: Fraction) -> Any:
        """A ball (``flint.arb``) containing ``act(p)``; call under :func:`latentcheck.theorems.balls.ball_precision`."""
        key = (p.numerator, p.denominator)  # hashing two ints is cheaper than Fraction.__hash__
        try:
            return self.balls[key]
        except KeyError:
            v = self.balls[key] = self.ballfn(p)
            return v


def exact_pre_fast(encoder: Any, q: QVec) -> list[Fraction] | None:
    """Exact latent pre-activations (body must be exact), as ``Encoder.exact_pre_activations``; ``None`` to fall back."""
    if q.n != encoder.n:
        return None
    h = q
    for layer in encoder.layers[:-1]:
        if not layer.activation.is_exact:
            return None
        pre = exact_affine_fast(layer, h)
        memo = _Memo(layer.activation)
        h = QVec.from_fractions([memo.exact_value(p) for p in pre])
    return exact_affine_fast(encoder.layers[-1], h)


# ------------------------------------------------------------------ activations in ball arithmetic
_BALLFN: dict[Any, Callable[[Fraction], Any]] = {}


def ball_fn(act: Any) -> Callable[[Fraction], Any]:
    """``p -> a ball containing act(p)``: the expression compiled once into python-flint ``arb`` operations
    (:func:`latentcheck.theorems.balls.compile_ball`); an expression the compiler does not handle keeps mpmath's
    ``act.interval``, its enclosure turned into a ball. Call under ``ball_precision()``."""

    key = act.expr
    fn = _BALLFN.get(key)
    if fn is None:
        try:
            body = compile_ball(act.expr)
            fn = lambda p: body(ball_of(p))  # noqa: E731
        except Unsupported:
            from ..theorems.lower import to_interval

            fn = lambda p: ball_from_interval(act.interval(to_interval(p)))  # noqa: E731
        _BALLFN[key] = fn
    return fn


# ------------------------------------------------------------------ the checks
def check_zero_fast(encoder: Any, q: QVec) -> Any:
    """:func:`latentcheck.theorems.check_zero` for an encoder with an exact body, from a :class:`QVec`; ``None`` to fall back."""

    if q.is_zero:
        return PointCheck(False, "exact", "x is the zero vector, which P3 does not constrain")
    if not encoder.body_is_exact():
        return None
    pre = exact_pre_fast(encoder, q)
    if pre is None:
        return None
    with ball_precision():
        nonzero, how, undecided = _first_nonzero(encoder.activation, pre)
    if nonzero is not None:
        return PointCheck(False, how, f"latent coordinate {nonzero} is nonzero")
    if not undecided:
        return PointCheck(True, "exact", "every latent coordinate is exactly 0 (pre-activations computed in rationals, s evaluated exactly)", "0")
    return PointCheck(None, "none", f"latent coordinates {undecided[:5]} could not be decided exactly")


def _first_nonzero(act: Any, pre: list[Fraction]) -> tuple[int | None, str, list[int]]:
    """``(i, how, undecided)``: the first latent coordinate certified nonzero (exactly, or by a ball that
    excludes 0) and how; else ``None`` and the coordinates neither exactly 0 nor certified nonzero.
    theorems decides s(p) exactly when it can, else by an interval; both are rigorous, so the order
    here (the ball first for a transcendental s) reaches the same verdict."""

    memo = _Memo(act)
    undecided: list[int] = []
    for i, p in enumerate(pre):
        if act.is_exact:
            try:
                if memo.exact_value(p) != 0:
                    return i, "exact", undecided
                continue
            except NotExact:
                pass
            if not contains_zero(memo.ball(p)):
                return i, "exact", undecided
            undecided.append(i)
            continue
        if not contains_zero(memo.ball(p)):
            return i, "interval", undecided
        exact_val = exact_activation_value(act, p)  # guarded: float-free expressions, value inside its own enclosure
        if exact_val is None:
            undecided.append(i)
        elif exact_val != 0:
            return i, "interval", undecided
    return None, "", undecided


def _ball_dot_diff(ex: list, eu: list, ev: list) -> Any:
    """A ball containing ``<ex, eu> - <ex, ev>`` (summed as ``sum ex_i (eu_i - ev_i)``)."""
    from flint import arb

    acc = arb(0)
    for a, b, c in zip(ex, eu, ev):
        acc += a * (b - c)
    return acc


def check_flip_fast(encoder: Any, qx: QVec, qu: QVec, qv: QVec) -> Any:
    """:func:`latentcheck.theorems.check_flip` for an encoder with an exact body, from :class:`QVec` s; ``None`` to fall back."""

    lhs, rhs = qx.dot(qu), qx.dot(qv)
    if lhs > rhs:
        return PointCheck(False, "exact", f"premise fails: <x,u> = {lhs} > <x,v> = {rhs}")
    if not encoder.body_is_exact():
        return None
    pres = [exact_pre_fast(encoder, q) for q in (qx, qu, qv)]
    if any(p is None for p in pres):
        return None
    memo = _Memo(encoder.activation)
    if encoder.is_exact:
        ex, eu, ev = ([memo.exact_value(p) for p in pre] for pre in pres)
        diff = dot(ex, eu) - dot(ex, ev)
        if diff > 0:
            return PointCheck(True, "exact", f"<x,u> - <x,v> = {lhs - rhs} <= 0 but <enc x,enc u> - <enc x,enc v> = {diff} > 0 (exact rationals)", str(diff))
        return PointCheck(False, "exact", f"<enc x,enc u> - <enc x,enc v> = {diff} <= 0")
    with ball_precision():
        diff = _ball_dot_diff(*([memo.ball(p) for p in pre] for pre in pres))
        if diff > 0:
            try:
                lo, hi = lower_mpf(diff), upper_mpf(diff)
            except NotExact:  # an end beyond 2**(2**20): the reference check prints it
                return None
            return PointCheck(True, "interval", f"<x,u> - <x,v> = {lhs - rhs} <= 0 (exact) but <enc x,enc u> - <enc x,enc v> lies in [{lo}, {hi}] > 0 (interval arithmetic)", lower_decimal(lo))
        if diff <= 0:
            return PointCheck(False, "interval", "the latent difference is certified <= 0")
    return None  # undecided by balls alone: theorems' check resolves exact activation values where it can
