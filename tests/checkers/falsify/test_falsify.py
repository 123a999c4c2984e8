"""The falsifier agrees with THEORY.md and never reports an uncertified counterexample.

Fast tier: small encoders (n <= 40). Heavier cases are marked slow.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from latentcheck.theorems.domains import parse_domain, stereographic_point
from latentcheck.checkers.falsify import falsify, p3_search, run_round, zero_target
from latentcheck.counterexamples import strip_timings
from latentcheck.theorems import Encoder, check_flip, check_zero, classify
from latentcheck.theorems.errors import InvalidArgument


def _assert_real_zero(enc: Encoder, cx) -> None:
    chk = check_zero(enc, cx.vector("x"))
    assert chk.violates is True, chk.detail
    assert cx.certified == chk.certified


def _assert_real_flip(enc: Encoder, cx) -> None:
    v = cx.vectors()
    chk = check_flip(enc, v["x"], v["u"], v["v"])
    assert chk.violates is True, chk.detail


# ---------------------------------------------------------------- P3 over the reals (T1, T2)
@pytest.mark.parametrize("act", ["relu", "tanh", "identity", "hard_sigmoid", "leaky_relu"])
def test_vanishing_full_rank_gives_certified_zero(act: str) -> None:
    enc = Encoder.random([24, 6], act, seed=1)
    res = falsify(enc, "p3", budget=5, seed=0)
    assert res.status == "counterexample"
    assert res.counterexamples and all(c.certified == "exact" for c in res.counterexamples)
    for cx in res.counterexamples:
        _assert_real_zero(enc, cx)


def test_sigmoid_has_no_real_zero_but_a_float16_one_labelled_float_only() -> None:
    enc = Encoder.random([24, 6], "sigmoid", seed=2)
    res = falsify(enc, "p3", dtype="float16", budget=5, seed=0)
    assert res.status == "float-only"
    assert res.counterexamples == ()
    assert res.float_only
    for cx in res.float_only:
        assert cx.certified == "float-only" and cx.dtype == "float16" and not cx.is_certified
        assert check_zero(enc, cx.vector("x")).violates is False  # the real value is nonzero (T2)
    assert all(c["real"] is False for c in res.to_json()["float_only"])


def test_sigmoid_in_float64_none_exists_or_none_found() -> None:
    enc = Encoder.random([12, 3], "sigmoid", seed=0)
    res = falsify(enc, "p3", dtype="float64", budget=1, seed=0, max_rounds=1)
    assert res.counterexamples == ()


def test_relu_zero_weights_positive_bias_has_no_counterexample() -> None:
    enc = Encoder.from_arrays([np.zeros((3, 10))], [np.array([0.5, 1.0, 2.0])], ["relu"])
    res = falsify(enc, "p3", budget=10, seed=0, max_rounds=1)  # one round leaves budget for verify
    # relu(0 x + b) = b > 0: P3 holds over the reals and verify proves it exactly; floats are not covered by that
    # proof (relu's float zero set is not empty), so the status is none-found, never none-exists
    assert res.status == "none-found" and not res.counterexamples and not res.float_only
    assert res.info["verify"]["verdict"] == "proved" and "proved P3" in res.info["message"] and "No real counterexample" in res.info["message"]
    res2 = falsify(enc, "p2", budget=0.5, seed=0, max_rounds=2)
    assert res2.status == "none-found" and not res2.counterexamples


# ---------------------------------------------------------------- rounding artefacts must never be certified
def test_underflowing_bias_is_float_only_in_float16() -> None:
    # enc(x) = relu(0 x + 1e-30): float16 rounds the bias to 0, so every float output is 0; the real output is 1e-30 > 0.
    enc = Encoder.from_arrays([np.zeros((2, 8))], [np.array([1e-30, 1e-30])], ["relu"])
    res = falsify(enc, "p3", dtype="float16", budget=0.5, seed=0, max_rounds=1)
    assert res.counterexamples == ()
    assert res.status == "float-only" and res.float_only
    assert all(c.certified == "float-only" for c in res.float_only)


def test_cancelling_biases_with_rank_one_weights_are_not_certified() -> None:
    # pre = (s + e, s - e) with s = x0 + x1: never both 0 over the reals; float16 flushes e = 1e-20 to 0.
    W = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    enc = Encoder.from_arrays([W], [np.array([1e-20, -1e-20])], ["tanh"])
    res = falsify(enc, "p3", dtype="float16", budget=1.0, seed=0, max_rounds=2)
    assert res.counterexamples == ()
    for cx in res.float_only:
        assert check_zero(enc, cx.vector("x")).violates is False


def test_float32_subnormal_bias_is_float_only() -> None:
    enc = Encoder.from_arrays([np.zeros((2, 6))], [np.array([1e-50, 1e-50])], ["tanh"])
    res = falsify(enc, "p3", dtype="float32", budget=0.5, seed=0, max_rounds=1)
    assert res.counterexamples == ()
    assert res.status == "float-only"


# ---------------------------------------------------------------- P2 (T3, T4, T5)
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "softplus", "identity"])
def test_non_constant_bottleneck_encoders_have_certified_flips(act: str) -> None:
    enc = Encoder.random([20, 5], act, seed=3)
    res = falsify(enc, "p2", budget=5, seed=0)
    assert res.status == "counterexample"
    for cx in res.counterexamples:
        _assert_real_flip(enc, cx)


def test_p2_flip_with_nonzero_user_when_zero_user_is_useless() -> None:
    # enc(0) = relu(b) = 0 when b < 0: T5 fails, the search (or T3) must find a flip with x != 0.
    rng = np.random.default_rng(5)
    enc = Encoder.from_arrays([rng.normal(size=(4, 16))], [-np.ones(4)], ["relu"])
    res = falsify(enc, "p2", budget=10, seed=0)
    assert res.status == "counterexample"
    for cx in res.counterexamples:
        assert any(q != 0 for q in cx.vector("x"))
        _assert_real_flip(enc, cx)


def test_deep_mixed_encoder_p2_and_p3() -> None:
    enc = Encoder.random([16, 10, 4], "tanh", "relu", seed=4)
    res = falsify(enc, "p3", budget=10, seed=0)
    assert res.status == "counterexample"
    _assert_real_zero(enc, res.counterexamples[0])
    res2 = falsify(enc, "p2", budget=5, seed=0)
    assert res2.status == "counterexample"
    _assert_real_flip(enc, res2.counterexamples[0])


# ---------------------------------------------------------------- domains
def test_nonneg_and_binary_relu_zero() -> None:
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 20))
    enc = Encoder.from_arrays([W], [np.full(4, 0.1)], ["relu"])
    for dom in ("nonneg", "binary"):
        res = falsify(enc, "p3", domain=dom, budget=5, seed=0)
        assert res.status == "counterexample", dom
        x = res.counterexamples[0].vector("x")
        assert all(v >= 0 for v in x) and any(v != 0 for v in x)
        if dom == "binary":
            assert set(x) <= {0, 1}
        _assert_real_zero(enc, res.counterexamples[0])


def test_sphere_relu_zero_is_exactly_on_the_sphere() -> None:
    enc = Encoder.random([12, 3], "relu", seed=6)
    res = falsify(enc, "p3", domain="sphere", budget=10, seed=0)
    assert res.status == "counterexample"
    x = res.counterexamples[0].vector("x")
    assert sum(v * v for v in x) == 1
    _assert_real_zero(enc, res.counterexamples[0])


def test_stereographic_points_are_rational_points_of_the_sphere() -> None:
    for seed in range(5):
        p = stereographic_point(np.random.default_rng(seed).normal(size=7), bits=20)
        assert sum(v * v for v in p) == 1


def test_data_rows_domain(tmp_path) -> None:
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 8))
    enc = Encoder.from_arrays([W], [np.zeros(3)], ["relu"])
    rows = np.abs(rng.integers(0, 3, size=(30, 8))).astype(float)
    rows[7] = 0.0
    # Make row 11 a certified zero: a nonneg row in the cone {x >= 0 : W x <= 0}, if one exists among random rows.
    path = tmp_path / "rows.npz"
    np.savez(path, X=rows)
    res = falsify(enc, "p3", domain=f"data:{path}", budget=2, seed=0)
    pre = rows @ W.T
    expect = bool(np.any(np.all(pre <= 0, axis=1) & np.any(rows != 0, axis=1)))
    assert (res.status == "counterexample") == expect
    res2 = falsify(enc, "p2", domain=f"data:{path}", budget=2, seed=0)
    for cx in res2.counterexamples:
        for name in ("x", "u", "v"):
            vec = np.array([float(q) for q in cx.vector(name)])
            assert np.any(np.all(rows == vec, axis=1))


def test_bad_arguments_raise_invalid_argument() -> None:
    enc = Encoder.random([6, 2], "relu", seed=0)
    with pytest.raises(InvalidArgument):
        falsify(enc, "p4")
    with pytest.raises(InvalidArgument):
        falsify(enc, "p3", dtype="int8")
    with pytest.raises(InvalidArgument):
        falsify(enc, "p3", domain="torus")
    with pytest.raises(InvalidArgument):
        falsify(lambda x: x, "p3")  # a callable needs n
    with pytest.raises(InvalidArgument):
        falsify(enc, "p3", budget=0)


# ---------------------------------------------------------------- black-box callables
def test_black_box_callable_gives_float_only_never_certified() -> None:
    import jax
    import jax.numpy as jnp

    W = jnp.asarray(np.random.default_rng(0).normal(size=(3, 10)), dtype=jnp.float32)

    def fn(x):
        return jax.nn.relu(W @ x - 0.5)

    res = falsify(fn, "p3", n=10, budget=5, seed=0)
    assert res.counterexamples == ()
    assert res.status == "float-only"
    assert all(c.certified == "float-only" for c in res.float_only)


# ---------------------------------------------------------------- reproducibility and the engine
def test_same_seed_same_json_apart_from_timings() -> None:
    enc = Encoder.random([16, 10, 4], "relu", "tanh", seed=8)
    a = falsify(enc, "p3", budget=20, seed=3, min_rounds=1)
    b = falsify(enc, "p3", budget=20, seed=3, min_rounds=1)
    assert json.dumps(strip_timings(a.to_json()), sort_keys=True) == json.dumps(strip_timings(b.to_json()), sort_keys=True)
    c = falsify(Encoder.random([20, 5], "sigmoid", seed=1), "p2", budget=20, seed=3, min_rounds=1)
    d = falsify(Encoder.random([20, 5], "sigmoid", seed=1), "p2", budget=20, seed=3, min_rounds=1)
    assert strip_timings(c.to_json()) == strip_timings(d.to_json())


def test_search_init_step_are_pure_and_deterministic() -> None:
    import jax
    import jax.numpy as jnp

    enc = Encoder.random([12, 3], "relu", seed=0)
    search = p3_search(enc, zero_target(classify("relu"), enc.activation, "float32"), parse_domain("reals"), restarts=8)
    rnd = run_round(search, 20)
    args = (jax.random.PRNGKey(1), jnp.zeros((8, 12)), jnp.zeros(8, bool))
    s1, s2 = rnd(*args), rnd(*args)
    assert np.array_equal(np.asarray(s1.best_params), np.asarray(s2.best_params))
    assert int(s1.step) == 20 and int(s1.evaluations) == 8 * 21
    assert float(jnp.min(s1.best_loss)) <= float(jnp.min(search.init(args[0]).loss))


@pytest.mark.slow
def test_paper_sized_encoders() -> None:
    for act in ("relu", "tanh"):
        enc = Encoder.random([1682, 64], act, seed=0)
        res = falsify(enc, "p3", budget=10, seed=0, shrink=False, max_counterexamples=1)
        assert res.status == "counterexample"
        _assert_real_zero(enc, res.counterexamples[0])
    enc = Encoder.random([1682, 600, 64], "relu", seed=0)
    res = falsify(enc, "p3", budget=20, seed=0, shrink=False, max_counterexamples=1)
    assert res.status == "counterexample"


# ---------------------------------------------------------------- exact linear algebra
def test_integer_solves_are_exact_and_canonical() -> None:
    # Checked without the solver: A N == d c in plain Python ints (the solution of a nonsingular system is unique),
    # d > 0 and gcd(N, d) == 1; a matrix built singular gives None.
    import math
    import random

    from latentcheck.checkers.falsify._exact import solve_exact, solve_int

    R = random.Random(0)
    for n in (1, 2, 5, 8, 12, 20, 64):
        for t in range(3):
            A = [[R.randint(-2**62, 2**62) for _ in range(n)] for _ in range(n)]
            if t == 1 and n > 1:
                A[-1] = [2 * v - 3 * w * (n > 2) for v, w in zip(A[0], A[1])]  # singular: a combination of rows 0 (and 1)
            c = [R.randint(-2**70, 2**70) for _ in range(n)]
            got = solve_int(A, c)
            if t == 1 and n > 1:
                assert got is None
                continue
            N, d = got
            assert d > 0 and math.gcd(d, *N) == 1
            assert all(sum(a * y for a, y in zip(row, N)) == d * ci for row, ci in zip(A, c))
    assert solve_exact([[Fraction(2), Fraction(1)], [Fraction(1), Fraction(3)]], [Fraction(3), Fraction(5)]) == [Fraction(4, 5), Fraction(7, 5)]
    assert solve_int([[1, 2], [2, 4]], [1, 2]) is None
    assert solve_int([[0, 3], [2, 0]], [6, 4]) == ([2, 2], 1)


def test_pivot_columns_subset_full_and_rank_deficient() -> None:
    from latentcheck.checkers.falsify._exact import pivot_columns

    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 40))
    W[:, ::2] = 0.0  # half the columns are zero: never picked
    S = pivot_columns(W, 4)
    assert S is not None and len(S) == 4 and all(s % 2 == 1 for s in S)
    assert abs(np.linalg.det(W[:, S])) > 1e-6
    low = rng.normal(size=(4, 2)) @ rng.normal(size=(2, 40))  # rank 2
    assert pivot_columns(low, 4) is None
    assert pivot_columns(W, 4, allowed=np.array([1, 3, 5])) is None


def test_serial_blas_keeps_results() -> None:
    from latentcheck.theorems.blas import serial_blas

    rng = np.random.default_rng(0)
    A, y = rng.normal(size=(50, 50)), rng.normal(size=50)
    want = np.linalg.solve(A, y)
    with serial_blas():
        with serial_blas():
            got = np.linalg.solve(A, y)
    assert np.allclose(got, want)
    assert np.allclose(np.linalg.solve(A, y), want)


def test_p2_zero_user_flip_is_one_unit_vector() -> None:
    enc = Encoder.random([30, 5], "sigmoid", seed=2)
    res = falsify(enc, "p2", budget=5, seed=0, shrink=False, max_counterexamples=1)
    cx = res.counterexamples[0]
    assert cx.origin.startswith("T5 zero user: x = 0, v = 0")
    v = cx.vectors()
    assert not any(v["x"]) and not any(v["v"]) and sum(1 for q in v["u"] if q) == 1
    _assert_real_flip(enc, cx)
    # nonneg / binary domains: u = +e_j only
    for dom in ("nonneg", "binary"):
        r = falsify(enc, "p2", domain=dom, budget=5, seed=0, shrink=False, max_counterexamples=1)
        assert r.status == "counterexample"
        assert all(q >= 0 for q in r.counterexamples[0].vector("u"))
