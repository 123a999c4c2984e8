"""Stored numbers read exactly: every IEEE float is a dyadic rational, every integer an integer.

Weights and data rows are certified at the values their file stores, never at
a float64 rounding of them. :func:`unreadable_reason` names the dtypes that
cannot be read exactly (complex, object, strings, non-IEEE long doubles...);
:func:`fits_float64` says whether an array's float64 copy is exact (then the
fast float64-based exact paths apply); :func:`exact_scalars` gives the exact
values as Python ``int`` / ``Fraction`` objects.

Example:
    >>> import numpy as np
    >>> exact_scalars(np.array([0.5, 3.0], dtype=np.float32)).tolist()
    [Fraction(1, 2), Fraction(3, 1)]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["unreadable_reason", "fits_float64", "exact_scalars", "exact_strings", "float64_copy", "exact_number"]

_FIX = "store it as a real float (float16/32/64, long double) or integer array"


def _is_bfloat16(dtype: np.dtype) -> bool:
    return dtype.name == "bfloat16"


def unreadable_reason(dtype: Any) -> str | None:
    """Why values of ``dtype`` cannot be read as exact real numbers (``None`` when they can)."""
    dt = np.dtype(dtype)
    if dt.kind in "iub" or _is_bfloat16(dt):
        return None
    if dt.kind == "f":
        if dt.itemsize <= 8:
            return None
        try:
            info = np.finfo(dt)
        except (TypeError, ValueError):
            return f"dtype {dt} is not an IEEE float numpy can describe; {_FIX}"
        if info.nmant not in (63, 112):  # x87 80-bit extended, IEEE binary128; anything else (double-double) is refused
            return f"dtype {dt} ({info.nmant}-bit mantissa) is not an IEEE binary format latentcheck reads exactly; {_FIX}"
        return None
    names = {"c": "complex", "O": "Python objects", "U": "strings", "S": "bytes", "V": "raw records", "M": "datetimes", "m": "timedeltas"}
    return f"dtype {dt} ({names.get(dt.kind, 'not a real number')}) cannot be read as exact real numbers; {_FIX}"


def float64_copy(arr: np.ndarray) -> np.ndarray:
    """The float64 rounding of ``arr`` (for float search only)."""
    if _is_bfloat16(arr.dtype):
        return arr.astype(np.float32).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(arr).astype(np.float64)


def fits_float64(arr: np.ndarray) -> bool:
    """True when every entry equals its float64 copy exactly (float16/32/64, bfloat16, integers up to ``2**53``...)."""
    a = np.asarray(arr)
    dt = a.dtype
    if dt == np.float64 or (dt.kind == "f" and dt.itemsize < 8) or _is_bfloat16(dt) or dt.kind == "b" or a.size == 0:
        return True
    if dt.kind in "iu":
        if dt.itemsize <= 4:
            return True
        lim = 1 << 53
        return bool(np.all(a <= lim)) and (dt.kind == "u" or bool(np.all(a >= -lim)))
    if dt.kind == "f":  # wider than float64
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            back = a.astype(np.float64).astype(dt)
        return bool(np.all(back == a))
    return False


def _wide_float_fractions(a: np.ndarray) -> list[Fraction]:
    """Exact values of a long-double array: ``frexp`` mantissas scaled to integers, 32 bits at a time."""
    dt = a.dtype
    bits = np.finfo(dt).nmant + 1
    flat = a.ravel()
    mant, expo = np.frexp(flat)
    sign = np.where(mant < 0, -1, 1)
    m = np.abs(mant)  # in [0.5, 1) or 0; m * 2**bits is an integer, taken 32 bits at a time (exact: powers of two)
    chunks = []
    rest = m
    for _ in range(-(-bits // 32)):
        rest = rest * dt.type(4294967296)
        hi = np.floor(rest)
        chunks.append(hi.astype(np.uint64).tolist())
        rest = rest - hi
    if np.any(rest != 0):
        raise ValueError(f"dtype {dt}: frexp mantissas are not {bits}-bit integers; cannot read exactly")
    nchunks = len(chunks)
    out: list[Fraction] = []
    for k in range(flat.size):
        num = 0
        for c in range(nchunks):
            num = (num << 32) | int(chunks[c][k])
        e = int(expo[k]) - 32 * nchunks
        val = Fraction(num << e) if e >= 0 else Fraction(num, 1 << -e)
        out.append(val if sign[k] > 0 else -val)
    return out


def exact_scalars(arr: Any) -> np.ndarray:
    """An object array (same shape) of the exact values: Python ``int`` for integer dtypes, ``Fraction`` for floats.

    Raises:
        ValueError: the dtype cannot be read exactly (see :func:`unreadable_reason`), or a value is not finite.
    """
    a = np.asarray(arr)
    reason = unreadable_reason(a.dtype)
    if reason is not None:
        raise ValueError(reason)
    if a.dtype.kind in "iub":
        out = np.empty(a.shape, dtype=object)
        out.ravel()[:] = [int(v) for v in a.ravel().tolist()] if a.size else []
        return out
    if a.size and not np.all(np.isfinite(float64_copy(a) if a.dtype.itemsize <= 8 else a)):
        raise ValueError("NaN or infinite values have no exact value")
    if a.dtype.itemsize <= 8 or _is_bfloat16(a.dtype):
        vals = [Fraction(*v.as_integer_ratio()) for v in float64_copy(a).ravel().tolist()]
    else:
        vals = _wide_float_fractions(a)
    out = np.empty(a.shape, dtype=object)
    if a.size:
        out.ravel()[:] = vals
    return out


def exact_number(v: Any) -> Fraction:
    """One number as an exact ``Fraction``: Python and NumPy ints and floats (long double included), Fractions,
    exact strings (``"3/8"``, ``"0.1"``)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, np.generic):
        reason = unreadable_reason(v.dtype)
        if reason is not None:
            raise ValueError(reason)
        return Fraction(exact_scalars(np.asarray(v)).item())
    return Fraction(v)


def exact_strings(arr: Any) -> list:
    """Nested lists of exact strings (``"3"``, ``"-5/8"``) for JSON records."""
    def fmt(v: Any) -> str:
        q = Fraction(v)
        return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"

    ex = exact_scalars(arr)
    return np.vectorize(fmt, otypes=[object])(ex).tolist() if ex.size else ex.tolist()
