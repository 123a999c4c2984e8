"""The one exact kernel: an encoder's affine maps ``W x + b`` in integer arithmetic (python-flint).

Every stored float is a dyadic rational, so a weight matrix is exactly ``K * 2**e / D`` with ``K`` an
integer matrix, ``e`` an integer and ``D = 1`` (weights read from text as rationals such as ``1/3``
get ``D`` the least common denominator). A rational vector is ``num / den`` with integer ``num``, so
``W x`` is one integer matrix-vector product (python-flint ``fmpz_mat``) divided once: no rounding
anywhere, and a sparse ``x`` multiplies only the columns it touches.

* :class:`IntMatrix`: ``K * 2**e / D`` and its products (rational vectors in, ``fmpq`` or integer
  numerators out), its transpose and entrywise ``|W|`` (built once each);
* :class:`ExactLayer`: one layer's ``W`` and ``b`` at their stored values, with ``affine`` (``Fraction``
  out), ``affine_sparse`` (from numerators over one denominator), ``bounds`` (exact bounds of ``W h + b``
  over a box, ends possibly infinite) and ``enclose`` (mpmath intervals, for interval evaluation);
* :class:`ExactNet`: the layers (and their exact piecewise-linear activations, when the net is read
  from a certificate), with ``forward``. :attr:`latentcheck.theorems.Encoder.exact_net` builds one per
  encoder, once.

Every exact engine uses this module: ``Encoder.exact`` / ``mixed`` / ``interval``, the vectorised
re-checks (``counterexamples/fast.py``), the verifier's certificates (``counterexamples/certificate.py``,
``certificate_l2.py``). The standalone re-checker (``counterexamples/recheck.py``) and the tests'
``tests/_indep.py`` stay independent of it on purpose.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np
from flint import fmpq, fmpz_mat
from mpmath import iv

from .exact_arrays import exact_number, exact_scalars, fits_float64
from .lower import INTERVAL_PREC, to_interval
from .pl import PLFunction, as_fmpq

__all__ = ["IntMatrix", "ExactLayer", "ExactNet", "rational_vector", "exact_affine", "interval_affine"]

_TWO53 = 9007199254740992.0


def trailing_zeros(M: np.ndarray) -> np.ndarray:
    a = np.abs(M)
    low = a & -a  # lowest set bit (a > 0)
    return np.round(np.log2(low.astype(np.float64))).astype(np.int64)


def _lcm(values: Sequence[int]) -> int:
    out = 1
    for d in values:
        if d != 1 and out % d:
            out = out * d // math.gcd(out, d)
    return out


def rational_vector(values: Sequence[Any]) -> tuple[list[int], list[int], int]:
    """``(idx, num, den)``: the nonzero entries of a rational vector as integers over one common denominator."""
    idx: list[int] = []
    qs: list[Any] = []
    for i, v in enumerate(values):
        if v:
            q = v if type(v) is Fraction or type(v) is fmpq else exact_number(v)
            idx.append(i)
            qs.append(q)
    dens = [int(q.denominator) for q in qs]
    den = _lcm(dens)
    return idx, [int(q.numerator) * (den // d) for q, d in zip(qs, dens)], den


class IntMatrix:
    """An exact rational matrix ``K * 2**e / D``: ``K`` integers (numpy int64, or Python ints when wider)."""

    __slots__ = ("K", "e", "D", "_flint", "_T", "_abs")

    def __init__(self, K: np.ndarray, e: int = 0, D: int = 1) -> None:
        self.K, self.e, self.D = K, int(e), int(D)
        self._flint: Optional[fmpz_mat] = None
        self._T: Optional[IntMatrix] = None
        self._abs: Optional[IntMatrix] = None

    # ------------------------------------------------------------- building
    @classmethod
    def from_float(cls, W: np.ndarray) -> "IntMatrix":
        """A float64 matrix, exactly: ``K`` the smallest integers with ``W == K * 2**e`` (vectorised)."""
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2:
            raise ValueError(f"a weight matrix is 2-D (out, in), got shape {W.shape}")
        if not np.all(np.isfinite(W)):
            raise ValueError("a matrix with NaN or infinite entries has no exact value")
        nz = W != 0
        if not nz.any():
            return cls(np.zeros(W.shape, dtype=np.int64), 0)
        mant, expo = np.frexp(W)
        M = (mant * _TWO53).astype(np.int64)  # * 2**53, exact
        tz = trailing_zeros(np.where(nz, M, 1))
        M = M >> tz  # odd (or 0)
        E = expo.astype(np.int64) - 53 + tz  # W = M * 2**E
        emin = int(E[nz].min())
        s = np.where(nz, E - emin, 0)
        bits = np.frexp(np.abs(M).astype(np.float64))[1] + s  # |M| < 2**53 is exact in float64: its bit length
        if int(bits.max()) <= 62:
            return cls(M << s, emin)
        K = np.empty(W.shape, dtype=object)
        K.ravel()[:] = [a << b if b else a for a, b in zip(M.ravel().tolist(), s.ravel().tolist())]
        return cls(K, emin)

    @classmethod
    def from_rationals(cls, Wq: np.ndarray) -> "IntMatrix":
        """An object array of ``int`` / ``Fraction`` (any denominators): ``K / D``, ``D`` their lcm."""
        flat = [Fraction(v) for v in np.asarray(Wq, dtype=object).ravel().tolist()]
        D = _lcm([q.denominator for q in flat])
        K = np.empty(np.shape(Wq), dtype=object)
        K.ravel()[:] = [q.numerator * (D // q.denominator) for q in flat]
        return cls(K, 0, D)

    @classmethod
    def from_array(cls, W: np.ndarray) -> "IntMatrix":
        """The stored values of ``W`` (any dtype latentcheck reads exactly)."""
        W = np.asarray(W)
        if W.dtype == np.float64 or (W.dtype != object and fits_float64(W)):
            return cls.from_float(np.asarray(W, dtype=np.float64))
        return cls.from_rationals(exact_scalars(W))

    def integer_form(self) -> tuple[np.ndarray, int]:
        """``(K, d)``: an object array of Python ints and a positive int with ``W == K / d`` exactly."""
        K = np.empty(self.K.shape, dtype=object)
        K.ravel()[:] = [int(v) for v in np.asarray(self.K).ravel().tolist()]
        if self.e >= 0:
            K.ravel()[:] = [v << self.e for v in K.ravel().tolist()]
            return K, self.D
        return K, self.D << -self.e

    # ------------------------------------------------------------- views
    @property
    def shape(self) -> tuple[int, int]:
        return int(self.K.shape[0]), int(self.K.shape[1])

    def flint(self) -> fmpz_mat:
        """``K`` as a ``flint.fmpz_mat`` (built once)."""
        if self._flint is None:
            self._flint = fmpz_mat(*self.shape, self.K.ravel().tolist())
        return self._flint

    @property
    def T(self) -> "IntMatrix":
        """The transpose (built once)."""
        if self._T is None:
            self._T = IntMatrix(np.ascontiguousarray(self.K.T), self.e, self.D)
        return self._T

    @property
    def abs(self) -> "IntMatrix":
        """Entrywise ``|W|`` (built once)."""
        if self._abs is None:
            self._abs = IntMatrix(np.abs(self.K), self.e, self.D)
        return self._abs

    def fractions(self) -> np.ndarray:
        """The entries as an object array of ``Fraction`` (for tests and records)."""
        out = np.empty(self.K.shape, dtype=object)
        out.ravel()[:] = [self._scale(int(k), 1) for k in self.K.ravel().tolist()]
        return out

    # ------------------------------------------------------------- products
    def product(self, idx: Sequence[int], num: Sequence[int]) -> list[int]:
        """``K[:, idx] @ num`` in integers: one ``fmpz_mat`` product (only the touched columns when sparse)."""
        m, n = self.shape
        if not len(num):
            return [0] * m
        if 4 * len(num) < n:
            sub = self.K[:, np.asarray(idx, dtype=np.int64)]
            prod = fmpz_mat(m, len(num), sub.ravel().tolist()) * fmpz_mat(len(num), 1, list(num))
        else:
            dense = [0] * n
            for i, a in zip(idx.tolist() if isinstance(idx, np.ndarray) else idx, num):
                dense[i] = a
            prod = self.flint() * fmpz_mat(n, 1, dense)
        return [int(v) for v in prod.entries()]

    def _scale(self, acc: int, den: int) -> Fraction:
        """``acc * 2**e / (D * den)`` as a Fraction."""
        if self.e >= 0:
            return Fraction(acc << self.e, self.D * den)
        return Fraction(acc, (self.D * den) << -self.e)

    def denominator(self, den: int) -> tuple[int, int]:
        """``(shift, d)``: a product ``acc`` over a vector's denominator ``den`` is ``(acc << shift) / d``."""
        den = int(den)
        if self.e >= 0:
            return self.e, self.D * den
        return 0, (self.D * den) << -self.e

    def matvec(self, v: Sequence[Any]) -> list[fmpq]:
        """``W v`` exactly as ``fmpq`` s, for a rational vector ``v`` (``fmpq``, ``Fraction`` or ``int`` entries)."""
        idx, num, den = rational_vector(v)
        acc = self.product(idx, num)
        shift, d = self.denominator(den)
        return [fmpq(a << shift, d) if shift else fmpq(a, d) for a in acc]


class ExactLayer:
    """One layer's ``W`` (an :class:`IntMatrix`) and ``b`` (``Fraction`` s) at their stored values."""

    __slots__ = ("W", "b", "Wf", "_bq")

    def __init__(self, W: IntMatrix, b: Sequence[Fraction], Wf: np.ndarray) -> None:
        self.W, self.b, self.Wf = W, tuple(b), Wf
        self._bq: Optional[list[fmpq]] = None

    @classmethod
    def from_arrays(cls, W: np.ndarray, b: np.ndarray) -> "ExactLayer":
        """From stored arrays (float64 or any dtype read exactly)."""
        Wa, ba = np.asarray(W), np.asarray(b)
        if Wa.dtype == np.float64 and ba.dtype == np.float64:
            bias = [Fraction(v) for v in ba.tolist()]  # float -> Fraction is exact
        else:
            bias = [Fraction(v) for v in exact_scalars(ba).tolist()]
        Wf = np.asarray(Wa, dtype=np.float64) if Wa.dtype != object else np.asarray(exact_scalars(Wa), dtype=np.float64)
        return cls(IntMatrix.from_array(Wa), bias, Wf)

    @property
    def bq(self) -> list[fmpq]:
        """The biases as ``fmpq`` (built once)."""
        if self._bq is None:
            self._bq = [fmpq(v.numerator, v.denominator) for v in self.b]
        return self._bq

    @property
    def n_in(self) -> int:
        return self.W.shape[1]

    @property
    def n_out(self) -> int:
        return self.W.shape[0]

    # ------------------------------------------------------------- exact
    def affine_sparse(self, idx: Sequence[int], num: Sequence[int], den: int) -> list[Fraction]:
        """Exact ``W x + b`` (``Fraction`` s) for ``x[idx[k]] = num[k] / den``, zero elsewhere."""
        if not len(num):
            return list(self.b)
        acc = self.W.product(idx, num)
        shift, d = self.W.denominator(den)
        return [Fraction(a << shift, d) + bb if a else bb for a, bb in zip(acc, self.b)]

    def linear(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact ``W x`` (no bias) for a rational ``x``."""
        idx, num, den = rational_vector([exact_number(v) if type(v) is not Fraction else v for v in x])
        acc = self.W.product(idx, num)
        shift, d = self.W.denominator(den)
        return [Fraction(a << shift, d) for a in acc]

    def affine(self, x: Sequence[Any]) -> list[Fraction]:
        """Exact ``W x + b`` for a rational ``x`` (ints, Fractions, exact strings, stored floats)."""
        return self.affine_sparse(*rational_vector([exact_number(v) if type(v) is not Fraction else v for v in x]))

    def affine_q(self, v: Sequence[Any]) -> list[fmpq]:
        """Exact ``W v + b`` as ``fmpq`` s."""
        return [a + b for a, b in zip(self.W.matvec(v), self.bq)]

    def bounds(self, lo: Sequence[Any], hi: Sequence[Any]) -> tuple[list, list]:
        """Exact bounds (``fmpq``, ``None`` = infinite) of ``W h + b`` over the box ``lo <= h <= hi``
        (ends ``fmpq`` or ``None`` = infinite): centre ``W mid`` and radius ``|W| rad``, one product each."""
        zero = fmpq(0)
        lo_f = [zero if v is None else v for v in lo]
        hi_f = [zero if v is None else v for v in hi]
        c = self.W.matvec([(a + b) / 2 for a, b in zip(lo_f, hi_f)])
        r = self.W.abs.matvec([(b - a) / 2 for a, b in zip(lo_f, hi_f)])
        lo_inf = np.array([v is None for v in lo], dtype=bool)
        hi_inf = np.array([v is None for v in hi], dtype=bool)
        Wf = self.Wf
        down = ((Wf > 0) & lo_inf[None, :]).any(axis=1) | ((Wf < 0) & hi_inf[None, :]).any(axis=1)
        up = ((Wf > 0) & hi_inf[None, :]).any(axis=1) | ((Wf < 0) & lo_inf[None, :]).any(axis=1)
        bq = self.bq
        zlo = [None if down[i] else c[i] - r[i] + bq[i] for i in range(len(c))]
        zhi = [None if up[i] else c[i] + r[i] + bq[i] for i in range(len(c))]
        return zlo, zhi

    def enclose(self, h: Sequence[Any]) -> list[Any]:
        """mpmath intervals enclosing ``W h + b`` for ``h`` of exact rationals and mpmath intervals: the exact
        :meth:`bounds` over the box the intervals span, rounded outward."""
        lo, hi = zip(*(_ends(v) for v in h)) if len(h) else ((), ())
        zlo, zhi = self.bounds(lo, hi)
        old = iv.prec
        iv.prec = INTERVAL_PREC
        try:
            return [iv.mpf([_down(a), _up(b)]) for a, b in zip(zlo, zhi)]
        finally:
            iv.prec = old


def _ends(v: Any) -> tuple[Optional[fmpq], Optional[fmpq]]:
    """The exact ends of a rational or an mpmath interval (``None`` for an infinite end)."""
    if isinstance(v, iv.mpf):
        lo, hi = v._mpi_
        return _mpf_exact(lo), _mpf_exact(hi)
    q = as_fmpq(v if isinstance(v, (Fraction, int, fmpq)) else exact_number(v))
    return q, q


def _mpf_exact(raw: tuple) -> Optional[fmpq]:
    """An mpmath end point (``_mpf_`` tuple, a dyadic number) exactly; ``None`` when infinite; NaN refused."""
    sign, man, exp, bc = raw
    if not man:
        if bc == 0:
            return fmpq(0)
        if bc == -1:
            raise ValueError("an interval with a NaN end has no exact bounds")
        return None  # +-inf
    v = -man if sign else man
    return fmpq(v << exp) if exp >= 0 else fmpq(v, 1 << -exp)


def _down(q: Optional[fmpq]) -> Any:
    return -iv.inf if q is None else to_interval(Fraction(int(q.p), int(q.q))).a


def _up(q: Optional[fmpq]) -> Any:
    return iv.inf if q is None else to_interval(Fraction(int(q.p), int(q.q))).b


class ExactNet:
    """The exact layers of an encoder (and, read from a certificate, its exact PL activations)."""

    __slots__ = ("layers", "pl", "__weakref__")

    def __init__(self, layers: Sequence[ExactLayer], pl: Sequence[Optional[PLFunction]] = ()) -> None:
        self.layers = tuple(layers)
        self.pl = tuple(pl) if pl else (None,) * len(self.layers)

    @classmethod
    def from_encoder(cls, encoder: Any) -> "ExactNet":
        """The kernel of a :class:`latentcheck.theorems.Encoder` (use ``encoder.exact_net``: built once)."""
        return cls([layer.kernel for layer in encoder.layers])

    @classmethod
    def build(cls, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[dict]) -> "ExactNet":
        """From float arrays and PL activations in :meth:`PLFunction.to_json` form (numbers as ``fmpq``)."""
        layers = []
        for W, b in zip(weights, biases):
            W = np.asarray(W, dtype=np.float64)
            if not np.all(np.isfinite(W)) or not np.all(np.isfinite(b)):
                raise ValueError("weights must be finite")
            layers.append(ExactLayer.from_arrays(W, np.asarray(b, dtype=np.float64)))
        return cls(layers, [PLFunction.from_json(a, as_fmpq) for a in activations])

    # ------------------------------------------------------------- views
    @property
    def depth(self) -> int:
        return len(self.layers)

    @functools.cached_property
    def Wf(self) -> list[np.ndarray]:
        return [layer.Wf for layer in self.layers]

    @property
    def Wi(self) -> list[IntMatrix]:
        return [layer.W for layer in self.layers]

    @property
    def bq(self) -> list[list[fmpq]]:
        return [layer.bq for layer in self.layers]

    # ------------------------------------------------------------- exact
    def affine(self, k: int, x: Sequence[Any]) -> list[Fraction]:
        """Exact ``W_k x + b_k``."""
        return self.layers[k].affine(x)

    def interval_affine(self, k: int, lo: Sequence[Any], hi: Sequence[Any]) -> tuple[list, list]:
        """Exact bounds of ``W_k h + b_k`` over a box (``fmpq`` ends, ``None`` = infinite)."""
        return self.layers[k].bounds(lo, hi)

    def forward(self, x: Sequence[Any]) -> list[fmpq]:
        """``enc(x)`` exactly through the PL activations (a net read from a certificate)."""
        h = [as_fmpq(v) for v in x]
        for layer, pl in zip(self.layers, self.pl):
            if pl is None:
                raise ValueError("forward needs the net's PL activations (ExactNet.build)")
            h = [pl(z) for z in layer.affine_q(h)]
        return h


def exact_affine(W: np.ndarray, b: np.ndarray, x: Sequence[Any]) -> list[Fraction]:
    """Exact ``W x + b`` for ``W, b`` at their stored values and rational ``x`` (integer arithmetic).

    Arrays of another dtype than float64 (long double, wide integers...) are read exactly, never rounded.
    """
    return ExactLayer.from_arrays(W, b).affine(x)


def interval_affine(W: np.ndarray, b: np.ndarray, h: Sequence[Any]) -> list[Any]:
    """Intervals enclosing ``W h + b`` for interval (or rational) ``h`` (``W, b`` at their stored values)."""
    return ExactLayer.from_arrays(W, b).enclose(h)
