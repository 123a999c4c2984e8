"""Ball arithmetic (theorems/balls.py): every compiled catalog activation encloses an independent value.

The reference values are written here from the activations' textbook formulas in mpmath
at 60 digits (no sympy tree, no shared code with the compiler); a ball must contain
that value (within its 1e-55 error) and be tight.
"""

from __future__ import annotations

import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from latentcheck.theorems.activations import catalog_names, get_activation
from latentcheck.theorems.balls import (Unsupported, ball_from_interval, ball_of, ball_precision, compile_ball,
                                        contains_zero, exact_bounds, lower_mpf)
from latentcheck.theorems.errors import NotExact
from latentcheck.theorems.expr import T
from latentcheck.theorems.properties import lower_decimal

REFERENCE = {
    "relu": lambda t: max(t, 0), "leaky_relu": lambda t: t if t > 0 else t / 100,
    "elu": lambda t: t if t > 0 else mpmath.exp(t) - 1, "gelu": lambda t: t / 2 * (1 + mpmath.erf(t / mpmath.sqrt(2))),
    "silu": lambda t: t / (1 + mpmath.exp(-t)), "tanh": mpmath.tanh, "identity": lambda t: t,
    "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)), "softplus": lambda t: mpmath.log(1 + mpmath.exp(t)),
    "hard_sigmoid": lambda t: max(0, min(1, t / 6 + mpmath.mpf(1) / 2)), "softsign": lambda t: t / (1 + abs(t)),
    "exp": mpmath.exp, "relu6": lambda t: min(max(0, t), 6), "hard_tanh": lambda t: max(-1, min(1, t)),
    "erf": mpmath.erf,
}
POINTS = [Fraction(0), Fraction(1, 3), Fraction(-7, 5), Fraction(5, 2), Fraction(-40), Fraction(35),
          Fraction(1, 10**30), Fraction(-3, 2**70), Fraction(700), Fraction(-700), Fraction(123456789, 1000)]


def _encloses(ball, value) -> bool:
    lo, hi = exact_bounds(ball)
    slack = Fraction(1, 10**55) * max(1, abs(Fraction(str(value))))
    v = Fraction(mpmath.nstr(value, 70, strip_zeros=False)) if value != 0 else Fraction(0)
    return lo - slack <= v <= hi + slack


def _check_activation(name: str, fn) -> list[str]:
    """Points where ``fn`` (a compiled ball function) misses the reference or is loose."""
    bad = []
    for p in POINTS:
        with mpmath.workdps(60):
            ref = REFERENCE[name](mpmath.mpf(p.numerator) / p.denominator)
        with ball_precision():
            ball = fn(ball_of(p))
            lo, hi = exact_bounds(ball)
        if not _encloses(ball, ref) or hi - lo > max(abs(lo), Fraction(1, 10**250)) * Fraction(1, 10**12):
            bad.append(f"{name}({p})")
    return bad


def test_catalog_covers_every_activation() -> None:
    assert set(REFERENCE) == set(catalog_names())


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_compiled_ball_encloses_reference(name: str) -> None:
    fn = compile_ball(get_activation(name).expr)  # every catalog activation compiles: no mpmath fallback needed
    assert _check_activation(name, fn) == []


def test_planted_wrong_function_is_caught(monkeypatch) -> None:
    # Swap tanh for sinh inside the compiler: the enclosure check must report it.
    import latentcheck.theorems.balls as balls

    monkeypatch.setitem(balls._unary_names(), sp.tanh, "sinh")
    assert _check_activation("tanh", compile_ball(get_activation("tanh").expr)) != []


def test_exact_zero_only_from_exact_balls() -> None:
    with ball_precision():
        tanh = compile_ball(get_activation("tanh").expr)
        z = tanh(ball_of(Fraction(0)))
        assert z.is_zero() and contains_zero(z)
        tiny = tanh(ball_of(Fraction(1, 10**40)))
        assert not contains_zero(tiny) and tiny > 0  # tiny but certified positive
        sig = compile_ball(get_activation("sigmoid").expr)(ball_of(Fraction(-700)))
        assert sig > 0 and not sig.is_zero()


def test_undefined_points_raise_not_exact() -> None:
    with ball_precision():
        for expr, p in ((1 / T, Fraction(0)), (sp.log(T), Fraction(0)), (sp.sqrt(T), Fraction(-1)),
                        (T ** sp.Rational(1, 3), Fraction(0)), (sp.log(1 + T), Fraction(-1))):
            with pytest.raises(NotExact):
                compile_ball(expr)(ball_of(p))


def test_piecewise_and_unsupported() -> None:
    fn = compile_ball(sp.Piecewise((T, T > 0), (sp.exp(T) - 1, True)))
    with ball_precision(), mpmath.workdps(60):
        assert _encloses(fn(ball_of(Fraction(2))), mpmath.mpf(2))
        assert _encloses(fn(ball_of(Fraction(-2))), mpmath.exp(mpmath.mpf(-2)) - 1)
        assert not _encloses(fn(ball_of(Fraction(-2))), mpmath.mpf(-2))  # the other branch is not taken
    with pytest.raises(Unsupported):
        compile_ball(sp.atan(T))


def test_margins_round_down() -> None:
    with ball_precision():
        b = compile_ball(get_activation("sigmoid").expr)(ball_of(Fraction(1, 3)))
    lo, hi = exact_bounds(b)
    text = lower_decimal(lower_mpf(b))
    assert Fraction(text) <= lo < hi and hi - Fraction(text) < Fraction(1, 10**18)
    with mpmath.workdps(60):
        assert Fraction(text) < Fraction(mpmath.nstr(1 / (1 + mpmath.exp(-mpmath.mpf(1) / 3)), 60))


def test_ball_from_interval_contains_both_ends() -> None:
    from mpmath import iv

    iv.prec = 96
    v = iv.mpf(1) / 3
    with ball_precision():
        b = ball_from_interval(v)
    lo, hi = exact_bounds(b)
    ends = [(-1) ** r[0] * Fraction(int(r[1])) * Fraction(2) ** int(r[2]) for r in v._mpi_]
    assert lo <= ends[0] <= ends[1] <= hi


# ---------------------------------------------------------------- the fast P2 check on balls, re-checked independently
def _tanh_flips(enc, W, b, triples):
    """``(certified, confirmed)``: triples check_flip_fast certifies by balls, and those the re-checker confirms."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[0]))
    from _recheck import encode

    from latentcheck.counterexamples.fast import QVec, check_flip_fast

    certified = confirmed = 0
    for x, u, v in triples:
        chk = check_flip_fast(enc, *(QVec.from_fractions(w) for w in (x, u, v)))
        if chk is None or chk.violates is not True:
            continue
        assert chk.certified == "interval"
        certified += 1
        ex, eu, ev = (encode([W], [b], ["tanh"], w) for w in (x, u, v))
        with mpmath.workdps(120):
            diff = sum(p * q for p, q in zip(ex, eu)) - sum(p * q for p, q in zip(ex, ev))
            confirmed += bool(diff > 0 and mpmath.mpf(chk.margin) <= diff)
    return certified, confirmed


def _tanh_case():
    import numpy as np

    from latentcheck.theorems.encoder import Encoder

    R = random.Random(5)
    W = [[Fraction(R.randint(-40, 40), 16) for _ in range(6)] for _ in range(3)]
    b = [Fraction(R.randint(-8, 8), 8) for _ in range(3)]
    enc = Encoder.from_arrays([np.array([[float(w) for w in row] for row in W])], [np.array([float(v) for v in b])], "tanh")
    triples = []
    for _ in range(40):
        x, u, v = ([Fraction(R.randint(-9, 9), 4) for _ in range(6)] for _ in range(3))
        if sum(p * q for p, q in zip(x, u)) > sum(p * q for p, q in zip(x, v)):
            u, v = v, u
        triples.append((x, u, v))
    return enc, W, b, triples


def test_fast_flip_certificates_recheck_independently() -> None:
    certified, confirmed = _tanh_flips(*_tanh_case())
    assert certified >= 3 and confirmed == certified


def test_planted_sign_error_in_ball_dot_is_caught(monkeypatch) -> None:
    import latentcheck.counterexamples.fast as fast

    real = fast._ball_dot_diff
    monkeypatch.setattr(fast, "_ball_dot_diff", lambda ex, eu, ev: real(ex, ev, eu))  # <x,v> - <x,u>: the wrong sign
    certified, confirmed = _tanh_flips(*_tanh_case())
    assert certified > confirmed
