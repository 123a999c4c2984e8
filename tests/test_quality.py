"""Quality tier: known-false claims must be refuted, known-true ones must never be.

The point checks are the single source of truth for certification; here they
are fed points where the float answer is misleading.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from latentcheck.checkers.prove.smt import binary_domain, grid_domain, p2_constant_check, p2_table_violations
from latentcheck.theorems import Encoder, check_flip, check_zero

small = st.integers(-3, 3).map(float)


@settings(max_examples=25)
@given(W=arrays(np.float64, (2, 4), elements=small), b=arrays(np.float64, (2,), elements=small),
       x=arrays(np.float64, (4,), elements=st.integers(-50, 50).map(float)))
def test_sigmoid_zero_is_never_certified(W, b, x) -> None:
    """T2: no real zero exists, so no point may be certified as one (even where float32 underflows)."""
    enc = Encoder.from_arrays([W * 30], [b], ["sigmoid"])
    result = check_zero(enc, [Fraction(v) for v in x])
    assert result.violates is not True


@settings(max_examples=25)
@given(b=arrays(np.float64, (2,), elements=st.floats(0.01, 5)),
       pts=st.lists(arrays(np.float64, (3,), elements=small), min_size=3, max_size=3))
def test_constant_relu_never_flips_or_vanishes(b, pts) -> None:
    enc = Encoder.from_arrays([np.zeros((2, 3))], [b], ["relu"])
    x, u, v = ([Fraction(c) for c in p] for p in pts)
    if sum(p * q for p, q in zip(x, u)) <= sum(p * q for p, q in zip(x, v)):
        assert check_flip(enc, x, u, v).violates is False
    assert check_zero(enc, x).violates is not True


def test_rounding_artefact_is_not_a_zero() -> None:
    """enc(x) underflows to 0 in float64 but is exactly nonzero: not certified as a zero."""
    W = np.array([[1e-200, 0.0, 0.0]])
    enc = Encoder.from_arrays([W], [np.zeros(1)], ["t**2"])
    x = [Fraction(1e-200), Fraction(0), Fraction(0)]
    assert enc(np.array([1e-200, 0, 0]))[0] == 0.0  # float says zero
    result = check_zero(enc, x)
    assert result.violates is False and result.certified == "exact"


def test_cancellation_artefact_is_not_a_flip() -> None:
    """A float 'flip' caused by rounding in the latent dot products is rejected exactly."""
    W = np.array([[1.0, 1e-17, 0.0]])
    enc = Encoder.from_arrays([W], [np.zeros(1)], ["identity"])
    x = [Fraction(1), Fraction(0), Fraction(0)]
    u = [Fraction(1), Fraction(0), Fraction(0)]
    v = [Fraction(1), Fraction(1), Fraction(0)]
    # <x,u> = <x,v> = 1; latent: 1*1 vs 1*(1 + 1e-17): exactly no flip (u's latent is smaller).
    assert check_flip(enc, x, u, v).violates is False


def test_smt_known_false_and_known_true() -> None:
    # Known false on the binary domain: a non-constant P2 map exists (re-checked exactly).
    r = p2_constant_check(binary_domain(2), 1)
    assert r.status == "refuted" and not p2_table_violations(binary_domain(2), r.table)
    # Known true: strict P2 is impossible for m = 1 on the grid.
    assert p2_constant_check(grid_domain(2), 1, strict=True).status == "proved"


def test_tampered_smt_table_fails_exact_recheck() -> None:
    dom = binary_domain(2)
    table = {p: [Fraction(1)] for p in dom}
    table[(1, 0)] = [Fraction(-1)]
    assert p2_table_violations(dom, table)
