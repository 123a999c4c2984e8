"""Vectorised exact re-checks: the decisions of ``latentcheck.theorems.check_zero`` / ``check_flip``, in milliseconds.

``latentcheck.theorems`` decides a candidate one rational at a time (a ``Fraction`` per
input entry, a Python sum per latent row). That is the reference, and for a
1682-dimensional triple it takes a few hundred milliseconds. This module
reaches the same decisions, with the same labels, details and margins, from

* :class:`QVec`: an exact rational vector kept sparse as Python-int
  numerators over one common denominator (no ``Fraction`` per entry);
* exact affine maps ``W x + b`` by integer arithmetic: ``W`` (float64) is
  ``K * 2**e`` with integer ``K``; ``K`` and the numerators of ``x`` are
  split into signed limbs of ``B`` bits so that every limb product and every
  sum over the inputs fits in ``int64`` (``n * 2**(2B) < 2**62``); the limb
  products are one ``int64`` matrix product, recombined in Python ints. No
  float rounding occurs anywhere: the result equals
  :func:`latentcheck.theorems.encoder.exact_affine` exactly (tests compare them);
* the latent activation evaluated exactly (rational activations) or in the
  same mpmath interval arithmetic at ``latentcheck.theorems.lower.INTERVAL_PREC`` as
  :meth:`latentcheck.theorems.Activation.interval`. For expressions built from ``t``,
  rationals, ``+``, ``*``, integer powers and ``exp`` (sigmoid, for one) the
  expression tree is compiled once into the same sequence of mpmath interval
  operations (bit-identical enclosures, tests compare them); anything else
  calls ``Activation.interval`` itself.

Whatever is outside these cases (a transcendental hidden activation, a
weight matrix whose exponents span more than ``_MAX_LIMBS * B`` bits) returns
``None`` and the caller falls back to ``latentcheck.theorems``. Nothing here is a float
approximation: a decision is exact, or interval-certified, or not made.
"""

from __future__ import annotations

import math
import weakref
from fractions import Fraction
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = ["QVec", "as_qvec", "exact_affine_fast", "exact_pre_fast", "check_zero_fast", "check_flip_fast",
           "interval_fn", "domain_contains"]

_MAX_LIMBS = 16


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
        from latentcheck.theorems.exact_arrays import exact_scalars, fits_float64

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
        tz = _trailing_zeros(M)
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
    from latentcheck.theorems.exact_arrays import exact_number

    return exact_number(v)


def _trailing_zeros(M: np.ndarray) -> np.ndarray:
    a = np.abs(M)
    low = a & -a  # lowest set bit (a > 0)
    return np.round(np.log2(low.astype(np.float64))).astype(np.int64)


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
class _IntLayer:
    """``W = K * 2**e`` exactly, ``K = M << s`` with 53-bit signed ``M`` and shifts ``s >= 0`` (int64 arrays)."""

    __slots__ = ("M", "s", "B", "e", "bias", "L")

    def __init__(self, M: np.ndarray, s: np.ndarray, B: int, e: int, bias: list[Fraction], L: int) -> None:
        self.M, self.s, self.B, self.e, self.bias, self.L = M, s, B, e, bias, L

    def limbs(self, idx: np.ndarray | None) -> np.ndarray:
        """Signed ``B``-bit limbs of ``K[:, idx]``, shape ``(L, m, len(idx))``: ``K = sum_k limb_k << (B k)``."""
        M = self.M if idx is None else self.M[:, idx]
        s = self.s if idx is None else self.s[:, idx]
        B = self.B
        a = np.abs(M)  # < 2**53
        sign = np.sign(M)
        mask = (1 << B) - 1
        out = np.empty((self.L,) + M.shape, dtype=np.int64)
        for k in range(self.L):
            d = s - k * B  # bits of a << s seen from this limb's base
            up = np.clip(d, 0, B)
            down = np.clip(-d, 0, 62)
            # d >= 0: the low B bits of a << d are (a & (mask >> d)) << d (no overflow); d < 0: (a >> -d) & mask
            limb = np.where(d >= 0, (a & (mask >> up)) << up, (a >> down) & mask)
            out[k] = limb * sign
        return out


_LAYERS: "weakref.WeakKeyDictionary[Any, _IntLayer | None]" = weakref.WeakKeyDictionary()


def _limb_bits(n: int) -> int:
    # n * (2**B - 1)**2 < 2**62 keeps every int64 dot product exact.
    return max(8, min(26, (62 - max(1, n).bit_length()) // 2))


def _int_layer(layer: Any) -> _IntLayer | None:
    try:
        return _LAYERS[layer]
    except KeyError:
        pass
    if not getattr(layer, "float64_exact", True):  # stored values wider than float64: theorems' exact path
        _LAYERS[layer] = None
        return None
    W = np.asarray(layer.W, dtype=np.float64)
    m, n = W.shape
    B = _limb_bits(n)
    bias = _biases(layer)
    nz = W != 0
    if not nz.any():
        out = _IntLayer(np.zeros((m, n), dtype=np.int64), np.zeros((m, n), dtype=np.int64), B, 0, bias, 1)
        _LAYERS[layer] = out
        return out
    mant, expo = np.frexp(W)
    M = (mant * 9007199254740992.0).astype(np.int64)  # * 2**53, exact
    emin = int(expo[nz].min())
    s = np.where(nz, expo - emin, 0).astype(np.int64)
    L = -(-(53 + int(s.max())) // B)
    if L > _MAX_LIMBS:
        out = None
    else:
        out = _IntLayer(M, s, B, emin - 53, bias, L)
    _LAYERS[layer] = out
    return out


def _split(nums: list[int], B: int) -> tuple[np.ndarray, int]:
    """Signed ``B``-bit limbs of Python ints: ``(nnz, Lx)`` int64 with ``num = sum limb[:, k] << (B k)``."""
    if not nums:
        return np.zeros((0, 1), dtype=np.int64), 1
    top = max(abs(a) for a in nums).bit_length()
    Lx = max(1, -(-top // B))
    mask = (1 << B) - 1
    if top <= 62:
        arr = np.asarray(nums, dtype=np.int64)
        a, sign = np.abs(arr), np.sign(arr)
        cols = [((a >> (B * k)) & mask) * sign for k in range(Lx)]
        return np.stack(cols, axis=1), Lx
    obj = np.array(nums, dtype=object)
    a = np.abs(obj)
    sign = np.array([1 if v > 0 else -1 for v in nums], dtype=np.int64)
    cols = [((a >> (B * k)) & mask).astype(np.int64) * sign for k in range(Lx)]
    return np.stack(cols, axis=1), Lx


def _sub_layer(layer: Any, idx: np.ndarray) -> _IntLayer | None:
    """The integer form of the columns ``idx`` of ``W`` alone (for a sparse ``x``: no pass over all of ``W``)."""
    if not getattr(layer, "float64_exact", True):
        return None
    W = np.asarray(layer.W, dtype=np.float64)[:, idx]
    m, n = layer.W.shape
    B = _limb_bits(n)
    bias = _biases(layer)
    nz = W != 0
    if not nz.any():
        return _IntLayer(np.zeros(W.shape, dtype=np.int64), np.zeros(W.shape, dtype=np.int64), B, 0, bias, 1)
    mant, expo = np.frexp(W)
    M = (mant * 9007199254740992.0).astype(np.int64)
    emin = int(expo[nz].min())
    s = np.where(nz, expo - emin, 0).astype(np.int64)
    L = -(-(53 + int(s.max())) // B)
    return None if L > _MAX_LIMBS else _IntLayer(M, s, B, emin - 53, bias, L)


_BIAS: "weakref.WeakKeyDictionary[Any, list[Fraction]]" = weakref.WeakKeyDictionary()


def _biases(layer: Any) -> list[Fraction]:
    try:
        return _BIAS[layer]
    except KeyError:
        out = _BIAS[layer] = [Fraction(float(v)) for v in np.asarray(layer.b, dtype=np.float64)]
        return out


def exact_affine_fast(layer: Any, q: QVec) -> list[Fraction] | None:
    """Exact ``W x + b`` (a ``Fraction`` per output), or ``None`` when the weights do not fit the limb scheme
    (or are stored wider than float64: then ``Layer.exact_affine`` reads them exactly)."""
    if not getattr(layer, "float64_exact", True):
        return None
    if not q.num:
        return list(_biases(layer))
    n = layer.W.shape[1]
    sparse = 4 * q.nnz < n and layer not in _LAYERS
    il = _sub_layer(layer, q.idx) if sparse else _int_layer(layer)
    if il is None:
        return None
    m = il.M.shape[0]
    L, B = il.L, il.B
    X, Lx = _split(q.num, B)
    K = il.limbs(None if sparse or q.nnz == n else q.idx).reshape(L * m, q.nnz)
    XT = np.ascontiguousarray(X.T)
    # int64 matrix-vector products, one per limb of x (numpy's int matvec is much faster than its int matmul).
    # Exact: every |entry| < nnz * 2**(2B) < 2**62.
    P = np.stack([K @ XT[b] for b in range(Lx)], axis=1).reshape(L, m, Lx).astype(object)
    tot = np.zeros(m, dtype=object)
    for c in range(L + Lx - 1):  # sum_{a, b} P[a, :, b] << B (a + b), in Python ints
        part = np.zeros(m, dtype=object)
        for a in range(max(0, c - Lx + 1), min(L, c + 1)):
            part = part + P[a, :, c - a]
        tot = tot + (part << (B * c)) if c else tot + part
    e = il.e
    den = q.den
    if e >= 0:
        return [Fraction(int(v) << e, den) + bb if v else bb for v, bb in zip(tot.tolist(), il.bias)]
    den = den << -e
    return [Fraction(int(v), den) + bb if v else bb for v, bb in zip(tot.tolist(), il.bias)]


class _Memo:
    """Per-check memo of activation values (one computation per distinct rational)."""

    def __init__(self, act: Any) -> None:
        self.act = act
        self.exact: dict[Fraction, Any] = {}
        self.iv: dict[tuple[int, int], Any] = {}
        self.ivfn = interval_fn(act)

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

    def interval(self, p: Fraction) -> Any:
        key = (p.numerator, p.denominator)  # hashing two ints is cheaper than Fraction.__hash__
        try:
            return self.iv[key]
        except KeyError:
            v = self.ivfn(to_interval_q(p))
            self.iv[key] = v
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
        if pre is None:
            return None
        memo = _Memo(layer.activation)
        h = QVec.from_fractions([memo.exact_value(p) for p in pre])
    return exact_affine_fast(encoder.layers[-1], h)


# ------------------------------------------------------------------ compiled interval activations
_IVFN: dict[Any, Callable[[Any], Any]] = {}


def interval_fn(act: Any) -> Callable[[Any], Any]:
    """``act.interval`` or, for expressions of ``t``, rationals, ``+``, ``*``, integer powers and ``exp``,
    the same mpmath interval operations compiled once (no sympy dispatch per call)."""
    key = act.expr
    fn = _IVFN.get(key)
    if fn is None:
        try:
            fn = _compile_interval(act.expr)
        except _Unsupported:
            fn = act.interval
        _IVFN[key] = fn
    return fn


class _Unsupported(Exception):
    pass


def _compile_interval(expr: Any) -> Callable[[Any], Any]:
    """The operations of ``latentcheck.theorems.lower.interval_value`` for this tree, on mpmath's raw interval tuples.

    ``iv.mpf`` operators call ``libmpi.mpi_add / mpi_mul / mpi_div / mpi_pow / mpi_exp`` at ``iv.prec`` after
    converting Python ints with ``from_int`` rounded down / up; the closure calls the same functions with the same
    arguments at ``INTERVAL_PREC`` (so the enclosures are bit-identical), without the per-operation dispatch.
    """
    import sympy as sp
    from mpmath import iv
    from mpmath.libmp import from_int, fzero, mpf_le, mpi_add, mpi_div, mpi_exp, mpi_mul, mpi_pow, round_ceiling, round_floor

    from latentcheck.theorems.errors import NotExact
    from latentcheck.theorems.expr import T
    from latentcheck.theorems.lower import INTERVAL_PREC

    prec = INTERVAL_PREC

    def const(k: int) -> tuple:
        return (from_int(k, prec, round_floor), from_int(k, prec, round_ceiling))

    def comp(node: Any) -> Callable[[tuple], tuple]:
        if node == T:
            return lambda x: x
        if node.is_Rational:
            c = mpi_div(const(int(node.p)), const(int(node.q)), prec)
            return lambda x: c
        if node.is_Add or node.is_Mul:
            parts = [comp(a) for a in node.args]
            op = mpi_add if node.is_Add else mpi_mul

            def fold(x: tuple) -> tuple:
                out = parts[0](x)
                for f in parts[1:]:
                    out = op(out, f(x), prec)
                return out

            return fold
        if node.is_Pow and node.args[1].is_Integer:
            base = comp(node.args[0])
            k = int(node.args[1])
            if k < 0:
                one, e = const(1), const(-k)

                def negpow(x: tuple) -> tuple:
                    b = base(x)
                    if mpf_le(b[0], fzero) and mpf_le(fzero, b[1]):
                        raise NotExact(f"division by an interval containing 0 in {expr}")
                    return mpi_div(one, mpi_pow(b, e, prec), prec)

                return negpow
            e = const(k)
            return lambda x: mpi_pow(base(x), e, prec)
        if isinstance(node, sp.exp):
            arg = comp(node.args[0])
            return lambda x: mpi_exp(arg(x), prec)
        raise _Unsupported(str(node))

    body = comp(expr)

    def run(x: Any) -> Any:
        return iv.make_mpf(body(x._mpi_))

    return run


_MP: dict[str, Any] = {}


def _mp() -> dict[str, Any]:
    """mpmath's interval context and raw functions, imported once."""
    if not _MP:
        from mpmath import iv
        from mpmath.libmp import from_int, mpi_div, round_ceiling, round_floor

        from latentcheck.theorems.lower import INTERVAL_PREC

        _MP.update(iv=iv, from_int=from_int, mpi_div=mpi_div, lo=round_floor, hi=round_ceiling, prec=INTERVAL_PREC)
    return _MP


def to_interval_q(p: Fraction) -> Any:
    """``latentcheck.theorems.lower.to_interval(p)`` for a ``Fraction``: ``iv.mpf(num) / iv.mpf(den)`` at ``INTERVAL_PREC``."""
    mp = _mp()
    from_int, prec, lo, hi = mp["from_int"], mp["prec"], mp["lo"], mp["hi"]
    a, b = p.numerator, p.denominator
    num = (from_int(a, prec, lo), from_int(a, prec, hi))
    den = (from_int(b, prec, lo), from_int(b, prec, hi))
    return mp["iv"].make_mpf(mp["mpi_div"](num, den, prec))


# ------------------------------------------------------------------ the checks
def check_zero_fast(encoder: Any, q: QVec) -> Any:
    """:func:`latentcheck.theorems.check_zero` for an encoder with an exact body, from a :class:`QVec`; ``None`` to fall back."""
    from latentcheck.theorems.encoder import exact_activation_value
    from latentcheck.theorems.errors import NotExact
    from latentcheck.theorems.properties import PointCheck

    if q.is_zero:
        return PointCheck(False, "exact", "x is the zero vector, which P3 does not constrain")
    if not encoder.body_is_exact():
        return None
    pre = exact_pre_fast(encoder, q)
    if pre is None:
        return None
    act = encoder.activation
    memo = _Memo(act)
    exact_act = act.is_exact
    undecided: list[int] = []
    for i, p in enumerate(pre):
        # theorems: s(p) exactly when it can, else an interval; nonzero if either shows it.
        # The order here (interval first for transcendental s) reaches the same verdict: both are rigorous.
        if exact_act:
            try:
                if memo.exact_value(p) != 0:
                    return PointCheck(False, "exact", f"latent coordinate {i} is nonzero")
                continue
            except NotExact:
                pass
            val = memo.interval(p)
            if val.a > 0 or val.b < 0:
                return PointCheck(False, "exact", f"latent coordinate {i} is nonzero")
            undecided.append(i)
            continue
        val = memo.interval(p)
        if val.a > 0 or val.b < 0:
            return PointCheck(False, "interval", f"latent coordinate {i} is nonzero")
        exact_val = exact_activation_value(act, p, val)  # guarded: float-free expressions, value inside the enclosure
        if exact_val is None:
            undecided.append(i)
        elif exact_val != 0:
            return PointCheck(False, "interval", f"latent coordinate {i} is nonzero")
    if not undecided:
        return PointCheck(True, "exact", "every latent coordinate is exactly 0 (pre-activations computed in rationals, s evaluated exactly)", "0")
    return PointCheck(None, "none", f"latent coordinates {undecided[:5]} could not be decided exactly")


def _iv_dot_diff(ex: list, eu: list, ev: list) -> tuple:
    """``dot(ex, eu) - dot(ex, ev)`` as ``latentcheck.theorems.properties.dot`` computes it on ``iv.mpf`` s at ``INTERVAL_PREC``
    (``acc = 0; acc = acc + p * q``), on the raw interval tuples: the same ``mpi_add / mpi_mul / mpi_sub`` calls."""
    from mpmath.libmp import from_int, mpi_add, mpi_mul, mpi_sub, round_ceiling, round_floor

    from latentcheck.theorems.lower import INTERVAL_PREC as prec

    zero = (from_int(0, prec, round_floor), from_int(0, prec, round_ceiling))

    def dot(a: list, b: list) -> tuple:
        acc = zero
        for p, q in zip(a, b):
            acc = mpi_add(acc, mpi_mul(p._mpi_, q._mpi_, prec), prec)
        return acc

    return mpi_sub(dot(ex, eu), dot(ex, ev), prec)


def check_flip_fast(encoder: Any, qx: QVec, qu: QVec, qv: QVec) -> Any:
    """:func:`latentcheck.theorems.check_flip` for an encoder with an exact body, from :class:`QVec` s; ``None`` to fall back."""
    from mpmath import iv

    from latentcheck.theorems.properties import PointCheck, dot

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
    ex, eu, ev = ([memo.interval(p) for p in pre] for pre in pres)
    diff = iv.make_mpf(_iv_dot_diff(ex, eu, ev))
    if diff.a > 0:
        return PointCheck(True, "interval", f"<x,u> - <x,v> = {lhs - rhs} <= 0 (exact) but <enc x,enc u> - <enc x,enc v> lies in [{diff.a}, {diff.b}] > 0 (interval arithmetic)", __import__("latentcheck.theorems.properties", fromlist=["lower_decimal"]).lower_decimal(diff.a))
    if diff.b <= 0:
        return PointCheck(False, "interval", "the latent difference is certified <= 0")
    return None  # undecided by intervals alone: theorems' check resolves exact activation values where it can
