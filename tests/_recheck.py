"""Independent re-checkers for the tests: Fractions and mpmath written here, no evaluation code from
``theorems/`` or ``counterexamples/``.

Exact values of stored arrays come from NumPy's own ``as_integer_ratio`` (per element) or Python ints,
never from ``latentcheck.theorems.exact_arrays``; activations are evaluated by hand-written rules, and transcendental
ones only where the value is known exactly (``tanh(0) = 0``) or by mpmath at 120 digits, whose result
is used only when it is far from 0.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import mpmath
import numpy as np


def exact_entry(v: Any) -> Fraction:
    """The exact value of one stored number (NumPy scalar, Python number, or exact string)."""
    if isinstance(v, str):
        return Fraction(v)
    if isinstance(v, (np.integer, int)):
        return Fraction(int(v))
    if isinstance(v, np.floating):
        return Fraction(*v.as_integer_ratio())  # NumPy's own conversion, long double included
    if isinstance(v, float):
        return Fraction(*v.as_integer_ratio())
    raise TypeError(f"no exact value for {type(v).__name__}")


def exact_matrix(arr: Any) -> list[list[Fraction]]:
    a = np.asarray(arr)
    if a.ndim == 1:
        return [exact_entry(a[i]) for i in range(a.shape[0])]  # type: ignore[return-value]
    return [[exact_entry(a[i, j]) for j in range(a.shape[1])] for i in range(a.shape[0])]


def _tanh(q: Fraction) -> Any:
    if q == 0:
        return Fraction(0)
    mpmath.mp.dps = 120
    return mpmath.tanh(mpmath.mpf(q.numerator) / q.denominator)  # irrational for q != 0 (Lindemann)


#: activation name (or expression text) -> rule on Fractions (tanh may return an mpmath number, never 0)
RULES = {
    "relu": lambda q: max(q, Fraction(0)),
    "Max(0, t)": lambda q: max(q, Fraction(0)),
    "identity": lambda q: q,
    "t": lambda q: q,
    "t**2": lambda q: q * q,
    "leaky_relu": lambda q: q if q >= 0 else q / 100,
    "tanh": _tanh,
}


def _mp(q: Fraction) -> Any:
    mpmath.mp.dps = 120
    return mpmath.mpf(q.numerator) / q.denominator


def _affine(row: Sequence[Fraction], bias: Fraction, h: Sequence[Any]) -> Any:
    """One row of ``W h + b``: a Fraction when every input with a nonzero weight is exact, else an mpmath number."""
    exact, approx = Fraction(bias), None
    for w, v in zip(row, h):
        if w == 0:
            continue
        if isinstance(v, Fraction):
            exact += w * v
        else:
            approx = (0 if approx is None else approx) + _mp(w) * v
    return exact if approx is None else _mp(exact) + approx


def encode(weights: Sequence[Sequence[Sequence[Fraction]]], biases: Sequence[Sequence[Fraction]],
           activations: Sequence[str], x: Sequence[Fraction]) -> list[Any]:
    """``enc(x)`` layer by layer: exact Fractions where every step is exact, mpmath numbers after a transcendental value."""
    h: list[Any] = [Fraction(v) for v in x]
    for W, b, act in zip(weights, biases, activations):
        rule = RULES[act]
        pre = [_affine(row, bi, h) for row, bi in zip(W, b)]
        out = []
        for p in pre:
            if isinstance(p, Fraction):
                out.append(rule(p))
            elif act == "tanh":
                out.append(mpmath.tanh(p))
            else:
                raise ValueError(f"the re-checker cannot evaluate {act!r} at a non-rational point")
        h = out
    return h


def is_exact_zero(values: Sequence[Any]) -> bool:
    """True when every value is exactly the rational 0 (an mpmath number never counts: it is not exact)."""
    return all(isinstance(v, Fraction) and v == 0 for v in values)


def is_clearly_nonzero(values: Sequence[Any]) -> bool:
    """True when some value is a nonzero Fraction or an mpmath number far from 0 (120 digits)."""
    for v in values:
        if isinstance(v, Fraction):
            if v != 0:
                return True
        elif abs(v) > mpmath.mpf(10) ** -60:
            return True
    return False


def p3_witness_holds(weights, biases, activations, x: Sequence[Fraction]) -> bool:
    """Re-check a P3 witness: ``x != 0`` and ``enc(x) = 0`` exactly."""
    xs = [Fraction(v) for v in x]
    return any(v != 0 for v in xs) and is_exact_zero(encode(weights, biases, activations, xs))


def p2_witness_holds(weights, biases, activations, x, u, v) -> bool:
    """Re-check a P2 witness exactly: ``<x,u> <= <x,v>`` and ``<enc x,enc u> > <enc x,enc v>`` (exact encoders)."""
    xs, us, vs = ([Fraction(a) for a in vec] for vec in (x, u, v))
    if sum(a * b for a, b in zip(xs, us)) > sum(a * b for a, b in zip(xs, vs)):
        return False
    ex, eu, ev = (encode(weights, biases, activations, vec) for vec in (xs, us, vs))
    if not all(isinstance(a, Fraction) for vec in (ex, eu, ev) for a in vec):
        raise ValueError("P2 re-check here needs exact values")
    return sum(a * b for a, b in zip(ex, eu)) > sum(a * b for a, b in zip(ex, ev))


def from_npz(path: str) -> tuple[list, list, list[str]]:
    """Weights, biases (exact, from the file's stored dtype) and activations of an ``.npz`` encoder."""
    with np.load(path, allow_pickle=False) as data:
        k = 0
        Ws, bs = [], []
        while f"W{k}" in data.files:
            Ws.append(exact_matrix(data[f"W{k}"]))
            bs.append(exact_matrix(data[f"b{k}"]))
            k += 1
        acts = [str(a) for a in np.atleast_1d(data["activations"])]
    return Ws, bs, acts
