"""Hypothesis strategies for the soundness fuzzer: activations, encoders, domains, dtypes.

A :class:`Case` is plain data (arrays in their own dtypes, activation texts,
a domain and its rows), written to files by :func:`write_case` so the engine
and the re-checker read the same bytes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["Case", "cases", "activations", "literals", "write_case", "CATALOG_NAMES", "FLOAT_DTYPES", "WEIGHT_DTYPES"]

CATALOG_NAMES = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "identity", "sigmoid", "softplus",
                 "hard_sigmoid", "softsign", "exp", "relu6", "hard_tanh", "erf")
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
WEIGHT_DTYPES = ("float16", "float32", "float64", "longdouble", "int8", "int64")

#: Literals that a float reading gets wrong, or that sit at the edges of the dtypes.
SPECIAL_LITERALS = ("1e-400", "0.1000000000000000000001", "123456789012.5", "1/3", "1e-30", "1e-50", "2.5",
                    "0", "1", "7e-46", "3.4e38", "1e-320", "5e-324", "65504", "6e-8", "0.30000000000000000001",
                    "1/10**50", "2**-149", "999999999999")


@dataclass(frozen=True)
class Case:
    """One fuzz case: property, encoder (stored arrays and activation texts), domain, dtype, seed."""

    prop: str
    weights: tuple  # per layer: (W (out, in), b (out,)) in their stored dtypes
    activations: tuple  # per layer: activation text
    domain: str  # reals | nonneg | binary | data
    rows: Any  # np.ndarray of data rows (data domain), else None
    dtype: str
    seed: int = 0

    def describe(self) -> str:
        sizes = [self.weights[0][0].shape[1]] + [W.shape[0] for W, _ in self.weights]
        dts = [f"{W.dtype}/{b.dtype}" for W, b in self.weights]
        rows = "" if self.rows is None else f" rows={self.rows.tolist()!r} ({self.rows.dtype})"
        ws = "; ".join(f"W{i}={W.tolist()!r} b{i}={b.tolist()!r}" for i, (W, b) in enumerate(self.weights))
        return (f"{self.prop} sizes={sizes} acts={list(self.activations)!r} weights={dts} domain={self.domain} "
                f"dtype={self.dtype}{rows} {ws}")


# ------------------------------------------------------------------ literals and activations
@st.composite
def _decimal(draw: Any) -> str:
    kind = draw(st.sampled_from(["tiny", "long", "huge", "plain"]))
    if kind == "tiny":
        return f"{draw(st.integers(1, 9))}e-{draw(st.integers(20, 420))}"
    if kind == "long":
        return "0." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=18, max_size=30))) + "1"
    if kind == "huge":
        return f"{draw(st.integers(1, 999999))}{draw(st.integers(100000, 999999))}.5"
    return f"{draw(st.integers(0, 9))}.{draw(st.integers(0, 99))}"


def literals() -> st.SearchStrategy[str]:
    """Decimal texts: tiny (``1e-400``), long (``0.1000...01``), huge, plain, and the special list."""
    return st.one_of(st.sampled_from(SPECIAL_LITERALS), _decimal())


_TEMPLATES = (
    "Max(0, t) + {L}", "Max(0, t - {L})", "tanh(t - {L})", "(t - {L})**2 + {T}", "Max(0, t) - {L}",
    "{L}*Max(0, t)", "exp(t)*{L}", "1/(1 + exp(-t)) + {L}", "tanh(t) + {T}", "Min(Max(0, t), {L})",
    "Max(t, {L}*t)", "t - {L}", "(t - {L})**2", "exp(t) + {L}", "Abs(t - {L})", "sinh(t - {L})",
)


@st.composite
def _template(draw: Any) -> str:
    text = draw(st.sampled_from(_TEMPLATES))
    return text.replace("{L}", draw(literals())).replace("{T}", draw(literals()))


def _expr_tree() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.just("t"), st.just("t"), literals())
    unary = ("exp", "tanh", "sinh", "sin", "erf", "Abs", "-")

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(st.sampled_from(unary), inner).map(lambda a: f"-({a[1]})" if a[0] == "-" else f"{a[0]}({a[1]})"),
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda a: f"({a[0]}) {a[1]} ({a[2]})"),
            st.tuples(inner, st.integers(2, 3)).map(lambda a: f"({a[0]})**{a[1]}"),
            st.tuples(st.sampled_from(["Max", "Min"]), inner, inner).map(lambda a: f"{a[0]}({a[1]}, {a[2]})"),
        )

    return st.recursive(leaves, extend, max_leaves=5).filter(lambda s: re.search(r"\bt\b", s) is not None)


def activations() -> st.SearchStrategy[str]:
    """Catalog names, templates with hard literals, and random expressions of the grammar."""
    return st.one_of(st.sampled_from(CATALOG_NAMES), _template(), _template(), _expr_tree())


# ------------------------------------------------------------------ encoders
_SPECIAL_VALUES = {
    "float16": (6e-8, -6e-8, 6.1e-5, 65504.0, -65504.0),
    "float32": (1e-45, -1e-45, 1.2e-38, 3e38, -3e38),
    "float64": (5e-324, -5e-324, 2.3e-308, 1e300, -1e300),
    "longdouble": (5e-324, 1e300),
}


@st.composite
def _array(draw: Any, shape: tuple[int, ...], dtype: str, wild: bool) -> np.ndarray:
    size = int(np.prod(shape))
    if dtype in ("int8", "int64"):
        hi = 3 if dtype == "int8" or not wild else 2**53 + 1
        vals = draw(st.lists(st.integers(-hi, hi), min_size=size, max_size=size))
        return np.array(vals, dtype=dtype).reshape(shape)
    width = {"float16": 16, "float32": 32}.get(dtype, 64)
    plain = st.floats(-2.0, 2.0, width=width, allow_subnormal=False)
    elem = st.one_of(plain, plain, st.integers(-2, 2).map(float),
                     st.sampled_from(_SPECIAL_VALUES[dtype])) if wild else plain
    vals = draw(st.lists(elem, min_size=size, max_size=size))
    if dtype == "longdouble":
        out = np.array(vals, dtype=np.longdouble)
        ticks = draw(st.lists(st.integers(-3, 3), min_size=size, max_size=size))  # below float64's last bit
        return (out + np.array(ticks, dtype=np.longdouble) * np.longdouble(2.0) ** -60).reshape(shape)
    return np.array(vals, dtype=dtype).reshape(shape)


@st.composite
def encoders(draw: Any, max_n: int = 6, max_depth: int = 2, max_width: int = 4, wild: bool = True,
             few_shapes: bool = True) -> tuple:
    """``(weights, activations)``: deep and mixed-width, any weight dtype per array.

    ``few_shapes`` draws sizes from a short list (the engine compiles its JAX search once per shape).
    """
    size = (lambda lo, hi: st.sampled_from(sorted({hi, max(lo, hi // 2), lo + 1}, reverse=True))) if few_shapes \
        else st.integers
    n = draw(size(2, max_n))
    depth = draw(st.integers(1, max_depth))
    sizes = [n] + [draw(size(1, max_width)) for _ in range(depth - 1)] + [draw(size(1, 3))]
    weights = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        wd, bd = draw(st.sampled_from(WEIGHT_DTYPES)), draw(st.sampled_from(WEIGHT_DTYPES))
        weights.append((draw(_array((b, a), wd, wild)), draw(_array((b,), bd, wild))))
    latent = draw(activations())
    hidden = draw(st.one_of(st.just(latent), st.sampled_from(CATALOG_NAMES)))
    acts = tuple([hidden] * (depth - 1) + [latent])
    return tuple(weights), acts


@st.composite
def _rows(draw: Any, n: int) -> np.ndarray:
    kind = draw(st.sampled_from(["int", "float", "big"]))
    k = draw(st.integers(2, 5))
    if kind == "float":
        vals = draw(st.lists(st.lists(st.floats(-3, 3, width=64), min_size=n, max_size=n), min_size=k, max_size=k))
        return np.array(vals, dtype=np.float64)
    hi = 3 if kind == "int" else 2**53 + 1
    vals = draw(st.lists(st.lists(st.integers(-hi, hi), min_size=n, max_size=n), min_size=k, max_size=k))
    if kind == "big":
        vals[0] = ([2**53 + 1, 2**53] + [0] * n)[:n]
    return np.array(vals, dtype=np.int64)


@st.composite
def cases(draw: Any, max_n: int = 6, max_depth: int = 2, max_width: int = 4, few_shapes: bool = True) -> Case:
    """A whole fuzz case."""
    weights, acts = draw(encoders(max_n=max_n, max_depth=max_depth, max_width=max_width, few_shapes=few_shapes))
    n = weights[0][0].shape[1]
    domain = draw(st.sampled_from(["reals", "reals", "nonneg", "binary", "data"]))
    rows = draw(_rows(n)) if domain == "data" else None
    return Case(draw(st.sampled_from(["p3", "p3", "p2"])), weights, acts, domain, rows, draw(st.sampled_from(FLOAT_DTYPES)))


def write_case(case: Case, folder: str) -> tuple[str, str | None, str]:
    """Write ``encoder.npz`` (and ``rows.npy``); returns ``(weights path, data path or None, domain spec)``."""
    os.makedirs(folder, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for i, (W, b) in enumerate(case.weights):
        arrays[f"W{i}"], arrays[f"b{i}"] = W, b
    arrays["activations"] = np.array(list(case.activations), dtype=np.str_)
    path = os.path.join(folder, "encoder.npz")
    np.savez(path, **arrays)
    if case.domain != "data":
        return path, None, case.domain
    data = os.path.join(folder, "rows.npy")
    np.save(data, case.rows)
    return path, data, f"data:{data}"
