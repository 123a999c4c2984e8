"""Certification for an encoder whose input is normalised: the function checked is ``enc(N(x))``.

``N`` is ``encoder.inputs.normalise`` (:class:`latentcheck.theorems.InputSemantics`):

* ``divide:K``: ``N(x) = x / K`` with ``K`` the exact rational of the text: ``N(x)`` is rational, and
  every check runs exactly at ``x / K``.
* ``l2``: ``N(x) = x / |x|_2`` (``N(0) = 0``, as ``F.normalize``). When ``|x|_2^2`` is the square of a
  rational, ``N(x)`` is rational and every check runs exactly there. Otherwise ``N(x)`` lies in
  ``Q(sqrt D)`` (``|x|^2 = p/q``, ``D = p q``):

  - P3, every activation positively homogeneous (``s(l t) = l s(t)`` for ``l > 0``, proved per activation
    with sympy: ``s(p) = p s(1)`` and ``s(-p) = p s(-1)`` for a positive symbol ``p``): every value of the
    network is ``a + c sqrt D`` with rational ``a, c`` and its sign is decided exactly, so ``enc(N(x)) = 0``
    is decided exactly (the argument of ``checkers/verify/l2.py`` for any rational ``x``);
  - P3 otherwise: interval arithmetic (mpmath) on an enclosure of ``N(x)``; certified (``interval``) when every
    latent pre-activation lies strictly inside the half-line where the latent activation is 0;
  - P2: the premise ``<N x, N u> <= <N x, N v>`` decided exactly (signs of ``a sqrt p - b sqrt q``), the latent
    flip ``<enc N x, enc N u> > <enc N x, enc N v>`` by intervals (``interval``);
  - anything else: ``undecided``.

P2 for a normalised encoder is P2 of ``enc`` on the normalised inputs (the order of ``<N x, N u>``), the order
``latentcheck audit`` measures on data. The witness recorded is always the domain point ``x``, never ``N(x)``.
Float labels (``float-only``) are not given here: only ``exact``, ``interval``, ``refuted`` or ``undecided``,
except for ``divide:K``, where the float computation is checked at ``x / K`` rounded to the dtype.
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import replace
from fractions import Fraction
from typing import Any, Optional, Sequence

from .fast import QVec, as_qvec, domain_contains
from .types import EXACT, INTERVAL, UNDECIDED
from ..theorems.encoder import Encoder
from ..theorems.inputs import InputSemantics, divide_factor
from ..theorems.classify import classify
from ..theorems.lower import to_interval
from ._certifier import certifier_for
from .certify import Certification, certify_p2, certify_p3, certify_raw, float_encode, xla_runtime
from .types import FLOAT_ONLY

__all__ = ["raw_encoder", "normalised_point", "certify_normalised", "l2_zero_exact", "positively_homogeneous"]

_RAW: "weakref.WeakKeyDictionary[Encoder, Encoder]" = weakref.WeakKeyDictionary()


def raw_encoder(encoder: Encoder) -> Encoder:
    """The same layers without input normalisation (cached: the layers, and their exact caches, are shared)."""
    if encoder.inputs.normalise == "none":
        return encoder
    raw = _RAW.get(encoder)
    if raw is None:
        raw = replace(encoder, inputs=replace(InputSemantics(), input_ids=encoder.inputs.input_ids,
                                              input_names=encoder.inputs.input_names))
        _RAW[encoder] = raw
    return raw


def _rational_sqrt(k: Fraction) -> Optional[Fraction]:
    """``sqrt(k)`` when it is rational, else ``None``."""
    p, q = k.numerator, k.denominator
    rp, rq = math.isqrt(p), math.isqrt(q)
    return Fraction(rp, rq) if rp * rp == p and rq * rq == q else None


def normalised_point(x: Sequence[Fraction], normalise: str) -> Optional[list[Fraction]]:
    """``N(x)`` exactly when it is rational (``divide:K`` always; ``l2`` when ``|x|^2`` is a rational square), else ``None``."""
    k = divide_factor(normalise)
    if k is not None:
        return [v / k for v in x]
    if normalise == "none":
        return list(x)
    sq = sum((v * v for v in x), Fraction(0))
    if sq == 0:
        return [Fraction(0)] * len(x)
    r = _rational_sqrt(sq)
    return None if r is None else [v / r for v in x]


# --------------------------------------------------------------------------- Q(sqrt D)
def _sign(a: Fraction, c: Fraction, d: int) -> int:
    """The exact sign of ``a + c sqrt(d)`` (``d > 0`` an integer, not a square)."""
    sa, sc = (a > 0) - (a < 0), (c > 0) - (c < 0)
    if sa == 0 or sc == 0 or sa == sc:
        return sa or sc
    if a * a == c * c * d:  # only when d is a square (never for the d built here): a + c sqrt(d) = 0
        return 0
    return sa if a * a > c * c * d else sc


@functools.lru_cache(maxsize=256)
def positively_homogeneous(act: Any) -> Optional[tuple[Fraction, Fraction]]:
    """``(slope left of 0, slope right of 0) = (-s(-1), s(1))`` when ``s(l t) = l s(t)`` for every ``l > 0`` is
    proved with sympy (so ``s(t) = t s(1)`` for ``t > 0`` and ``-t s(-1)`` for ``t < 0``), else ``None``."""
    import sympy as sp

    if not act.is_exact:
        return None
    free = sorted(act.expr.free_symbols, key=str)
    if len(free) != 1:
        return None
    t, p = free[0], sp.Symbol("p", positive=True)
    try:
        up, down = act.exact(Fraction(1)), act.exact(Fraction(-1))
        for sgn, val in ((1, up), (-1, down)):
            if sp.simplify(act.expr.subs(t, sgn * p) - p * sp.Rational(val.numerator, val.denominator)) != 0:
                return None
    except Exception:  # sympy could not decide: not proved
        return None
    return -down, up  # s(t) = -s(-1) t for t < 0: the slope left of 0 is -s(-1)


def l2_zero_exact(encoder: Encoder, x: Sequence[Fraction]) -> Optional[bool]:
    """Whether ``enc(x / |x|_2) = 0`` exactly, for a positively homogeneous encoder (``None`` when an activation
    is not proved positively homogeneous, or a weight is not exact)."""
    slopes = [positively_homogeneous(layer.activation) for layer in encoder.layers]
    if any(s is None for s in slopes):
        return None
    sq = sum((v * v for v in x), Fraction(0))
    if sq == 0:
        return None
    d = sq.numerator * sq.denominator  # |x| = sqrt(d) / q
    scale = Fraction(sq.denominator, d)  # 1/|x| = q / sqrt(d) = (q/d) sqrt(d)
    # values a + c sqrt(d): the input x/|x| has a = 0, c = x_i q/d
    a: list[Fraction] = [Fraction(0)] * len(x)
    c: list[Fraction] = [v * scale for v in x]
    for layer, (sl, sr) in zip(encoder.layers, slopes):
        na = layer.kernel.affine(a)  # the exact kernel: W a + b and W c
        nc = layer.kernel.linear(c)
        a, c = [], []
        for u, w in zip(na, nc):
            m = sr if _sign(u, w, d) >= 0 else sl
            a.append(m * u)
            c.append(m * w)
    return all(_sign(u, w, d) == 0 for u, w in zip(a, c))


# --------------------------------------------------------------------------- intervals
def _iv_point(x: Sequence[Fraction]) -> list[Any]:
    """Intervals enclosing ``x / |x|_2``."""
    from mpmath import iv


    sq = sum((v * v for v in x), Fraction(0))
    if sq == 0:
        return [to_interval(Fraction(0)) for _ in x]
    inv = 1 / iv.sqrt(to_interval(sq))
    return [to_interval(v) * inv if v else to_interval(Fraction(0)) for v in x]


def _iv_pre(encoder: Encoder, h: list[Any]) -> list[Any]:
    """Intervals enclosing the latent pre-activations at the interval input ``h``."""
    for layer in encoder.layers[:-1]:
        h = [layer.activation.interval(p) for p in layer.interval_affine(h)]
    return encoder.layers[-1].interval_affine(h)


def _half_line(act: Any) -> Optional[tuple[str, Fraction]]:
    """``('left', a)`` when ``s = 0`` on ``(-inf, a]``, ``('right', a)`` on ``[a, inf)`` (``a`` rational), else ``None``."""
    import sympy as sp


    hl = classify(act).half_line
    if hl is None or not isinstance(hl[1], sp.Rational):
        return None
    return hl[0], Fraction(int(hl[1].p), int(hl[1].q))


def _l2_zero_interval(encoder: Encoder, x: Sequence[Fraction]) -> tuple[Optional[bool], str]:
    hl = _half_line(encoder.activation)
    if hl is None:
        return None, "the latent activation has no rational half-line of zeros, and |x|_2 is irrational"

    side, a = hl
    pre = _iv_pre(encoder, _iv_point(x))
    A = to_interval(a)  # a point interval: p < A is True only when every point of p is below a
    inside = all((p < A) is True for p in pre) if side == "left" else all((p > A) is True for p in pre)
    if inside:
        return True, (f"every latent pre-activation at x/|x|_2 lies in an interval strictly {'below' if side == 'left' else 'above'} "
                      f"{a}, where the latent activation is 0 (interval arithmetic)")
    outside = any((p > A) is True for p in pre) if side == "left" else any((p < A) is True for p in pre)
    if outside:
        return False, "a latent pre-activation at x/|x|_2 lies outside the zero set (interval arithmetic)"
    return None, "the intervals at x/|x|_2 straddle the edge of the zero set"


# --------------------------------------------------------------------------- certification
def _cert(status: str, detail: str, margin: Optional[str] = None) -> Any:

    return Certification(status, None, None, detail, margin)


def certify_normalised(prop: Any, encoder: Encoder, vectors: Sequence[Sequence[Any]], *, domain: Any = None,
                       dtype: Optional[str] = "float32", **options: Any) -> Any:
    """Certify a candidate of ``prop`` for ``enc(N(x))`` (see the module docstring); the witness stays ``vectors``."""

    norm = encoder.inputs.normalise
    qs = [as_qvec(v) for v in vectors]
    if domain is not None and not all(domain_contains(domain, q) for q in qs):
        return _cert("outside", f"a witness vector is not in the domain {domain.label}")
    if prop.arity == 1 and qs[0].is_zero:
        return _cert("outside", "x is the zero vector, which P3 does not constrain")
    xs = [q.fractions() for q in qs]
    images = [normalised_point(x, norm) for x in xs]
    raw = raw_encoder(encoder)
    what = f"N = {norm}: the encoder sees " + ("x/|x|_2" if norm == "l2" else f"x/{divide_factor(norm)}")
    special = certifier_for(prop)  # P3's and P2's have exact forms at an irrational x/|x|_2
    if all(im is not None for im in images):
        opts = {k: v for k, v in options.items() if k != "move_to_dtype"}
        cert = certify_raw(prop, raw, [QVec.from_fractions(im) for im in images], domain=None,
                           dtype=dtype if norm != "l2" else None, **opts)
        cert = replace(cert, vectors=None, detail=f"{cert.detail} (at N(x); {what})")
    elif special is certify_p3:
        cert = _l2_zero(raw, xs[0], what)
    elif special is certify_p2:
        cert = _l2_flip(raw, xs, what)
    else:
        cert = _cert(UNDECIDED, f"{prop.id} at an irrational x/|x|_2 is not decided ({what})")
    if norm == "l2" and special is certify_p3 and dtype is not None and cert.status in ("refuted", UNDECIDED):
        return _l2_float_zero(encoder, qs[0], dtype, cert)
    return cert


def _l2_float_zero(encoder: Encoder, q: QVec, dtype: str, cert: Any) -> Any:
    """A P3 candidate whose real value is nonzero (or undecided) but whose float computation (``x/|x|_2`` in
    float64, then the encoder in ``dtype``) is exactly 0: ``float-only`` (a rounding hazard), or a reportable
    ``undecided``."""
    import numpy as np


    z = float_encode(encoder, q.floats()[None, :], dtype)[0]
    if not np.all(z == 0):
        return replace(cert, float_violates=False)
    rt = xla_runtime()
    if cert.status == UNDECIDED:
        return replace(cert, float_violates=True, runtime=rt,
                       detail=f"enc(x/|x|_2) is exactly 0 in {dtype} under {rt}; the real value could not be decided ({cert.detail})")
    return replace(cert, status=FLOAT_ONLY, float_violates=True, runtime=rt,
                   detail=f"enc(x/|x|_2) is exactly 0 in {dtype} under {rt} (x/|x|_2 in float64, rounded to {dtype}), but the "
                          f"real value is certified nonzero ({cert.detail})")


def _l2_zero(raw: Encoder, x: list[Fraction], what: str) -> Any:
    ok = l2_zero_exact(raw, x)
    if ok is True:
        return _cert(EXACT, f"enc(x/|x|_2) = 0 exactly: every value is a + c sqrt(D), its sign decided exactly "
                     f"(positively homogeneous activations; {what})", "0")
    if ok is False:
        return _cert("refuted", f"enc(x/|x|_2) != 0 (exact in Q(sqrt D); {what})")
    val, why = _l2_zero_interval(raw, x)
    if val is True:
        return _cert(INTERVAL, f"enc(x/|x|_2) = 0: {why} ({what})", "0")
    return _cert("refuted" if val is False else UNDECIDED, f"{why} ({what})")


def _premise_sign(x: list[Fraction], u: list[Fraction], v: list[Fraction]) -> int:
    """The exact sign of ``<N x, N u> - <N x, N v>`` (``N`` = l2, ``N(0) = 0``): of ``<x,u>|v| - <x,v>|u|``."""
    def dot(p: list[Fraction], q: list[Fraction]) -> Fraction:
        return sum((a * b for a, b in zip(p, q)), Fraction(0))

    a, b = dot(x, u), dot(x, v)
    ku, kv = dot(u, u), dot(v, v)
    a = a if ku else Fraction(0)
    b = b if kv else Fraction(0)
    # the sign of alpha - beta, alpha = a/sqrt(ku), beta = b/sqrt(kv) (a zero vector contributes 0)
    sa, sb = (a > 0) - (a < 0), (b > 0) - (b < 0)
    if sa != sb:
        return 1 if sa > sb else -1
    if sa == 0:
        return 0
    lhs, rhs = a * a * kv, b * b * ku  # |alpha| > |beta| iff a^2 kv > b^2 ku
    return ((lhs > rhs) - (lhs < rhs)) * sa


def _l2_flip(raw: Encoder, xs: list[list[Fraction]], what: str) -> Any:
    x, u, v = xs
    prem = _premise_sign(x, u, v)
    if prem > 0:
        return _cert("refuted", f"<N x, N u> > <N x, N v>: no premise ({what})")
    zx, zu, zv = (raw_latent_iv(raw, p) for p in (x, u, v))
    gap = sum((a * b for a, b in zip(zx, zu)), 0) - sum((a * b for a, b in zip(zx, zv)), 0)
    if gap.a > 0:
        return _cert(INTERVAL, f"<N x, N u> {'=' if prem == 0 else '<'} <N x, N v> (exact) but the latent score gap "
                     f"<enc N x, enc N u> - <enc N x, enc N v> lies in [{gap.a}, {gap.b}] > 0 (interval arithmetic; {what})",
                     str(gap.a))
    if gap.b <= 0:
        return _cert("refuted", f"no latent flip at the normalised inputs ({what})")
    return _cert(UNDECIDED, f"the latent score gap's interval contains 0 ({what})")


def raw_latent_iv(raw: Encoder, x: list[Fraction]) -> list[Any]:
    """Intervals enclosing ``enc(x / |x|_2)``."""
    act = raw.activation
    return [act.interval(p) for p in _iv_pre(raw, _iv_point(x))]
