"""Hypothesis strategies for encoders, activations and input domains.

Every strategy here is built from ``hypothesis.strategies`` and
``hypothesis.extra.numpy`` and shrinks toward the smallest readable example:

* :func:`activations` shrinks toward the first catalog name (``'relu'``);
  generated formulas shrink toward ``t``.
* :func:`encoders` draws small integer (or quarter-integer) weights, so a
  falsifying example prints as a call you can paste back into Python::

      Encoder.from_arrays(weights=[[[0.0, 1.0]]], biases=[[0.0]], activations=['relu'])

* The input domains (:func:`reals`, :func:`nonneg`, :func:`binary`,
  :func:`sphere`, :func:`rows_of`) draw float64 vectors of shape ``(n,)``
  that shrink toward the zero vector, unit vectors and row 0.

Example:
    >>> from hypothesis import given
    >>> from latentcheck.checkers.testing import encoders, binary
    >>> @given(encoders(n=4, m=2, activation="sigmoid"), binary(4))
    ... def test_sigmoid_never_vanishes(enc, x):
    ...     assert enc(x).any()
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...theorems.activations import Activation, catalog_names, get_activation
from ...theorems.encoder import Encoder
from ...theorems.errors import InvalidArgument, LatentcheckError
from ...theorems.symbols import t_symbol
from ...theorems.inputs import parse_normalisation, with_input_normalise

__all__ = ["activations", "encoders", "reals", "nonneg", "binary", "sphere", "rows_of", "WEIGHT_KINDS"]

#: Accepted values of ``encoders(weights=...)``.
WEIGHT_KINDS = ("full-rank", "degenerate", "any")

_MAX_DIM = 4096
_MAX_GRID = 8


# --------------------------------------------------------------------- helpers
def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name}={value!r} must be an int (or a Hypothesis strategy of ints)")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidArgument(f"{name}={value!r} must be {bound}")
    return value


def _int_or_strategy(name: str, value: Any, low: int, high: int | None = None) -> st.SearchStrategy[int]:
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(_check_int(name, value, low, high))


def _check_dim(name: str, n: Any) -> int:
    return _check_int(name, n, 1, _MAX_DIM)


# --------------------------------------------------------------------- activations
_UNARY = ("exp", "tanh", "erf", "sin", "cos", "Abs")


_BINARY = ("({a} + {b})", "({a} - {b})", "({a})*({b})", "Max({a}, {b})", "Min({a}, {b})")
_WRAP = ("({a})**2", "log(1 + exp({a}))", "sqrt(1 + ({a})**2)", "{a}/(1 + Abs({a}))")
_LEAVES = ("t", "{k}*t", "(t - {k})", "(t + {k})")


@st.composite
def _formula(draw: Callable, budget: int) -> str:
    """A formula in t from a small grammar; production 0 is a leaf, so it shrinks toward ``t``."""
    kind = draw(st.integers(0, 3)) if budget > 1 else 0
    if kind == 0:
        leaf = draw(st.sampled_from(_LEAVES))
        return leaf.format(k=draw(st.integers(1, 3))) if "{k}" in leaf else leaf
    if kind == 1:
        return f"{draw(st.sampled_from(_UNARY))}({draw(_formula(budget - 1))})"
    if kind == 2:
        return draw(st.sampled_from(_WRAP)).format(a=draw(_formula(budget - 1)))
    left = draw(_formula(budget // 2))
    right = draw(_formula(budget - budget // 2))
    return draw(st.sampled_from(_BINARY)).format(a=left, b=right)


def _is_activation_formula(text: str) -> bool:
    try:
        return bool(get_activation(text).expr.has(t_symbol()))
    except LatentcheckError:
        return False


def activations(*, names: Sequence[str] | None = None, expressions: bool = True, max_leaves: int = 4) -> st.SearchStrategy[str]:
    """Activation specs: catalog names, then formulas in ``t`` from the parser's whitelist.

    Each value is a string accepted everywhere an activation is
    (``latentcheck.theorems.get_activation``, ``Encoder.from_arrays``, ``--activation``).
    Shrinks toward the first name (``'relu'`` for the full catalog); generated
    formulas use only ``+ - * / **`` and ``exp log sqrt tanh erf sin cos Abs
    Max Min`` in forms that are real for every real ``t`` (``log(1 + exp(.))``,
    ``sqrt(1 + (.)**2)``) and always depend on ``t``.

    Args:
        names: catalog names to draw from (default: the whole catalog).
        expressions: also draw generated formulas.
        max_leaves: size bound for generated formulas.

    Example:
        >>> from latentcheck.checkers.testing import activations
        >>> activations(names=["sigmoid", "softplus"], expressions=False).example() in ("sigmoid", "softplus")
        True
    """
    catalog = catalog_names()
    if names is None:
        chosen = list(catalog)
    else:
        if isinstance(names, str):
            raise InvalidArgument(f"names={names!r} must be a list of catalog names, e.g. names=[{names!r}]")
        chosen = list(names)
        unknown = [nm for nm in chosen if nm not in catalog]
        if unknown:
            raise InvalidArgument(f"names={chosen!r} holds {unknown!r}, which are not catalog names; choose from {', '.join(catalog)}")
    _check_int("max_leaves", max_leaves, 1, 64)
    if not chosen and not expressions:
        raise InvalidArgument("names=[] with expressions=False leaves nothing to draw; give at least one name or set expressions=True")
    parts: list[st.SearchStrategy[str]] = []
    if chosen:
        parts.append(st.sampled_from(chosen))
    if expressions:
        parts.append(_formula(max_leaves).filter(_is_activation_formula))
    return st.one_of(*parts) if len(parts) > 1 else parts[0]


# --------------------------------------------------------------------- weights
def _array(shape: tuple, elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays whose entries are drawn one by one (no fill value), so each shrinks on its own."""
    return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())


def _elements(max_weight: int) -> st.SearchStrategy[float]:
    """Small integers first, then quarters: shrinks to 0, then 1, -1, 2, ..."""
    return st.one_of(
        st.integers(-max_weight, max_weight).map(float),
        st.integers(-4 * max_weight, 4 * max_weight).map(lambda k: k / 4),
    )


def exact_rank(matrix: Any) -> int:
    """The rank of a float matrix, computed exactly over the rationals."""
    rows = [[Fraction(float(v)) for v in row] for row in np.asarray(matrix, dtype=np.float64)]
    rank, ncols = 0, (len(rows[0]) if rows else 0)
    for col in range(ncols):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        p = rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                f = rows[r][col] / p[col]
                rows[r] = [a - f * b for a, b in zip(rows[r], p)]
        rank += 1
    return rank


@st.composite
def _matrix(draw: Callable, rows: int, cols: int, kind: str, max_weight: int, grid: tuple[int, int]) -> list[list[float]]:
    """A ``rows x cols`` weight matrix of the requested kind.

    Entries are drawn on a ``grid`` (at least ``rows x cols``, the largest
    shape this layer can take), column by column, and the top-left block is
    kept. Lowering a dimension while shrinking then keeps every other entry
    where it was, so dimensions shrink as easily as values.
    """
    full = min(rows, cols)
    grows, gcols = max(grid[0], rows), max(grid[1], cols)
    ints = st.integers(-max_weight, max_weight).map(float)
    if kind == "degenerate":
        r = draw(st.integers(0, full - 1))
        U = np.stack([draw(_array((grows,), ints)) for _ in range(r)], axis=1)[:rows] if r else np.zeros((rows, 0))
        V = np.stack([draw(_array((r,), ints)) for _ in range(gcols)], axis=1)[:, :cols] if r else np.zeros((0, cols))
        return (U @ V + 0.0).tolist()
    W = np.stack([draw(_array((grows,), _elements(max_weight))) for _ in range(gcols)], axis=1)[:rows, :cols]
    if kind == "full-rank" and exact_rank(W) < full:
        # Deterministic repair: adding [I | 0] makes the all-zero draw (the
        # simplest one) the simplest full-rank matrix.
        W = W + np.eye(rows, cols)
        if exact_rank(W) < full or np.any(np.abs(W) > max_weight):  # the repair must keep |w| <= max_weight
            from hypothesis import reject

            reject()
    return (W + 0.0).tolist()


def _from_arrays(weights: list, biases: list, activations: list) -> Encoder:
    return Encoder.from_arrays(weights, biases, activations)


# Hypothesis prints a drawn encoder as this call, which pastes back into Python.
_from_arrays.__name__ = _from_arrays.__qualname__ = "Encoder.from_arrays"


def _activation_strategy(name: str, value: Any) -> st.SearchStrategy[str]:
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, Activation):
        return st.just(value.name)
    if isinstance(value, str):
        try:
            get_activation(value)
        except LatentcheckError as exc:
            raise InvalidArgument(f"{name}={value!r} is not an activation: {exc}") from None
        return st.just(value)
    raise InvalidArgument(f"{name}={value!r} must be a catalog name, a formula in t, or a strategy such as activations()")


def _bound(value: Any) -> int | None:
    """The largest value an int-or-strategy argument can take, when known."""
    return int(value) if not isinstance(value, st.SearchStrategy) else None


def _drawn(name: str, value: Any, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= high:
        raise InvalidArgument(f"{name} drew {value!r}; the strategy given as {name} must draw ints between 1 and {high}")
    return int(value)


@dataclass(frozen=True)
class _Plan:
    """The checked arguments of :func:`encoders`; ``grid`` is the side of the square every layer is drawn on (0: exact shapes)."""

    n: Any
    m: Any
    depth: st.SearchStrategy[int]
    act: st.SearchStrategy[str]
    hidden: st.SearchStrategy[str] | None
    weights: str
    bias: bool
    max_weight: int
    grid: int


def _plan(n: Any, m: Any, depth: Any, activation: Any, hidden_activation: Any, weights: str, bias: bool, max_weight: int) -> _Plan:
    if weights not in WEIGHT_KINDS:
        raise InvalidArgument(f"weights={weights!r} must be one of {', '.join(repr(k) for k in WEIGHT_KINDS)}")
    if not isinstance(bias, bool):
        raise InvalidArgument(f"bias={bias!r} must be True or False")
    _check_int("max_weight", max_weight, 1, 1000)
    if n is None:
        n, n_max = st.integers(2, 6), 6
    else:
        n = n if isinstance(n, st.SearchStrategy) else _check_dim("n", n)
        n_max = _bound(n)
    if m is not None and not isinstance(m, st.SearchStrategy):
        m = _check_dim("m", m)
    m_max = (max(1, n_max - 1) if n_max is not None else None) if m is None else _bound(m)
    act = _activation_strategy("activation", activation) if activation is not None else st.sampled_from(catalog_names())
    hidden = _activation_strategy("hidden_activation", hidden_activation) if hidden_activation is not None else None
    # The largest shape any layer can take, when n and m are bounded: every layer is drawn on a D x D grid and
    # cut to size, and each layer (its width, weights and bias) is one span. Lowering n, m or the depth while
    # shrinking then keeps every other entry where it was. Large fixed shapes draw exactly what is used.
    D = max(n_max, m_max) if (n_max is not None and m_max is not None) else 0
    return _Plan(n, m, _int_or_strategy("depth", depth, 1, 16), act, hidden, weights, bias, int(max_weight),
                 D if D <= _MAX_GRID else 0)


@st.composite
def _layer(draw: Callable, plan: _Plan, n_in: int, n_out: int | None, lo: int, hi: int, kind: str) -> tuple[list, list]:
    out = draw(st.integers(lo, hi)) if n_out is None else n_out
    D = plan.grid
    W = draw(_matrix(out, n_in, kind, plan.max_weight, (D, D)))
    b = (draw(_array((max(out, D),), _elements(plan.max_weight)))[:out] + 0.0).tolist() if plan.bias else [0.0] * out
    return W, b


@st.composite
def _arrays(draw: Callable, plan: _Plan) -> tuple[list, list, list]:
    """``(weights, biases, activations)`` of one encoder."""
    nn = _drawn("n", draw(plan.n) if isinstance(plan.n, st.SearchStrategy) else plan.n, _MAX_DIM)
    if plan.m is None:
        mm = draw(st.integers(1, max(1, nn - 1)))
    else:
        mm = _drawn("m", draw(plan.m) if isinstance(plan.m, st.SearchStrategy) else plan.m, _MAX_DIM)
    d = _drawn("depth", draw(plan.depth), 16)
    lo, hi = min(mm, nn), max(nn, mm)
    ws, bs, width = [], [], nn
    for i in range(d):
        last = i == d - 1
        kind = ("degenerate" if last else "any") if plan.weights == "degenerate" else plan.weights
        W, b = draw(_layer(plan, width, mm if last else None, lo, hi, kind))
        ws.append(W)
        bs.append(b)
        width = len(b)
    latent = draw(plan.act)
    hidden = draw(plan.hidden) if (plan.hidden is not None and d > 1) else latent
    return ws, bs, [hidden] * (d - 1) + [latent]


def _build(parts: tuple[list, list, list]) -> st.SearchStrategy[Encoder]:
    ws, bs, acts = parts
    return st.builds(_from_arrays, weights=st.just(ws), biases=st.just(bs), activations=st.just(acts))


def encoders(
    n: "int | st.SearchStrategy[int] | None" = None,
    m: "int | st.SearchStrategy[int] | None" = None,
    *,
    depth: "int | st.SearchStrategy[int]" = 1,
    activation: Any = None,
    hidden_activation: Any = None,
    weights: str = "full-rank",
    bias: bool = True,
    max_weight: int = 3,
    input_normalise: str = "none",
) -> st.SearchStrategy[Encoder]:
    """Encoders ``R^n -> R^m`` with small integer or quarter-integer weights.

    Args:
        n: input dimension, an int or a strategy of ints (default: 2 to 6).
        m: latent dimension (default: a bottleneck ``1 <= m < n``; ``m = 1`` when ``n = 1``).
        depth: number of affine layers, an int or a strategy (1:
            ``enc(x) = s(W x + b)``). Hidden widths lie between ``min(n, m)``
            and ``max(n, m)``.
        activation: the latent activation: a catalog name, a formula in ``t``,
            or a strategy of them such as :func:`activations` (default: every
            catalog name, shrinking toward ``'relu'``).
        hidden_activation: activation of the hidden layers (default: the latent one).
        weights: ``'full-rank'`` (every ``W_i`` has rank ``min(out, in)``, the
            "generalizable" hypothesis of T1), ``'degenerate'`` (the latent
            ``W`` has lower rank, down to ``W = 0``; hidden layers unconstrained)
            or ``'any'``.
        bias: draw biases (False: every bias is zero).
        max_weight: bound on the magnitude of every weight and bias.
        input_normalise: the drawn encoders' input normalisation (``none``, ``l2``, ``divide:K``): every
            engine and assertion then checks ``enc(N(x))`` (``encoder.inputs``).

    Keep dimensions small (tens, not thousands): Hypothesis draws every
    weight, and small examples are the point. To check a full-size trained
    model, use :func:`latentcheck.checkers.testing.assert_nonvanishing` on it instead.

    Returns:
        A strategy of :class:`latentcheck.theorems.Encoder`. A falsifying example prints as
        ``Encoder.from_arrays(weights=..., biases=..., activations=...)``, a
        call you can paste back into Python. Dimensions, weights and
        activations all shrink: the simplest encoder is ``n = 2, m = 1``,
        ``W = [[1, 0]]``, ``b = [0]``, ``'relu'``.

    Example:
        >>> from latentcheck.checkers.testing import encoders
        >>> enc = encoders(n=3, m=1, activation="relu").example()
        >>> (enc.n, enc.m)
        (3, 1)
    """

    norm = parse_normalisation(input_normalise)
    built = _arrays(_plan(n, m, depth, activation, hidden_activation, weights, bias, max_weight)).flatmap(_build)
    if norm == "none":
        return built

    return built.map(lambda enc: with_input_normalise(enc, norm))


# --------------------------------------------------------------------- domains
def _check_bound(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}={value!r} must be a positive number") from None
    if not np.isfinite(v) or v <= 0:
        raise InvalidArgument(f"{name}={value!r} must be a positive finite number")
    return v


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _finish(strategy: st.SearchStrategy[np.ndarray], nonzero: bool) -> st.SearchStrategy[np.ndarray]:
    return strategy.filter(lambda a: bool(np.any(a != 0))) if nonzero else strategy


def reals(n: int, *, max_value: float = 8.0, nonzero: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Vectors of ``R^n`` (float64, entries in ``[-max_value, max_value]``); shrinks toward 0.

    Args:
        n: dimension.
        max_value: bound on every entry.
        nonzero: never draw the zero vector (P3 quantifies over ``x != 0``).
    """
    n = _check_dim("n", n)
    b = _check_bound("max_value", max_value)
    return _finish(_array((n,), elements=_floats(-b, b)), nonzero)


def nonneg(n: int, *, max_value: float = 5.0, nonzero: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Vectors of the nonnegative orthant (ratings), entries in ``[0, max_value]``."""
    n = _check_dim("n", n)
    b = _check_bound("max_value", max_value)
    return _finish(_array((n,), elements=_floats(0.0, b)), nonzero)


def binary(n: int, *, nonzero: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Vectors of ``{0,1}^n`` (implicit feedback) as float64; shrinks toward fewer ones."""
    n = _check_dim("n", n)
    return _finish(_array((n,), elements=st.sampled_from([0.0, 1.0])), nonzero)


def sphere(n: int) -> st.SearchStrategy[np.ndarray]:
    """Unit vectors of ``R^n`` (normalised in float64, so ``|x| = 1`` up to rounding).

    Shrinks toward a coordinate vector ``e_i``.
    """
    n = _check_dim("n", n)
    raw = _array((n,), elements=st.integers(-4, 4).map(float) | _floats(-1.0, 1.0))
    return raw.filter(lambda a: bool(np.any(a != 0))).map(_unit)


def _unit(a: np.ndarray) -> np.ndarray:
    # Scale by the largest entry first: the norm of subnormal entries underflows to 0.
    scaled = a / np.max(np.abs(a))
    return scaled / np.linalg.norm(scaled)


def rows_of(matrix: Any) -> st.SearchStrategy[np.ndarray]:
    """The rows of a data matrix (users of a rating matrix), as float64 vectors; shrinks toward row 0.

    Args:
        matrix: a 2-D array-like, one user per row.
    """
    try:
        M = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"matrix of type {type(matrix).__name__} must be a 2-D numeric array, one user per row") from None
    if M.ndim != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise InvalidArgument(f"matrix has shape {M.shape} but must be 2-D with at least one row and one column")
    if not np.all(np.isfinite(M)):
        raise InvalidArgument("matrix holds NaN or infinite values; clean the data first")
    M.setflags(write=False)
    return st.integers(0, M.shape[0] - 1).map(lambda i: M[i].copy())
