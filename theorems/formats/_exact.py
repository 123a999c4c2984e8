"""Exact widening of stored weights to float64, keeping the stored dtype's name.

Every IEEE float16, bfloat16 and float32 value is a float64 value, so
widening is exact; bfloat16 is decoded from its bits (the top 16 bits of a
float32). Wider or non-float dtypes that float64 cannot hold exactly are
refused, never narrowed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidWeights

__all__ = ["widen_exact", "bf16_bits_to_float32", "widest", "FLOAT_ORDER"]

# Narrowest first; "widest" picks the last one present (integer dtypes count as float64).
FLOAT_ORDER = ("float16", "bfloat16", "float32", "float64")


def bf16_bits_to_float32(bits_u16: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) as float32: the bits become the top half, exactly."""
    return (np.asarray(bits_u16, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _dtype_name(arr: np.ndarray) -> str:
    return str(arr.dtype.name)


def widen_exact(name: str, value: Any, where: str) -> tuple[np.ndarray, str]:
    """``value`` as float64 without rounding, and the name of its stored dtype.

    Raises:
        InvalidWeights: a dtype float64 cannot hold exactly (float128, int64
            beyond 2**53, complex, bool, strings, float8 ...).
    """
    arr = np.asarray(value)
    kind = _dtype_name(arr)
    if kind == "bfloat16":
        wide = bf16_bits_to_float32(arr.view(np.uint16)).astype(np.float64)
    elif kind in ("float16", "float32", "float64") or kind in ("int8", "uint8", "int16", "uint16", "int32", "uint32"):
        wide = arr.astype(np.float64)
    elif kind in ("int64", "uint64") and (arr.size == 0 or int(np.max(np.abs(arr.astype(object)))) <= 2**53):
        wide = arr.astype(np.float64)
    else:
        raise InvalidWeights(f"{name} in {where} has dtype {kind}, which latentcheck cannot read exactly; "
                             "store float16, bfloat16, float32 or float64 weights")
    if kind != "bfloat16" and not np.array_equal(wide.astype(arr.dtype), arr, equal_nan=True):
        raise InvalidWeights(f"{name} in {where} did not widen exactly from {kind}; store float32 or float64 weights")
    return wide, ("float64" if kind in ("int64", "uint64") else kind)


def widest(names: "list[str] | tuple[str, ...]") -> str:
    """The widest of stored dtype names (the dtype that holds them all exactly for floats)."""
    known = [n if n in FLOAT_ORDER else "float64" for n in names]
    if not known:
        return "float64"
    best = max(known, key=FLOAT_ORDER.index)
    if best == "float16" and "bfloat16" in known or best == "bfloat16" and "float16" in known:
        return "float32"  # neither 16-bit format holds the other
    return best
