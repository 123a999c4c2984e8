"""An independent re-checker for P3-eps and P2-delta witnesses (shares no evaluation code with the engine).

Weights are read exactly with NumPy's ``as_integer_ratio``; pre-activations are computed in Fractions;
activations by hand: ``relu`` and ``identity`` exactly, ``sigmoid``, ``tanh``, ``softplus``, ``elu``, ``gelu`` and
``silu`` as mpmath intervals (``mpmath.iv`` at 200 bits) from the exact pre-activation. Nothing from ``latentcheck``
is used: independent of the exact kernel (``theorems/exact_net.py``, ``theorems/pl.py``) on purpose, so a bug there
cannot hide here.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import mpmath
import numpy as np

iv = mpmath.iv


def _q(v: Any) -> Fraction:
    return Fraction(*float(v).as_integer_ratio()) if not isinstance(v, (str, Fraction, int)) else Fraction(v)


def _ivq(q: Fraction) -> Any:
    return iv.mpf(q.numerator) / iv.mpf(q.denominator)


def _act(name: str, q: Any) -> Any:
    if name == "relu":
        return q if q > 0 else Fraction(0)
    if name == "identity":
        return q
    x = q if not isinstance(q, Fraction) else _ivq(q)
    if name == "sigmoid":
        return 1 / (1 + iv.exp(-x))
    if name == "tanh":
        return 1 - 2 / (iv.exp(2 * x) + 1) if not (isinstance(q, Fraction) and q == 0) else Fraction(0)
    if name == "softplus":
        return iv.log(1 + iv.exp(x))
    if name == "elu":  # t for t > 0, exp(t) - 1 below (alpha = 1): increasing, so the ends decide
        lo = x.a if x.a > 0 else iv.expm1(x.a)
        hi = x.b if x.b > 0 else iv.expm1(x.b)
        return iv.mpf([iv.mpf(lo).a, iv.mpf(hi).b])
    if name == "gelu":  # mpmath's iv.erf does not converge: 60-digit erf at the ends, widened by 1e-50
        with mpmath.workdps(60):
            lo, hi = (mpmath.erf(mpmath.mpf(e) / mpmath.sqrt(2)) for e in (x.a, x.b))
        return x * (1 + iv.mpf([lo - mpmath.mpf(10) ** -50, hi + mpmath.mpf(10) ** -50])) / 2
    if name == "silu":
        return x / (1 + iv.exp(-x))
    raise ValueError(name)


def encode(layers: Sequence[tuple[np.ndarray, np.ndarray, str]], x: Sequence[Any]) -> list[Any]:
    """``enc(x)``: each entry a Fraction (exact) or an mpmath interval."""
    iv.prec = 200
    h: list[Any] = [_q(v) for v in x]
    for W, b, name in layers:
        pre = []
        for i in range(W.shape[0]):
            acc: Any = _q(b[i])
            for j in range(W.shape[1]):
                if h[j] != 0:
                    acc = acc + (_q(W[i, j]) * h[j] if isinstance(h[j], Fraction) else _ivq(_q(W[i, j])) * h[j])
            pre.append(acc)
        h = [_act(name, p) for p in pre]
    return h


def _upper_abs(v: Any) -> Any:
    if isinstance(v, Fraction):
        return abs(v)
    return max(abs(v.a), abs(v.b)).b


def p3_eps_holds_violated(layers: Any, x: Sequence[Any], eps: Fraction, r: Fraction) -> bool:
    """True when ``|x| >= r`` exactly and every ``|enc_i(x)| < eps`` is proved (interval upper ends)."""
    xs = [_q(v) for v in x]
    if sum(v * v for v in xs) < r * r:
        return False
    z = encode(layers, xs)
    for v in z:
        up = _upper_abs(v)
        if isinstance(up, Fraction):
            if not up < eps:
                return False
        elif not up < _ivq(eps).a:
            return False
    return True


def _as_iv(a: Any) -> Any:
    return _ivq(a) if isinstance(a, Fraction) else a


def _dot(a: Sequence[Any], b: Sequence[Any]) -> Any:
    acc: Any = Fraction(0)
    for p, q in zip(a, b):
        if isinstance(p, Fraction) and isinstance(q, Fraction) and isinstance(acc, Fraction):
            acc = acc + p * q
        else:
            acc = _as_iv(acc) + _as_iv(p) * _as_iv(q)
    return acc


def p2_delta_violated(layers: Any, x: Sequence[Any], u: Sequence[Any], v: Sequence[Any], delta: Fraction) -> bool:
    """True when ``<x,v> - <x,u> >= delta |x|^2`` exactly and ``<enc x,enc u> > <enc x,enc v>`` is proved."""
    xs, us, vs = ([_q(a) for a in w] for w in (x, u, v))
    if _dot(xs, vs) - _dot(xs, us) < delta * _dot(xs, xs):
        return False
    zx, zu, zv = encode(layers, xs), encode(layers, us), encode(layers, vs)
    diff = _dot(zx, zu) - _dot(zx, zv)
    return diff > 0 if isinstance(diff, Fraction) else bool(diff.a > 0)


def layers_of(encoder: Any, names: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """The encoder's stored arrays with the activation names the test chose (read, never evaluated)."""
    return [(np.asarray(layer.W), np.asarray(layer.b), name) for layer, name in zip(encoder.layers, names)]


# --------------------------------------------------------------------------- l2-normalised inputs (x / |x|_2)
def _sign_qsqrt(a: Fraction, c: Fraction, d: int) -> int:
    """Sign of ``a + c sqrt(d)``, by squaring (``d`` a positive integer)."""
    if c == 0:
        return (a > 0) - (a < 0)
    if a == 0:
        return (c > 0) - (c < 0)
    if (a > 0) == (c > 0):
        return 1 if a > 0 else -1
    big_a = a * a > c * c * d
    if a * a == c * c * d:
        return 0
    return ((a > 0) - (a < 0)) if big_a else ((c > 0) - (c < 0))


def l2_encode_exact(layers: Sequence[tuple[np.ndarray, np.ndarray, str]], x: Sequence[Any]) -> tuple[list, int]:
    """``enc(x / |x|_2)`` for ``relu`` / ``identity`` layers, each value a pair ``(a, c)`` meaning ``a + c sqrt(d)``.

    ``|x|^2 = p/q`` and ``d = p q``: ``1/|x| = (q/d) sqrt(d)``. Returns ``(pairs, d)``."""
    xs = [_q(v) for v in x]
    sq = sum((v * v for v in xs), Fraction(0))
    d = sq.numerator * sq.denominator
    h = [(Fraction(0), v * Fraction(sq.denominator, d)) for v in xs]
    for W, b, name in layers:
        Wq = [[_q(w) for w in row] for row in np.asarray(W).tolist()]
        bq = [_q(v) for v in np.asarray(b).tolist()]
        pre = [(sum((w * a for w, (a, _) in zip(row, h)), Fraction(0)) + bb, sum((w * c for w, (_, c) in zip(row, h)), Fraction(0)))
               for row, bb in zip(Wq, bq)]
        if name == "relu":
            h = [(a, c) if _sign_qsqrt(a, c, d) > 0 else (Fraction(0), Fraction(0)) for a, c in pre]
        elif name == "identity":
            h = pre
        else:
            raise ValueError(name)
    return h, d


def l2_zero(layers: Any, x: Sequence[Any]) -> bool:
    """Whether ``enc(x / |x|_2) = 0`` exactly (``x != 0``; relu / identity layers)."""
    if not any(_q(v) for v in x):
        return False
    h, d = l2_encode_exact(layers, x)
    return all(_sign_qsqrt(a, c, d) == 0 for a, c in h)


def l2_latent_iv(layers: Any, x: Sequence[Any]) -> list:
    """mpmath intervals (200 bits) enclosing ``enc(x / |x|_2)`` (relu / identity / sigmoid / tanh layers)."""
    old = iv.prec
    iv.prec = 200
    try:
        xs = [_q(v) for v in x]
        sq = sum((v * v for v in xs), Fraction(0))
        if sq == 0:
            h = [_ivq(Fraction(0)) for _ in xs]
        else:
            inv = 1 / iv.sqrt(_ivq(sq))
            h = [_ivq(v) * inv for v in xs]
        for W, b, name in layers:
            pre = [sum((_ivq(_q(w)) * hv for w, hv in zip(row, h)), _ivq(_q(bb))) for row, bb in zip(np.asarray(W).tolist(), np.asarray(b).tolist())]
            if name == "relu":
                h = [iv.mpf([max(0, p.a), max(0, p.b)]) for p in pre]
            elif name == "identity":
                h = pre
            else:
                h = [_act(name, p) for p in pre]
        return h
    finally:
        iv.prec = old


def l2_flip_violated(layers: Any, x: Sequence[Any], u: Sequence[Any], v: Sequence[Any]) -> bool:
    """P2 on normalised inputs: ``<Nx,Nu> <= <Nx,Nv>`` (intervals, 200 bits) and ``<enc Nx, enc Nu> > <enc Nx, enc Nv>``."""
    old = iv.prec
    iv.prec = 200
    try:
        def n(p: Sequence[Any]) -> list:
            ps = [_q(t) for t in p]
            sq = sum((t * t for t in ps), Fraction(0))
            return [_ivq(Fraction(0))] * len(ps) if sq == 0 else [_ivq(t) / iv.sqrt(_ivq(sq)) for t in ps]

        nx, nu, nv = n(x), n(u), n(v)
        prem = _dot(nx, nu) - _dot(nx, nv)
        zx, zu, zv = (l2_latent_iv(layers, p) for p in (x, u, v))
        gap = _dot(zx, zu) - _dot(zx, zv)
        return bool(prem.b <= 0 and gap.a > 0)
    finally:
        iv.prec = old
