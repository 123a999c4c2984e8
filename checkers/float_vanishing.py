"""Float-vanishing thresholds: where an activation's JAX function rounds to exactly 0.

For each dtype the answer is the largest finite input ``t`` at which the JAX
function returns exactly ``0`` (``None`` when it never does). 16-bit dtypes
are searched exhaustively (every finite value); float32 and float64 on a
dense grid, then by bisection on the dtype's ordered bit patterns between the
largest zero found and the next nonzero grid point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theorems.activations import Activation, get_activation

__all__ = ["DTYPES", "float_vanishing_threshold", "float_vanishing_thresholds"]

DTYPES = ("float16", "bfloat16", "float32", "float64")

_INT = {"float16": np.uint16, "bfloat16": np.uint16, "float32": np.uint32, "float64": np.uint64}


def _np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def _ordered_to_float(k: int, name: str) -> float:
    """Inverse of the monotone map from floats to integers (k=0 is -max...)."""
    bits = 8 * np.dtype(_INT[name]).itemsize
    sign = 1 << (bits - 1)
    raw = (k - sign) if k >= sign else sign | (sign - 1 - k)
    arr = np.array([raw], dtype=_INT[name])
    return float(arr.view(_np_dtype(name))[0])


def _float_to_ordered(x: float, name: str) -> int:
    bits = 8 * np.dtype(_INT[name]).itemsize
    sign = 1 << (bits - 1)
    raw = int(np.array([x], dtype=_np_dtype(name)).view(_INT[name])[0])
    if raw & sign:
        return sign - 1 - (raw & (sign - 1))
    return raw + sign


def _evaluate(act: Activation, values: np.ndarray, name: str) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(name == "float64"):
        fn = jax.jit(act.jax_fn())
        out = np.asarray(fn(jnp.asarray(values, dtype=name)))
    return out


def _all_16bit(name: str) -> np.ndarray:
    vals = np.arange(0, 1 << 16, dtype=np.uint16).view(_np_dtype(name))
    vals = vals[np.isfinite(vals.astype(np.float32))]
    return np.unique(vals.astype(np.float32)).astype(_np_dtype(name))


def _grid(name: str) -> np.ndarray:
    top = {"float32": 38.5, "float64": 308.0}[name]
    mags = np.logspace(-40 if name == "float32" else -300, top, 6001)
    lin = np.linspace(-300.0, 300.0, 60001)
    grid = np.concatenate([-mags, mags, lin, [0.0]]).astype(name)
    return np.unique(grid[np.isfinite(grid)])


def float_vanishing_threshold(activation: "str | Activation", dtype: str) -> float | None:
    """The largest finite input at which the JAX function returns exactly 0, or None."""
    act = get_activation(activation)
    if dtype not in DTYPES:
        from theorems.errors import InvalidArgument

        raise InvalidArgument(f"dtype={dtype!r} is not one of {', '.join(DTYPES)}")
    if dtype in ("float16", "bfloat16"):
        values = _all_16bit(dtype)
        out = _evaluate(act, values, dtype).astype(np.float32)
        zeros = values[out == 0]
        return None if zeros.size == 0 else float(zeros.astype(np.float32).max())
    values = _grid(dtype)
    out = _evaluate(act, values, dtype)
    zero_idx = np.nonzero(out == 0)[0]
    if zero_idx.size == 0:
        return None
    i = int(zero_idx.max())
    if i == len(values) - 1:
        return float(values[i])
    lo, hi = _float_to_ordered(float(values[i]), dtype), _float_to_ordered(float(values[i + 1]), dtype)
    # Invariant: s(lo) == 0, s(hi) != 0.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        t = _ordered_to_float(mid, dtype)
        if float(_evaluate(act, np.array([t]), dtype)[0]) == 0:
            lo = mid
        else:
            hi = mid
    return _ordered_to_float(lo, dtype)


def float_vanishing_thresholds(activation: "str | Activation") -> dict[str, float | None]:
    """Thresholds for float16, bfloat16, float32 and float64."""
    act = get_activation(activation)
    return {d: float_vanishing_threshold(act, d) for d in DTYPES}
