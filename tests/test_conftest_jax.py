"""The loud JAX settings of tests/conftest.py are on in the files it lists (this one included): mistakes raise."""

from __future__ import annotations

import jax.numpy as jnp
import pytest


def test_implicit_rank_promotion_raises() -> None:
    with pytest.raises(ValueError, match="rank_promotion"):
        jnp.zeros((2, 3)) + jnp.zeros(3)
    assert (jnp.zeros((2, 3)) + jnp.zeros(3)[None, :]).shape == (2, 3)  # explicit broadcasting is fine


def test_implicit_dtype_promotion_raises() -> None:
    with pytest.raises(Exception, match="strict"):
        jnp.ones(3, dtype=jnp.float32) * jnp.ones(3, dtype=jnp.int32)
    with pytest.raises(Exception, match="strict"):
        0.5 * jnp.ones(3, dtype=bool)
    assert (jnp.ones(3, dtype=jnp.float32) * 2.0).dtype == jnp.float32  # a Python scalar stays weak
