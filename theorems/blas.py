"""Single-threaded BLAS for small dense solves (latency, not throughput): the falsifier's constructions, the shrinker.

The constructions solve systems of a few hundred unknowns (a 64-column QR, a
600 x 600 LU, NNLS). Multi-threaded OpenBLAS makes such calls slower, and on a
shared 2-core machine erratic: measured here, a 600 x 600 solve took 11 ms
typically and up to 114 ms with two BLAS threads, 3.3 ms with one; a 64 x 64
Gram product up to 50 ms instead of 0.2 ms. :func:`serial_blas` sets the
calling thread's OpenBLAS thread count to 1 (``openblas_set_num_threads_local``,
OpenBLAS >= 0.3.27, a per-thread setting) for NumPy's and SciPy's OpenBLAS
copies that are loaded, and restores the previous values on exit. Where the
symbol or ``/proc/self/maps`` is missing (another BLAS, another OS) it does
nothing. Results do not change: only the thread count does.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from typing import Iterator

__all__ = ["serial_blas"]

_CACHE: dict[tuple, list] = {}


def _setters() -> list:
    key = ("numpy" in sys.modules, "scipy.linalg" in sys.modules)
    fns = _CACHE.get(key)
    if fns is not None:
        return fns
    fns = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line})
        for path in paths:
            try:
                f = ctypes.CDLL(path).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            f.restype = ctypes.c_int
            f.argtypes = [ctypes.c_int]
            fns.append(f)
    except OSError:
        pass
    _CACHE[key] = fns
    return fns


@contextlib.contextmanager
def serial_blas() -> Iterator[None]:
    """Run the block with one OpenBLAS thread in this thread (a no-op where that cannot be set)."""
    fns = _setters()
    prev = []
    for f in fns:
        try:
            prev.append((f, f(1)))
        except Exception:  # a foreign library: leave it alone
            pass
    try:
        yield
    finally:
        for f, p in reversed(prev):
            try:
                f(p)
            except Exception:
                pass
