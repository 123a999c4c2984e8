"""Classification from mathematics, never from names: catalog and unseen expressions."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from latentcheck.theorems import CATALOG, NON_VANISHING, RELU_LIKE, TANH_LIKE, T, classify, get_activation

# What the mathematics says about each catalog function (THEORY.md, "Classes of activation").
CATALOG_CLASSES = {
    "relu": RELU_LIKE, "hard_sigmoid": RELU_LIKE, "relu6": RELU_LIKE,
    "tanh": TANH_LIKE, "identity": TANH_LIKE, "leaky_relu": TANH_LIKE, "elu": TANH_LIKE,
    "gelu": TANH_LIKE, "silu": TANH_LIKE, "softsign": TANH_LIKE, "hard_tanh": TANH_LIKE, "erf": TANH_LIKE,
    "sigmoid": NON_VANISHING, "softplus": NON_VANISHING, "exp": NON_VANISHING,
}


def test_catalog_is_fully_described() -> None:
    assert set(CATALOG_CLASSES) == set(CATALOG)


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_classes(name: str) -> None:
    c = classify(name)
    assert c.cls == CATALOG_CLASSES[name], c.certificate
    assert c.certificate


@pytest.mark.parametrize("text, cls", [
    ("Max(0, t - 1)", RELU_LIKE),
    ("Max(0, 3*t + 2)", RELU_LIKE),
    ("Min(0, t)", RELU_LIKE),
    ("2*tanh(3*t - 1)", TANH_LIKE),
    ("tanh(t) - 1/2", TANH_LIKE),
    ("t**3 - t + 1", TANH_LIKE),
    ("t**2 - 2", TANH_LIKE),
    ("sin(t)", TANH_LIKE),
    ("t*exp(t)", TANH_LIKE),
    ("tanh(t) + 1", NON_VANISHING),
    ("t**2 + 1", NON_VANISHING),
    ("1/(1 + exp(-2*t + 5))", NON_VANISHING),
    ("log(1 + exp(t - 3))", NON_VANISHING),
    ("exp(-t**2)", NON_VANISHING),
    ("cosh(t)", NON_VANISHING),
    ("t**4 + t**2 + 1/7", NON_VANISHING),
])
def test_unseen_expressions(text: str, cls: str) -> None:
    assert classify(text).cls == cls


def _check_zero_is_real(c, expr: sp.Expr) -> None:
    if c.zero is not None and c.cls == TANH_LIKE:
        assert sp.simplify(expr.subs(T, c.zero)) == 0


@settings(max_examples=15)
@given(c=st.integers(1, 9), d=st.integers(-9, 9), e=st.integers(1, 5))
def test_shifted_scaled_relu_is_relu_like(c: int, d: int, e: int) -> None:
    act = get_activation(f"{e}*Max(0, {c}*t + {d})")
    result = classify(act)
    assert result.cls == RELU_LIKE
    side, a = result.half_line
    # The certificate's half-line really is made of zeros.
    probe = float(a) - 1.0 if side == "left" else float(a) + 1.0
    assert act.numpy(np.array([probe]))[0] == 0


@settings(max_examples=15)
@given(c=st.integers(1, 9), d=st.integers(-9, 9))
def test_shifted_tanh_is_tanh_like_with_exact_zero(c: int, d: int) -> None:
    act = get_activation(f"tanh({c}*t + {d})")
    result = classify(act)
    assert result.cls == TANH_LIKE
    assert sp.simplify(act.expr.subs(T, result.zero)) == 0


@settings(max_examples=15)
@given(c=st.integers(1, 9), d=st.integers(-9, 9), k=st.integers(1, 4))
def test_composed_sigmoid_is_non_vanishing(c: int, d: int, k: int) -> None:
    assert classify(f"{k}/(1 + exp(-({c}*t + {d})))").cls == NON_VANISHING


@settings(max_examples=15)
@given(r1=st.integers(-5, 5), r2=st.integers(-5, 5))
def test_polynomials_with_real_roots(r1: int, r2: int) -> None:
    result = classify(f"(t - {r1})*(t - {r2})")
    assert result.cls == TANH_LIKE
    assert result.zero in (r1, r2)


@settings(max_examples=15)
@given(c=st.integers(1, 20))
def test_polynomials_without_real_roots(c: int) -> None:
    assert classify(f"t**2 + {c}").cls == NON_VANISHING


def test_bounded_interval_of_zeros_is_not_called_relu_like() -> None:
    assert classify("Max(0, Abs(t) - 1)").cls == "vanishing"
