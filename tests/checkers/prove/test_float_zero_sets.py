"""Float zero sets per runtime: exhaustive in 16-bit, certified in float32/float64, never a sample.

Expected values are re-derived here with NumPy/JAX written independently of
checkers.float_vanishing (brute force over bit patterns, or the runtime at
the reported boundary float and its neighbour), never copied from its output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import latentcheck.checkers.float_vanishing as fv
from latentcheck.checkers.float_model import FORMATS, round_nearest
from latentcheck.checkers.float_vanishing import float_zero_sets, none_exists, zero_set_empty
from latentcheck.theorems.classify import classify

ONE_THIRD = "(t - 1/3)**2 + 1/10**50"


# ---------------------------------------------------------------- independent helpers
def _all_float16() -> np.ndarray:
    x = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    return x[np.isfinite(x)]


def _members(intervals: list[tuple[Fraction, Fraction]], x: np.ndarray) -> np.ndarray:
    vals = [Fraction(float(v)) for v in x.astype(np.float64)]
    return np.array([any(lo <= v <= hi for lo, hi in intervals) for v in vals])


def _jax(fn, x: np.ndarray) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(x.dtype == np.float64):
        return np.asarray(jax.jit(fn)(jnp.asarray(x)))


def _next(x: float, dtype, toward: float) -> float:
    return float(np.nextafter(np.array(x, dtype=dtype), np.array(toward, dtype=dtype)))


# ---------------------------------------------------------------- 16-bit: brute force written here
@pytest.mark.parametrize(
    "expr, numpy_fn",
    [
        ("exp", lambda x: np.exp(x)),
        ("1/(1+exp(t))", lambda x: np.float16(1) / (np.float16(1) + np.exp(x))),
        (ONE_THIRD, lambda x: (x + np.float16(-1 / 3)) ** 2 + np.float16(1e-50)),
        ("tanh", lambda x: np.tanh(x)),
    ],
)
def test_float16_ieee_zero_set_matches_brute_force(expr: str, numpy_fn) -> None:
    x = _all_float16()
    with np.errstate(all="ignore"):
        zero = numpy_fn(x) == 0
    sets = float_zero_sets(expr, "float16")
    assert sets["ieee"] is not None
    assert np.array_equal(_members(sets["ieee"], x), zero)


def test_float16_xla_zero_set_matches_brute_force_in_jax() -> None:
    import jax.numpy as jnp

    x = _all_float16()
    zero = _jax(lambda v: 1 / (1 + jnp.exp(v)), x) == 0
    sets = float_zero_sets("1/(1+exp(t))", "float16")
    assert np.array_equal(_members(sets["xla"], x), zero)


# ---------------------------------------------------------------- float32 / float64: certified
def test_issue_example_one_third_rounds_to_zero_in_float32() -> None:
    third = float(np.float32(1 / 3))
    sets = float_zero_sets(ONE_THIRD, "float32")
    for runtime in ("ieee", "xla"):
        assert sets[runtime] == [(Fraction(third), Fraction(third))]
    # independent re-check in NumPy: 0 at float32(1/3), nonzero at both neighbours
    x = np.array([third, _next(third, np.float32, 1), _next(third, np.float32, 0)], dtype=np.float32)
    out = (x - np.float32(1 / 3)) ** 2 + np.float32(1e-50)
    assert out[0] == 0 and np.all(out[1:] != 0)
    # float64 keeps 1e-50, so no float64 input gives 0
    assert float_zero_sets(ONE_THIRD, "float64") == {"ieee": [], "xla": []}


def test_exp_float64_ieee_and_xla_thresholds_differ_and_are_exact_boundaries() -> None:
    import jax.numpy as jnp

    sets = float_zero_sets("exp", "float64")
    top = Fraction(float(np.finfo(np.float64).max))
    (ieee_lo, ieee_hi), = sets["ieee"]
    (xla_lo, xla_hi), = sets["xla"]
    assert ieee_lo == xla_lo == -top
    assert abs(float(ieee_hi) + 745.1332) < 1e-3 and abs(float(xla_hi) + 708.3964) < 1e-3
    h = float(ieee_hi)
    assert np.exp(np.float64(h)) == 0 and np.exp(np.float64(_next(h, np.float64, 0))) > 0
    h = float(xla_hi)
    out = _jax(jnp.exp, np.array([h, _next(h, np.float64, 0)], dtype=np.float64))
    assert out[0] == 0 and out[1] > 0


def test_exp_minus_t_squared_is_two_half_lines() -> None:
    sets = float_zero_sets("exp(-t**2)", "float64")["ieee"]
    top = Fraction(float(np.finfo(np.float64).max))
    assert len(sets) == 2 and sets[0][0] == -top and sets[1][1] == top and sets[0][1] == -sets[1][0]
    a = float(sets[1][0])
    with np.errstate(under="ignore"):
        assert np.exp(-np.float64(a) ** 2) == 0 and np.exp(-np.float64(_next(a, np.float64, 0)) ** 2) > 0


def test_sigmoid_reflected_is_a_right_half_line_in_float32() -> None:
    sets = float_zero_sets("1/(1+exp(t))", "float32")["ieee"]
    (lo, hi), = sets
    assert hi == Fraction(float(np.finfo(np.float32).max))
    with np.errstate(all="ignore"):
        f = lambda v: np.float32(1) / (np.float32(1) + np.exp(np.float32(v)))  # noqa: E731
        assert f(float(lo)) == 0 and f(_next(float(lo), np.float32, 0)) > 0


def test_tanh_zero_set_is_only_zero() -> None:
    for dtype in ("float16", "bfloat16", "float32"):
        assert float_zero_sets("tanh", dtype) == {"ieee": [(0, 0)], "xla": [(0, 0)]}, dtype
    assert float_zero_sets("tanh", "float64")["ieee"] == [(0, 0)]


def test_tiny_shift_never_rounds_to_zero_in_float64_but_does_in_float16() -> None:
    assert float_zero_sets("Max(0, t) + 1e-30", "float64") == {"ieee": [], "xla": []}
    sets = float_zero_sets("Max(0, t) + 1e-30", "float16")  # 1e-30 is 0 in float16
    assert sets["ieee"] and sets["ieee"][0][1] == 0


def test_float_model_rounding_agrees_with_numpy_casts() -> None:
    rng = np.random.default_rng(7)
    raw = rng.integers(0, 2**64, size=3000, dtype=np.uint64).view(np.float64)
    raw = np.concatenate([raw[np.isfinite(raw)], [1e-45, 7e-46, 1.4e-45, 3.4028235e38, 3.4028236e38, 1e39, -2.0**-150]])
    with np.errstate(over="ignore"):
        expected = raw.astype(np.float32).astype(np.float64)
    with mpmath.workprec(200):
        got = np.array([float(round_nearest(mpmath.mpf(float(v)), FORMATS["float32"])) for v in raw])
    assert np.array_equal(got, expected)


# ---------------------------------------------------------------- soundness guards can fail
def test_planted_bug_in_the_model_is_caught_by_the_cross_check(monkeypatch) -> None:
    fv._zero_keys.cache_clear()
    monkeypatch.setattr(fv, "_verdict", lambda *a, **k: "zero")  # a model that calls every range zero
    try:
        assert fv._certified(fv.get_activation("exp"), "float32", "ieee") is None
    finally:
        fv._zero_keys.cache_clear()


def test_undecided_is_none_never_a_guess() -> None:
    sets = float_zero_sets("sin(t) + 2", "float64")  # no float model for sin at huge arguments
    assert sets["ieee"] is None or sets["ieee"] == []


# ---------------------------------------------------------------- none-exists needs an empty sound set
def test_none_exists_needs_theorem_and_empty_xla_zero_set() -> None:
    c = classify(ONE_THIRD)
    assert c.cls == "non-vanishing"
    assert not none_exists(c, ONE_THIRD, "float32")  # float32(1/3) rounds to 0
    assert none_exists(c, ONE_THIRD, "float64")
    d = classify("tanh(t) + 2")
    assert none_exists(d, "tanh(t) + 2", "float32") and zero_set_empty("tanh(t) + 2", "float32")
    assert not none_exists(classify("relu"), "relu", "float64")


def test_falsify_does_not_claim_none_exists_for_one_third_in_float32() -> None:
    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems.encoder import Encoder

    enc = Encoder.from_arrays([np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]])], [np.zeros(2)], [ONE_THIRD])
    res = falsify(enc, "p3", dtype="float32", budget=1, seed=0, max_rounds=1)
    assert res.status != "none-exists"
    enc2 = Encoder.from_arrays([np.array([[1.0, -1.0, 0.0]])], [np.zeros(1)], ["tanh(t) + 2"])
    assert falsify(enc2, "p3", dtype="float32", budget=1, seed=0, max_rounds=1).status == "none-exists"


# ---------------------------------------------------------------- CLI output
def _classify_cli(expr: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "classify", expr, *extra], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "250"})


def test_classify_json_has_exact_zero_sets_per_runtime() -> None:
    out = _classify_cli("exp", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    zs = data["float_zero_sets"]
    assert set(zs) == {"float16", "bfloat16", "float32", "float64"}
    assert all(set(v) == {"ieee", "xla"} for v in zs.values())
    (lo, hi), = zs["float64"]["ieee"]
    assert Fraction(lo) == -Fraction(float(np.finfo(np.float64).max))  # every digit, no 28-digit rounding
    for dtype, runtimes in zs.items():
        for intervals in runtimes.values():
            for a, b in intervals or []:
                assert Fraction(a) <= Fraction(b)
                assert Fraction(a) == Fraction(float(Fraction(a))) and Fraction(b) == Fraction(float(Fraction(b)))
    assert np.exp(np.float64(float(Fraction(hi)))) == 0 and Fraction(hi) == Fraction(float(Fraction(hi)))
    assert data["float_vanishing"]["float64"] == pytest.approx(-708.3964, abs=1e-3)  # XLA, as before


def test_zero_set_sentences_say_half_line_only_for_a_half_line() -> None:
    from latentcheck.checkers.float_vanishing import float_zero_sets_json, zero_set_sentence

    tanh = zero_set_sentence(float_zero_sets_json("tanh")["float32"]["ieee"], "float32")
    assert "t <=" not in tanh and "t = 0" in tanh
    bell = zero_set_sentence(float_zero_sets_json("exp(-t**2)")["float32"]["ieee"], "float32")
    assert "t <=" not in bell and "t >=" not in bell and bell.count("every float t in") == 2
    exp = zero_set_sentence(float_zero_sets_json("exp")["float32"]["xla"], "float32")
    assert "every finite float t <= -87.33" in exp
    right = zero_set_sentence(float_zero_sets_json("1/(1+exp(t))")["float64"]["ieee"], "float64")
    assert "t >= 709.78" in right and "t <=" not in right
    assert zero_set_sentence(None).startswith("undecided") and zero_set_sentence([]).startswith("never")


@pytest.mark.slow
def test_classify_tanh_prints_no_false_half_line() -> None:
    out = _classify_cli("tanh")
    assert out.returncode == 0, out.stderr
    assert "t <=" not in out.stdout and "t = 0" in out.stdout


def _float32_window(lo: float, hi: float) -> np.ndarray:
    a = np.array(lo, dtype=np.float32).view(np.int32)
    b = np.array(hi, dtype=np.float32).view(np.int32)
    return np.arange(int(a), int(b) + 1, dtype=np.int32).view(np.float32)  # positive floats: bits are ordered


@pytest.mark.parametrize(
    "expr, numpy_fn, lo, hi",
    [
        ("1/(1+exp(t))", lambda x: np.float32(1) / (np.float32(1) + np.exp(x)), 80.0, 112.0),
        ("exp(-t**2)", lambda x: np.exp(np.float32(-1) * x**2), 9.0, 11.0),
        ("t*exp(-t)", lambda x: x * np.exp(np.float32(-1) * x), 95.0, 112.0),
    ],
)
def test_float32_ieee_zero_set_against_every_float_in_a_window(expr: str, numpy_fn, lo: float, hi: float) -> None:
    """Every float32 in a window holding the boundary, evaluated independently, agrees with the certificate."""
    x = _float32_window(lo, hi)
    with np.errstate(all="ignore"):
        zero = numpy_fn(x) == 0
    assert zero.any() and not zero.all()  # the window really holds a boundary
    sets = float_zero_sets(expr, "float32")["ieee"]
    assert sets is not None
    edges = np.array([[float(a), float(b)] for a, b in sets])
    inside = np.zeros(x.shape, dtype=bool)
    for a, b in edges:
        inside |= (x.astype(np.float64) >= a) & (x.astype(np.float64) <= b)
    assert np.array_equal(inside, zero)


def test_float32_xla_zero_set_against_every_float_in_a_window() -> None:
    import jax.numpy as jnp

    x = _float32_window(80.0, 112.0)
    zero = _jax(lambda v: 1 / (1 + jnp.exp(v)), x) == 0
    assert zero.any() and not zero.all()
    (a, b), = float_zero_sets("1/(1+exp(t))", "float32")["xla"]
    inside = (x.astype(np.float64) >= float(a)) & (x.astype(np.float64) <= float(b))
    assert np.array_equal(inside, zero)


def test_empty_finite_zero_set_but_zero_at_infinity_is_not_none_exists() -> None:
    expr = "1/(1 + Abs(t))"  # IEEE float64: 1/(1+|t|) >= 5.6e-309 at every finite float, but 0 at t = +-inf
    assert float_zero_sets(expr, "float64")["ieee"] == []
    with np.errstate(all="ignore"):
        assert 1 / (1 + np.abs(np.float64(-np.inf))) == 0
    assert not zero_set_empty(expr, "float64", "ieee")
    assert zero_set_empty("tanh(t) + 2", "float64", "ieee")
