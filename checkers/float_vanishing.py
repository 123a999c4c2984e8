"""Float zero sets: the float inputs at which an activation rounds to exactly 0, per runtime.

Two runtimes, named everywhere a float result is reported:

* ``"ieee"``: NumPy evaluation of the expression (IEEE 754, subnormals kept);
* ``"xla"``: the activation's JAX function on CPU (XLA flushes subnormal
  results to 0 and reads subnormal inputs as 0).

:func:`float_zero_sets` returns, for one dtype, the zero set of each runtime
as sorted closed intervals ``[lo, hi]`` of float inputs (exact rationals;
every float between ``lo`` and ``hi`` gives exactly 0, the floats just
outside do not), or ``None`` where it could not be decided.

* float16 / bfloat16: exhaustive, every finite bit pattern is evaluated.
* float32 / float64: never a sample. The finite floats, ordered by bit
  pattern, are bisected; each range is certified all-zero or all-nonzero by an
  interval enclosure of the float computation (:mod:`latentcheck.checkers.float_model`:
  correctly rounded ``+ - * / sqrt``, elementary functions within a few ulps,
  flush-to-zero for XLA). Ranges of at most ``_LEAF`` floats that the
  enclosure cannot decide (the boundary band) are evaluated directly, every
  float, in the runtime. A seeded cross-check evaluates the runtime at random
  floats and next to every boundary; any disagreement with the certified
  answer, or a node/time budget running out, gives ``None``.

``float_vanishing_threshold`` (kept for compatibility) is the largest finite
input in the XLA zero set, ``None`` when that set is empty.
"""

from __future__ import annotations

import functools
import struct
import time
from fractions import Fraction
from typing import Any

import numpy as np

from ..theorems.activations import Activation, get_activation
from ..theorems.errors import NotExact
from ..theorems.errors import InvalidArgument
from ..theorems.symbols import sp, t_symbol
from .float_model import FORMATS, NoModel, enclose, model_functions

__all__ = [
    "DTYPES",
    "RUNTIMES",
    "float_vanishing_threshold",
    "float_vanishing_thresholds",
    "float_zero_sets",
    "float_zero_sets_json",
    "zero_set_empty",
    "zero_set_sentence",
    "zero_set_phrase",
    "none_exists",
]

DTYPES = ("float16", "bfloat16", "float32", "float64")
RUNTIMES = ("ieee", "xla")
#: Undecided ranges of at most this many floats are evaluated float by float.
_LEAF = 64
#: Interval evaluations allowed per (dtype, runtime) before answering None (deterministic), and a
#: wall-clock safety net for very slow machines.
_NODE_BUDGET = 1200
_SECONDS = 8.0
_CROSS_CHECK = 4096

_INT = {"float16": np.uint16, "bfloat16": np.uint16, "float32": np.uint32, "float64": np.uint64}


def _np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def _check_dtype(dtype: str) -> None:
    if dtype not in DTYPES:

        raise InvalidArgument(f"dtype={dtype!r} is not one of {', '.join(DTYPES)}")


# ------------------------------------------------------------ bit patterns in value order
def _bits(name: str) -> int:
    return 8 * np.dtype(_INT[name]).itemsize


def _keys_to_floats(keys: np.ndarray, name: str) -> np.ndarray:
    """Floats from their order keys (key 0 is -NaN...; increasing key = increasing value)."""
    sign = np.array(1 << (_bits(name) - 1), dtype=_INT[name])
    k = np.asarray(keys, dtype=_INT[name])
    raw = np.where(k >= sign, k - sign, sign | (sign - np.array(1, dtype=_INT[name]) - k))
    return raw.astype(_INT[name]).view(_np_dtype(name))


def _ordered_to_float(k: int, name: str) -> float:
    if name in ("float32", "float64"):
        bits = _bits(name)
        sign = 1 << (bits - 1)
        raw = (k - sign) if k >= sign else sign | (sign - 1 - k)
        return struct.unpack("<d" if bits == 64 else "<f", raw.to_bytes(bits // 8, "little"))[0]
    return float(_keys_to_floats(np.array([k], dtype=_INT[name]), name).astype(np.float64)[0])


def _float_to_ordered(x: float, name: str) -> int:
    sign = 1 << (_bits(name) - 1)
    raw = int(np.array([x], dtype=_np_dtype(name)).view(_INT[name])[0])
    if raw & sign:
        return sign - 1 - (raw & (sign - 1))
    return raw + sign


def _finite_keys(name: str) -> tuple[int, int]:
    top = float(np.finfo(_np_dtype(name)).max) if name != "bfloat16" else float(_np_dtype(name)(3.3895313892515355e38))
    return _float_to_ordered(-top, name), _float_to_ordered(top, name)


# ------------------------------------------------------------ runtimes
def _evaluate(act: Activation, values: np.ndarray, name: str) -> np.ndarray:
    """The activation's JAX function (XLA on the default backend) on ``values`` of dtype ``name``."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(name == "float64"):
        fn = jax.jit(act.jax_fn())
        out = np.asarray(fn(jnp.asarray(values, dtype=name)))
    return out


def _run(act: Activation, values: np.ndarray, name: str, runtime: str) -> np.ndarray:
    """Float outputs of ``runtime`` ("ieee": NumPy, "xla": JAX) at ``values`` (dtype ``name``)."""
    x = np.asarray(values, dtype=_np_dtype(name))
    if runtime == "ieee":
        return np.asarray(act.numpy(x))
    return _evaluate(act, x, name)


def _zero_mask(out: np.ndarray) -> np.ndarray:
    return np.asarray(out).astype(np.float64) == 0


# ------------------------------------------------------------ ranges of keys
def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers in sorted ``keys``."""
    if keys.size == 0:
        return []
    keys = keys.astype(np.uint64)
    if np.any(keys[1:] <= keys[:-1]):
        keys = np.unique(keys)
    breaks = np.nonzero(np.diff(keys) != 1)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [keys.size - 1]])
    return [(int(keys[s]), int(keys[e])) for s, e in zip(starts, ends)]


def _to_values(ranges: list[tuple[int, int]], name: str) -> list[tuple[Fraction, Fraction]]:
    return [(Fraction(_ordered_to_float(a, name)), Fraction(_ordered_to_float(b, name))) for a, b in ranges]


# ------------------------------------------------------------ 16-bit: exhaustive
def _exhaustive(act: Activation, name: str, runtime: str) -> list[tuple[int, int]]:
    lo, hi = _finite_keys(name)
    keys = np.arange(lo, hi + 1, dtype=np.uint64)
    out = _run(act, _keys_to_floats(keys, name), name, runtime)
    return _runs(keys[_zero_mask(out)])


# ------------------------------------------------------------ 32/64-bit: certified bisection
def _xla_tree(jax_name: str, kwargs: tuple) -> sp.Expr | None:
    """The float computation of a ``jax.nn`` catalog function, as a tree for :mod:`latentcheck.checkers.float_model`."""
    T = t_symbol()
    f = model_functions()
    Erfc, Expm1, FDiv, Log1p = f.Erfc, f.Expm1, f.FDiv, f.Log1p

    def logistic(x: sp.Expr) -> sp.Expr:  # XLA expands logistic(x) as 1 / (exp(-x) + 1)
        return FDiv(sp.Integer(1), sp.Add(sp.exp(-x), sp.Integer(1), evaluate=False))

    slope = sp.Rational(str(dict(kwargs).get("negative_slope", 0.01)))
    trees = {
        "jax.nn.relu": sp.Max(0, T),
        "jax.nn.leaky_relu": sp.Max(T, sp.Mul(slope, T, evaluate=False)),
        "jax.nn.elu": sp.Add(sp.Max(0, T), Expm1(sp.Min(0, T)), evaluate=False),
        "jax.nn.gelu": sp.Mul(sp.Mul(sp.Rational(1, 2), T, evaluate=False),
                              Erfc(sp.Mul(sp.Mul(-1, T, evaluate=False), sp.sqrt(sp.Rational(1, 2)), evaluate=False)),
                              evaluate=False),
        "jax.nn.silu": sp.Mul(T, logistic(T), evaluate=False),
        "jnp.tanh": sp.tanh(T),
        "jax.nn.sigmoid": logistic(T),
        "jax.nn.softplus": sp.Add(sp.Max(T, 0), Log1p(sp.exp(-sp.Abs(T))), evaluate=False),
        "jax.nn.hard_sigmoid": FDiv(sp.Min(sp.Max(sp.Add(T, 3, evaluate=False), 0), 6), sp.Integer(6)),
        "jax.nn.soft_sign": FDiv(T, sp.Add(sp.Abs(T), 1, evaluate=False)),
        "jnp.exp": sp.exp(T),
        "jax.nn.relu6": sp.Min(sp.Max(T, 0), 6),
        "jax.nn.hard_tanh": sp.Max(-1, sp.Min(1, T)),
    }
    if jax_name == "jax.nn.gelu" and dict(kwargs).get("approximate", True):
        return None
    return trees.get(jax_name)


def _model_tree(act: Activation, runtime: str) -> sp.Expr | None:
    if runtime == "ieee" or act.jax_name is None:
        return act.expr
    return _xla_tree(act.jax_name, act.jax_kwargs)


def _verdict(tree: sp.Expr, a: int, b: int, name: str, flush: bool) -> str | None:

    try:
        lo, hi = enclose(tree, _ordered_to_float(a, name), _ordered_to_float(b, name), FORMATS[name], flush)
    except NoModel:
        return "no-model"
    except Exception:  # any failure of the enclosure leaves the range undecided, never guessed
        return None
    if lo == 0 and hi == 0:
        return "zero"
    if lo > 0 or hi < 0:
        return "nonzero"
    return None


def _subnormal_keys(name: str) -> tuple[int, int]:
    """Key range of the inputs XLA may read as 0: every subnormal and both zeros."""
    tiny = float(np.finfo(_np_dtype(name)).smallest_normal) if name != "bfloat16" else 2.0**-126
    return _float_to_ordered(-tiny, name) + 1, _float_to_ordered(tiny, name) - 1


def _bisect(tree: sp.Expr, name: str, flush: bool) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """(certified all-zero key ranges, ranges to evaluate float by float), or None when undecidable in budget.

    Under XLA a range of subnormal inputs that the model cannot decide is
    evaluated float by float in float32 (at most 2**24 of them); in float64 it
    makes the answer None (too many to evaluate).
    """
    lo, hi = _finite_keys(name)
    s_lo, s_hi = _subnormal_keys(name)
    stack: list[tuple[int, int]] = [(lo, hi)]
    band: list[tuple[int, int]] = []
    zeros: list[tuple[int, int]] = []
    nodes, deadline = 0, time.monotonic() + _SECONDS
    while stack:
        a, b = stack.pop()
        if b - a < _LEAF:
            band.append((a, b))
            continue
        nodes += 1
        if nodes > _NODE_BUDGET or time.monotonic() > deadline:
            return None
        verdict = _verdict(tree, a, b, name, flush)
        if verdict == "no-model":
            return None
        if verdict == "zero":
            zeros.append((a, b))
        elif verdict is None:
            if flush and s_lo <= a and b <= s_hi:
                if name != "float32":
                    return None
                band.append((a, b))  # at most 2**24 subnormal floats: evaluate them all
                continue
            mid = (a + b) // 2
            stack.extend([(mid + 1, b), (a, mid)])
    return zeros, band


def _direct_zeros(act: Activation, ranges: list[tuple[int, int]], name: str, runtime: str) -> list[tuple[int, int]]:
    """Zero runs found by evaluating every float of ``ranges`` in ``runtime`` (in chunks)."""
    found: list[tuple[int, int]] = []
    chunk = 1 << 22
    for a, b in ranges:
        for start in range(a, b + 1, chunk):
            keys = np.arange(start, min(b, start + chunk - 1) + 1, dtype=np.uint64)
            found += _runs(keys[_zero_mask(_run(act, _keys_to_floats(keys, name), name, runtime))])
    return found


def _in_ranges(keys: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    inside = np.zeros(keys.shape, dtype=bool)
    for a, b in ranges:
        inside |= (keys >= a) & (keys <= b)
    return inside


def _cross_check_keys(ranges: list[tuple[int, int]], name: str, seed: int = 0) -> np.ndarray:
    lo, hi = _finite_keys(name)
    rng = np.random.default_rng(seed)
    picks = [int(v) for v in rng.integers(lo, hi, size=_CROSS_CHECK, dtype=np.uint64, endpoint=True)]
    for a, b in ranges:
        picks += [k for k in range(a - 3, a + 4) if lo <= k <= hi] + [k for k in range(b - 3, b + 4) if lo <= k <= hi]
        picks += [(a + b) // 2]
    return np.array(sorted(set(picks)), dtype=np.uint64)


def _certified(act: Activation, name: str, runtime: str) -> list[tuple[int, int]] | None:
    tree = _model_tree(act, runtime)
    if tree is None:
        return None
    found = _bisect(tree, name, flush=runtime == "xla")
    if found is None:
        return None
    zeros, band = found
    small = [r for r in band if r[1] - r[0] < _LEAF]
    if small:
        keys = np.concatenate([np.arange(a, b + 1, dtype=np.uint64) for a, b in small])
        zeros = zeros + _runs(keys[_zero_mask(_run(act, _keys_to_floats(keys, name), name, runtime))])
    zeros = zeros + _direct_zeros(act, [r for r in band if r[1] - r[0] >= _LEAF], name, runtime)
    ranges = _merge(zeros)
    probe = _cross_check_keys(ranges, name)
    seen = _zero_mask(_run(act, _keys_to_floats(probe, name), name, runtime))
    if np.any(seen != _in_ranges(probe, ranges)):
        return None  # the runtime disagrees with the float model: do not guess
    return ranges


@functools.lru_cache(maxsize=128)
def _zero_keys(act: Activation, name: str, runtime: str) -> tuple[tuple[int, int], ...] | None:
    try:
        if name in ("float16", "bfloat16"):
            return tuple(_exhaustive(act, name, runtime))
        ranges = _certified(act, name, runtime)
    except (NotExact, ArithmeticError, TypeError, ValueError):
        return None  # the runtime cannot evaluate this expression: undecided, never a guess
    return None if ranges is None else tuple(ranges)


def float_zero_sets(activation: "str | Activation", dtype: str) -> dict[str, list[tuple[Fraction, Fraction]] | None]:
    """The float zero set of ``activation`` in ``dtype``, per runtime ("ieee", "xla").

    Each set is a sorted list of closed intervals ``(lo, hi)`` of float inputs
    (exact values) on which the runtime returns exactly 0; ``[]`` means it
    never does; ``None`` means undecided (budget, no float model, or the
    runtime disagreed with the model's certificate).

    Example:
        >>> float_zero_sets("relu", "float16")["ieee"][0][1]
        Fraction(0, 1)
    """
    act = get_activation(activation)
    _check_dtype(dtype)
    out: dict[str, list[tuple[Fraction, Fraction]] | None] = {}
    for runtime in RUNTIMES:
        keys = _zero_keys(act, dtype, runtime)
        out[runtime] = None if keys is None else _to_values(list(keys), dtype)
    return out


def _decimal(q: Fraction) -> str:
    """The exact decimal expansion of a dyadic rational (every float has one)."""
    if q.denominator == 1:
        return str(q.numerator)
    k = q.denominator.bit_length() - 1  # denominator is 2**k
    digits = q.numerator * 5**k
    sign = "-" if digits < 0 else ""
    s = str(abs(digits)).rjust(k + 1, "0")
    whole, frac = s[:-k], s[-k:].rstrip("0")
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def float_zero_sets_json(activation: "str | Activation") -> dict[str, dict[str, list[list[str]] | None]]:
    """``{dtype: {"ieee": [[lo, hi], ...] | None, "xla": ...}}`` with exact decimal strings."""
    act = get_activation(activation)
    result: dict[str, dict[str, list[list[str]] | None]] = {}
    for dtype in DTYPES:
        sets = float_zero_sets(act, dtype)
        result[dtype] = {rt: None if s is None else [[_decimal(lo), _decimal(hi)] for lo, hi in s]
                         for rt, s in sets.items()}
    return result


def _short(text: str) -> str:
    """A readable form of an exact decimal (the JSON keeps every digit)."""
    return text if len(text) <= 24 else repr(float(Fraction(text)))


def zero_set_sentence(intervals: list[list[str]] | None, dtype: str = "float64") -> str:
    """One true sentence about a zero set given as exact decimal intervals (None: undecided)."""
    if intervals is None:
        return "undecided (not certified within the budget; treat as unknown)"
    if not intervals:
        return "never (no finite float input gives exactly 0)"
    parts = []
    for lo, hi in intervals:
        flo, fhi = Fraction(lo), Fraction(hi)
        if flo == fhi:
            parts.append(f"t = {_short(lo)}")
        else:
            parts.append(f"every float t in [{_short(lo)}, {_short(hi)}]")
    lo_key, hi_key = _finite_keys(dtype)
    bottom, top = Fraction(_ordered_to_float(lo_key, dtype)), Fraction(_ordered_to_float(hi_key, dtype))
    first, last = Fraction(intervals[0][0]), Fraction(intervals[-1][1])
    note = ""
    if len(intervals) == 1 and first == bottom and last != top:
        note = f" (that is, every finite float t <= {_short(intervals[0][1])})"
    elif len(intervals) == 1 and last == top and first != bottom:
        note = f" (that is, every finite float t >= {_short(intervals[0][0])})"
    return "exactly 0 at " + " and ".join(parts) + note + "; nonzero at every other finite float"


def zero_set_phrase(activation: "str | Activation", dtype: str, runtime: str = "xla") -> str:
    """A true sentence on where ``runtime`` rounds the activation to 0 in ``dtype`` (for reports)."""
    act = get_activation(activation)
    _check_dtype(dtype)
    keys = _zero_keys(act, dtype, runtime)
    if keys is None:
        return f"its {dtype} zero set under {runtime} is undecided"
    intervals = [[_decimal(lo), _decimal(hi)] for lo, hi in _to_values(list(keys), dtype)]
    return f"under {runtime} in {dtype} it is " + zero_set_sentence(intervals, dtype)


def zero_set_empty(activation: "str | Activation", dtype: str, runtime: str = "xla") -> bool:
    """True only when the sound zero set of ``runtime`` in ``dtype`` is decided and empty.

    An overflowing pre-activation reaches ``s`` as ``+-inf``, so both
    infinities are evaluated in the runtime too and must not give 0.
    """
    _check_dtype(dtype)
    act = get_activation(activation)
    if float_zero_sets(act, dtype).get(runtime) != []:
        return False
    try:
        ends = _run(act, np.array([-np.inf, np.inf]), dtype, runtime)
    except (NotExact, ArithmeticError, TypeError, ValueError):
        return False
    return not bool(np.any(_zero_mask(ends)))


def none_exists(classification: Any, activation: "str | Activation", dtype: str, runtime: str = "xla") -> bool:
    """P3 "none-exists": a non-vanishing theorem (T2) AND an empty sound float zero set in ``dtype``/``runtime``."""
    if classification is None or getattr(classification, "cls", None) != "non-vanishing":
        return False
    return zero_set_empty(activation, dtype, runtime)


# ------------------------------------------------------------ compatibility: thresholds
def _grid(name: str) -> np.ndarray:
    top = {"float32": 38.5, "float64": 308.0}[name]
    mags = np.logspace(-40 if name == "float32" else -300, top, 6001)
    lin = np.linspace(-300.0, 300.0, 60001)
    grid = np.concatenate([-mags, mags, lin, [0.0]]).astype(name)
    return np.unique(grid[np.isfinite(grid)])


def _grid_threshold(act: Activation, dtype: str) -> float | None:
    """Search heuristic used only when the zero set is undecided (a grid, then bisection)."""
    values = _grid(dtype)
    out = _evaluate(act, values, dtype)
    zero_idx = np.nonzero(out == 0)[0]
    if zero_idx.size == 0:
        return None
    i = int(zero_idx.max())
    if i == len(values) - 1:
        return float(values[i])
    lo, hi = _float_to_ordered(float(values[i]), dtype), _float_to_ordered(float(values[i + 1]), dtype)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(_evaluate(act, np.array([_ordered_to_float(mid, dtype)]), dtype)[0]) == 0:
            lo = mid
        else:
            hi = mid
    return _ordered_to_float(lo, dtype)


def float_vanishing_threshold(activation: "str | Activation", dtype: str) -> float | None:
    """The largest finite input at which the JAX (XLA) function returns exactly 0, or None.

    From the XLA zero set when it is decided; otherwise a grid search (a
    heuristic for the falsifier's aim, never a certificate).
    """
    act = get_activation(activation)
    _check_dtype(dtype)
    keys = _zero_keys(act, dtype, "xla")
    if keys is None:
        return _grid_threshold(act, dtype)
    return None if not keys else _ordered_to_float(keys[-1][1], dtype)


def float_vanishing_thresholds(activation: "str | Activation") -> dict[str, float | None]:
    """Thresholds for float16, bfloat16, float32 and float64."""
    act = get_activation(activation)
    return {d: float_vanishing_threshold(act, d) for d in DTYPES}
