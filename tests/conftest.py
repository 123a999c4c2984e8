"""Shared test configuration: Hypothesis profiles, JAX's loud settings and the shared-data location.

JAX's loud settings (:func:`_jax_promotion`) make shape and dtype mistakes
fail instead of broadcasting or widening silently:

* implicit rank promotion raises (``X[B, m] + b[m]``) in EVERY test;
* dtype promotion is ``strict`` (``0.5 * mask`` with a bool mask, ``x * i``
  with an int32 ``i``) in the test files of :data:`LOUD_JAX`, or in every
  file with ``LATENTCHECK_LOUD_JAX=all``. It cannot be on where a test runs
  the falsifier's search: optax's Adam computes its bias correction as
  ``1 - decay**count`` (a Python float to an int32 power), which strict
  promotion refuses inside optax itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import pytest
from hypothesis import HealthCheck, settings

#: Test files run with strict dtype promotion too (rank promotion raises everywhere). The others run the
#: falsifier's optax search, whose Adam bias correction (``decay**count``) strict promotion refuses.
LOUD_JAX = frozenset({
    "test_activations.py",
    "test_bad_options.py",
    "test_classify.py",
    "test_conftest_jax.py",
    "test_constructions.py",
    "test_encoder.py",
    "test_falsify_budget.py",
    "test_formats.py",
    "test_margin_strings.py",
    "test_public_api.py",
    "test_quality.py",
    "test_testing_quality.py",
    "test_testing_strategies.py",
})


@pytest.fixture(autouse=True)
def _jax_promotion(request: pytest.FixtureRequest):
    """Rank promotion raises in every test; dtype promotion is strict in the files of :data:`LOUD_JAX` (all with ``LATENTCHECK_LOUD_JAX=all``)."""
    strict = os.environ.get("LATENTCHECK_LOUD_JAX") == "all" or request.node.path.name in LOUD_JAX
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict" if strict else "standard"):
        yield


settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: MovieLens-100K, shared beside the checkout (never committed: GroupLens licence).
ML100K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ml-100k"


@pytest.fixture
def ml100k_path() -> Path:
    """Path to ../shared/data/ml-100k; skips the test with a reason where it is absent."""
    if not (ML100K / "u.data").exists():
        pytest.skip(f"MovieLens-100K not found at {ML100K} (it is not redistributed with latentcheck)")
    return ML100K
