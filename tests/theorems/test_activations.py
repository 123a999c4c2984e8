"""Activations: float (numpy, JAX), exact and interval evaluations agree."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from mpmath import iv

from latentcheck.theorems import CATALOG, NotExact, UnknownActivation, UnsafeExpression, get_activation


@pytest.mark.parametrize("name", list(CATALOG))
def test_numpy_and_jax_agree(name: str) -> None:
    import jax.numpy as jnp

    act = CATALOG[name]
    x = np.linspace(-6, 6, 49)
    ours = act.numpy(x)
    theirs = np.asarray(act.jax_fn()(jnp.asarray(x, dtype=jnp.float32)), dtype=np.float64)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(CATALOG))
def test_interval_encloses_float(name: str) -> None:
    act = CATALOG[name]
    for q in (Fraction(-7, 3), Fraction(0), Fraction(1, 5), Fraction(5, 2)):
        enclosure = act.interval(iv.mpf(q.numerator) / q.denominator)
        value = float(act.numpy(np.array([float(q)]))[0])
        assert float(enclosure.a) - 1e-12 <= value <= float(enclosure.b) + 1e-12


def test_exact_for_piecewise_linear_only() -> None:
    assert CATALOG["relu"].exact(Fraction(-3, 7)) == 0
    assert CATALOG["hard_sigmoid"].exact(Fraction(1)) == Fraction(1, 6) + Fraction(1, 2)
    assert CATALOG["tanh"].exact(Fraction(0)) == 0  # sympy knows tanh(0) = 0 exactly
    with pytest.raises(NotExact):
        CATALOG["sigmoid"].exact(Fraction(1))
    assert CATALOG["relu"].is_exact and not CATALOG["tanh"].is_exact


def test_user_expression_float() -> None:
    act = get_activation("Max(0, t - 1) + t**2")
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(act.numpy(x), np.maximum(0, x - 1) + x**2)


def test_unknown_names_and_unsafe_text() -> None:
    with pytest.raises(UnknownActivation) as info:
        get_activation("swish2")
    assert "catalog" in str(info.value)
    with pytest.raises(UnsafeExpression):
        get_activation("t.__class__")
