"""P2-delta (ordering required only when ``<x,v> - <x,u> >= delta |x|^2``): check, falsify, re-checker, planted bug."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from latentcheck.theorems.domains import parse_domain
from latentcheck.checkers.falsify import falsify
from latentcheck.counterexamples.candidate import certify_candidate
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.properties import P2_DELTA, OrderingMargin, PointCheck, get_property
from tests._indep import layers_of, p2_delta_violated

F = Fraction
# enc(x) = x_0 (m = 1, n = 2). x = (1, 1), u = (1, -2), v = 0: <x,v> - <x,u> = 1, |x|^2 = 2; <enc x, enc u> = 1 > 0.
LINEAR = Encoder.from_arrays([np.array([[1.0, 0.0]])], [np.zeros(1)], ["identity"])
TRIPLE = [[F(1), F(1)], [F(1), F(-2)], [F(0), F(0)]]


def test_lookup_and_parameters() -> None:
    p = get_property("P2-DELTA:0.25")
    assert p.delta == F(1, 4) and p.spec == "P2-delta:1/4" and get_property(p.spec) == p
    assert get_property("p2-delta") is P2_DELTA and P2_DELTA.delta == F(1, 10)
    with pytest.raises(InvalidArgument):
        get_property("p2-delta:-1")


@pytest.mark.parametrize("delta, violated", [(F(1, 10), True), (F(1, 2), True), (F(1), False)])
def test_exact_check_on_a_linear_encoder(delta: Fraction, violated: bool) -> None:
    p = get_property(f"p2-delta:{delta}")
    chk = p.check(LINEAR, TRIPLE)
    assert chk.violates is violated and chk.certified == "exact"
    assert p2_delta_violated(layers_of(LINEAR, ["identity"]), *TRIPLE, delta) is violated
    cert = certify_candidate(p, LINEAR, TRIPLE, domain=parse_domain("reals"), dtype="float32")
    assert cert.certified is violated


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_falsify_finds_certified_flips_that_recheck(act: str) -> None:
    enc = Encoder.random([9, 3], act, seed=4)
    res = falsify(enc, "p2-delta:1/5", budget=5, seed=0)
    assert res.status == "counterexample" and res.property == "P2-delta:1/5"
    for cx in res.counterexamples:
        assert cx.certified in ("exact", "interval")
        assert p2_delta_violated(layers_of(enc, [act]), cx.vector("x"), cx.vector("u"), cx.vector("v"), F(1, 5))


def test_search_finds_flips_with_a_nonzero_user() -> None:
    """On the sphere (no zero user, so no T5 witness) the search must find ``x != 0`` with the margin premise."""
    enc = Encoder.random([6, 2], "relu", seed=1)
    res = falsify(enc, "p2-delta:1/100", domain="sphere", budget=10, seed=0)
    assert res.status == "counterexample"
    cx = res.counterexamples[0]
    assert any(cx.vector("x")) and sum(v * v for v in cx.vector("x")) == 1
    assert p2_delta_violated(layers_of(enc, ["relu"]), cx.vector("x"), cx.vector("u"), cx.vector("v"), F(1, 100))


def test_planted_bug_is_caught_by_the_rechecker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that forgets the premise certifies a triple that is no witness; the re-checker rejects it."""
    p = get_property("p2-delta:1")
    assert certify_candidate(p, LINEAR, TRIPLE, domain=parse_domain("reals"), dtype="float32").status == "refuted"
    monkeypatch.setattr(OrderingMargin, "check", lambda self, enc, vecs: PointCheck(True, "exact", "planted", "1"))
    assert certify_candidate(p, LINEAR, TRIPLE, domain=parse_domain("reals"), dtype="float32").certified
    assert not p2_delta_violated(layers_of(LINEAR, ["identity"]), *TRIPLE, F(1))
