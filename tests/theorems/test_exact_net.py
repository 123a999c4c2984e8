"""The exact kernel (theorems/exact_net.py) and the one PL form (theorems/pl.py) against plain Fractions.

The references here are written in this file (``Fraction(float)`` is exact, sums in Python) and share no
code with the kernel; a kernel with a planted wrong scale is caught by the same comparison.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from flint import fmpq
from mpmath import iv

from latentcheck import Encoder
from latentcheck.theorems.exact_net import ExactLayer, ExactNet, IntMatrix
from latentcheck.theorems.pl import PLFunction, as_fmpq, piecewise_linear


def _ref_affine(W: np.ndarray, b: np.ndarray, x: list[Fraction]) -> list[Fraction]:
    Wq = [[Fraction(v) for v in row] for row in np.asarray(W, dtype=np.float64).tolist()]
    bq = [Fraction(v) for v in np.asarray(b, dtype=np.float64).tolist()]
    return [sum((w * v for w, v in zip(row, x)), Fraction(0)) + c for row, c in zip(Wq, bq)]


def _ref_bounds(W: np.ndarray, b: np.ndarray, lo: list, hi: list) -> tuple[list, list]:
    """Interval arithmetic in Fractions, ``None`` = infinite."""
    zlo, zhi = [], []
    for row, c in zip(np.asarray(W, dtype=np.float64).tolist(), np.asarray(b, dtype=np.float64).tolist()):
        low, high = Fraction(c), Fraction(c)
        for w, a, z in zip(row, lo, hi):
            w = Fraction(w)
            if w == 0:
                continue
            down, up = (a, z) if w > 0 else (z, a)
            low = None if low is None or down is None else low + w * down
            high = None if high is None or up is None else high + w * up
        zlo.append(low)
        zhi.append(high)
    return zlo, zhi


def _weights(rng: np.random.Generator, m: int, n: int, dtype: str = "float64") -> np.ndarray:
    spread = 2 if dtype == "float16" else 6  # exponents far apart (within the dtype's range)
    W = rng.normal(size=(m, n)) * np.exp(rng.normal(size=(m, n)) * spread)
    W[rng.random((m, n)) < 0.3] = 0.0
    return W.astype(dtype).astype(np.float64)


def _rationals(rng: np.random.Generator, n: int, density: float) -> list[Fraction]:
    return [Fraction(int(rng.integers(-99, 99)), int(rng.integers(1, 60))) if rng.random() < density else Fraction(0)
            for _ in range(n)]


def _ends(v) -> tuple[Fraction, Fraction]:
    """An mpmath interval's ends, exactly (from their sign, mantissa and exponent)."""
    return tuple((-1) ** r[0] * Fraction(int(r[1])) * Fraction(2) ** int(r[2]) for r in v._mpi_)


def _agrees(layer: ExactLayer, W: np.ndarray, b: np.ndarray, x: list[Fraction]) -> bool:
    return layer.affine(x) == _ref_affine(W, b, x)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_affine_equals_fractions_dense_and_sparse(dtype: str) -> None:
    rng = np.random.default_rng(7)
    for m, n in ((5, 9), (3, 40), (8, 1)):
        W, b = _weights(rng, m, n, dtype), rng.normal(size=m)
        layer = ExactLayer.from_arrays(W, b)
        for density in (1.0, 0.1, 0.0):  # dense, sparse (fewer than a quarter of the columns), zero
            x = _rationals(rng, n, density)
            assert _agrees(layer, W, b, x)
            idx = [j for j, v in enumerate(x) if v]
            den = 1
            for j in idx:
                den = den * x[j].denominator // math.gcd(den, x[j].denominator)
            num = [int(x[j] * den) for j in idx]
            assert layer.affine_sparse(idx, num, den) == _ref_affine(W, b, x)


def test_planted_wrong_scale_is_caught() -> None:
    """A kernel whose matrix exponent is off by one (W read as 2 W) disagrees with the reference."""
    rng = np.random.default_rng(1)
    W, b = _weights(rng, 4, 6), rng.normal(size=4)
    good = ExactLayer.from_arrays(W, b)
    bad = ExactLayer(IntMatrix(good.W.K, good.W.e + 1, good.W.D), good.b, good.Wf)
    x = _rationals(rng, 6, 1.0)
    assert _agrees(good, W, b, x)
    assert not _agrees(bad, W, b, x)


def test_non_dyadic_weights_use_a_common_denominator() -> None:
    Wq = np.array([[Fraction(1, 3), Fraction(-2, 7)], [Fraction(5), Fraction(0)]], dtype=object)
    M = IntMatrix.from_rationals(Wq)
    assert M.D == 21 and M.fractions().tolist() == Wq.tolist()
    x = [Fraction(3, 5), Fraction(-1, 2)]
    assert [Fraction(int(q.p), int(q.q)) for q in M.matvec(x)] == [Fraction(1, 3) * x[0] + Fraction(-2, 7) * x[1], 5 * x[0]]


def test_wide_integer_weights_are_read_exactly() -> None:
    W = np.array([[2**60 + 1, -3], [0, 2**62 - 1]], dtype=np.int64)
    layer = ExactLayer.from_arrays(W, np.array([1, -1], dtype=np.int64))
    x = [Fraction(1, 3), Fraction(2)]
    assert layer.affine(x) == [Fraction(2**60 + 1, 3) - 6 + 1, Fraction(2 * (2**62 - 1)) - 1]


def test_bounds_equal_fraction_interval_arithmetic() -> None:
    rng = np.random.default_rng(3)
    W, b = _weights(rng, 6, 8), rng.normal(size=6)
    layer = ExactLayer.from_arrays(W, b)
    for _ in range(5):
        lo = [Fraction(int(rng.integers(-9, 0)), int(rng.integers(1, 9))) if rng.random() < 0.85 else None for _ in range(8)]
        hi = [Fraction(int(rng.integers(0, 9)), int(rng.integers(1, 9))) if rng.random() < 0.85 else None for _ in range(8)]
        got_lo, got_hi = layer.bounds([None if v is None else as_fmpq(v) for v in lo], [None if v is None else as_fmpq(v) for v in hi])
        want_lo, want_hi = _ref_bounds(W, b, lo, hi)
        as_fr = lambda q: None if q is None else Fraction(int(q.p), int(q.q))  # noqa: E731
        assert [as_fr(v) for v in got_lo] == want_lo and [as_fr(v) for v in got_hi] == want_hi


def test_enclose_holds_the_exact_values() -> None:
    rng = np.random.default_rng(5)
    W, b = _weights(rng, 4, 5), rng.normal(size=4)
    layer = ExactLayer.from_arrays(W, b)
    x = _rationals(rng, 5, 1.0)
    want = _ref_affine(W, b, x)
    for got, w in zip(layer.enclose(x), want):  # rational inputs: a tight enclosure of the exact value
        lo, hi = _ends(got)
        assert lo <= w <= hi and hi - lo <= abs(w) * Fraction(1, 2**80) + Fraction(1, 2**200)
    boxes = [iv.mpf([float(v) - 0.5, float(v) + 0.5]) for v in x]  # interval inputs: every corner's value inside
    enc = layer.enclose(boxes)
    for corner in range(4):
        pt = [Fraction(float(bx.a)) if (corner >> (j % 2)) & 1 else Fraction(float(bx.b)) for j, bx in enumerate(boxes)]
        for got, w in zip(enc, _ref_affine(W, b, pt)):
            lo, hi = _ends(got)
            assert lo <= w <= hi


def test_forward_through_pl_activations() -> None:
    rng = np.random.default_rng(9)
    Ws = [_weights(rng, 5, 7), _weights(rng, 3, 5)]
    bs = [rng.normal(size=5), rng.normal(size=3)]
    relu = piecewise_linear("relu").to_json()
    net = ExactNet.build(Ws, bs, [relu, relu])
    x = _rationals(rng, 7, 1.0)
    h = x
    for W, b in zip(Ws, bs):
        h = [max(v, Fraction(0)) for v in _ref_affine(W, b, h)]
    assert [Fraction(int(q.p), int(q.q)) for q in net.forward(x)] == h


def test_encoder_kernel_is_built_once_and_matches_exact() -> None:
    enc = Encoder.random([9, 4, 3], "relu", seed=2)
    assert enc.exact_net is enc.exact_net and enc.layers[0].kernel is enc.layers[0].kernel
    x = _rationals(np.random.default_rng(0), 9, 1.0)
    h = x
    for layer in enc.layers:
        h = [max(v, Fraction(0)) for v in _ref_affine(layer.W, layer.b, h)]
    assert enc.exact(x) == h


def test_pl_form_in_fmpq_and_fraction_agree() -> None:
    for name in ("relu", "leaky_relu", "hard_tanh", "relu6", "identity"):
        pl = piecewise_linear(name)
        plq = PLFunction.from_json(pl.to_json(), as_fmpq)
        for t in (Fraction(-13, 2), Fraction(-1), Fraction(0), Fraction(1, 3), Fraction(7)):
            assert Fraction(str(plq(as_fmpq(t)))) == pl(t)
        for lo, hi in ((None, None), (Fraction(-2), None), (None, Fraction(1, 2)), (Fraction(-3), Fraction(5))):
            want = pl.range_on(lo, hi)
            got = plq.value_range(None if lo is None else as_fmpq(lo), None if hi is None else as_fmpq(hi))
            assert tuple(None if v is None else Fraction(str(v)) for v in got) == want
        assert plq.positively_homogeneous == pl.positively_homogeneous


def test_as_fmpq_reads_exactly() -> None:
    assert as_fmpq("3/6") == fmpq(1, 2) and as_fmpq(0.1) == fmpq(*(0.1).as_integer_ratio()) and as_fmpq(Fraction(-4, 3)) == fmpq(-4, 3)


def test_encoder_is_a_pytree_and_validated_on_construction() -> None:
    import dataclasses

    import jax

    from latentcheck import ShapeMismatch
    from latentcheck.theorems.float_forward import apply_layers, register_pytree

    enc = Encoder.random([5, 4, 3], "tanh", seed=0)
    register_pytree(Encoder)
    assert len(jax.tree_util.tree_leaves(enc)) == 4  # W, b per layer (no wide copies)
    doubled = jax.tree_util.tree_map(lambda a: a * 2, enc)
    assert isinstance(doubled, Encoder) and np.array_equal(doubled.layers[1].W, 2 * enc.layers[1].W)
    fns = [layer.activation.jax_fn() for layer in enc.layers]
    f = jax.jit(lambda e, x: apply_layers([(layer.W, layer.b) for layer in e.layers], fns, x, "float32"))
    x = np.linspace(-1, 1, 5)
    assert np.allclose(np.asarray(f(enc, x)), enc(x), atol=1e-5)
    with pytest.raises(ShapeMismatch):  # every construction is validated, replace() included
        dataclasses.replace(enc, layers=(enc.layers[1], enc.layers[0]))
