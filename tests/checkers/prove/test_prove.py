"""Conformance: every theorem and every catalog activation through the same checks."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from latentcheck.checkers.float_vanishing import float_vanishing_threshold
from latentcheck.checkers.prove.checks import CHECKS, PROVED, REFUTED, prove_all
from latentcheck.theorems import CATALOG, NON_VANISHING, Encoder, check_zero, classify
from latentcheck.theorems.catalog import CLAIMS
from latentcheck.theorems.constructions import t1_witness


@pytest.fixture(scope="module")
def verdicts():
    return prove_all(timeout=60)


def test_every_claim_has_an_engine() -> None:
    assert {c.check for c in CLAIMS} <= set(CHECKS)
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)


def test_every_verdict_as_expected(verdicts) -> None:
    wrong = {v.id: (v.verdict, v.reason) for v in verdicts if not v.as_expected}
    assert not wrong


def test_refutations_carry_certified_counterexamples(verdicts) -> None:
    for v in verdicts:
        row = v.to_json()
        assert {"id", "claim", "verdict", "expected", "method", "scope", "seconds"} <= set(row)
        if v.verdict == REFUTED:
            assert v.counterexample and v.certified in ("exact", "interval", "float-only")
            assert (v.dtype is not None) == (v.certified == "float-only")
            json.dumps(row)  # exact values are strings
        if v.verdict == PROVED:
            assert v.certificate and v.scope


def test_paper_claims_present(verdicts) -> None:
    by_id = {v.id: v for v in verdicts}
    assert by_id["P3-sigmoid-float16"].dtype == "float16"
    assert by_id["P3-relu"].certified == "exact"
    assert by_id["P2-sigmoid"].certified == "interval"


def test_counterexample_recheck_from_json(verdicts) -> None:
    """Re-check the printed P3-relu witness from its strings alone."""
    row = next(v for v in verdicts if v.id == "P3-relu").counterexample
    W = np.array([[float(Fraction(c)) for c in r] for r in row["W"]])
    b = np.array([float(Fraction(c)) for c in row["b"]])
    enc = Encoder.from_arrays([W], [b], [row["activation"]])
    assert check_zero(enc, [Fraction(c) for c in row["x"]]).violates is True


@pytest.mark.parametrize("name", list(CATALOG))
def test_activation_conformance(name: str) -> None:
    """Same checks for every catalog activation: class, certificate, T1 or T2, float threshold."""
    c = classify(name)
    assert c.certificate
    W = np.array([[1.0, 2.0, 0.0, -1.0], [0.0, 1.0, 3.0, 1.0]])
    b = np.array([0.5, -1.0])
    enc = Encoder.from_arrays([W], [b], [name])
    if c.vanishing:
        assert c.zero is not None
        if c.zero.is_Rational:
            x = t1_witness(W, b, Fraction(int(c.zero.p), int(c.zero.q)))
            assert check_zero(enc, x).violates is True
    else:
        assert c.cls == NON_VANISHING
        pts = np.random.default_rng(0).normal(size=(5, 4)) * 10
        for p in pts:
            assert check_zero(enc, [Fraction(v) for v in p]).violates is False
    thr16 = float_vanishing_threshold(name, "float16")
    if c.cls == NON_VANISHING:
        # Non-vanishing over the reals, yet these three underflow in float16.
        assert thr16 is not None and thr16 < -5
