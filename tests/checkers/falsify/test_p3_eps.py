"""P3-eps (``|enc(x)|_inf >= eps`` for ``|x| >= r``): registry, exact / interval check, falsify, CLI, re-checker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from latentcheck.checkers.falsify import falsify
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.properties import P3_EPS, get_property
from tests._indep import layers_of, p3_eps_holds_violated


def test_lookup_and_parameters_are_exact() -> None:
    p = get_property("P3-EPS:0.01,2")
    assert (p.eps, p.r) == (Fraction(1, 100), Fraction(2))
    assert get_property(p.spec) == p and p.spec == "P3-eps:1/100,2"
    assert get_property("p3-eps") is P3_EPS
    for bad in ("p3-eps:0,1", "p3-eps:1", "p3-eps:a,b", "p3-eps:1/100,-1"):
        with pytest.raises(InvalidArgument):
            get_property(bad)


def _sigmoid_encoder(seed: int = 0) -> Encoder:
    return Encoder.random([10, 3], "sigmoid", seed=seed)


def test_sigmoid_fails_p3_eps_and_the_witness_rechecks_independently() -> None:
    enc = _sigmoid_encoder()
    res = falsify(enc, "p3-eps", budget=5, seed=0)
    assert res.status == "counterexample" and res.property == "P3-eps:1/100,1"
    for cx in res.counterexamples:
        assert cx.certified == "interval"
        assert p3_eps_holds_violated(layers_of(enc, ["sigmoid"]), cx.vector("x"), Fraction(1, 100), Fraction(1))


def test_sigmoid_p3_eps_on_nonneg_by_search() -> None:
    """No construction on the orthant: the gradient search finds it (pre-activations driven to -inf)."""
    enc = Encoder.from_arrays([-np.abs(np.random.default_rng(1).normal(size=(3, 6)))], [np.zeros(3)], ["sigmoid"])
    res = falsify(enc, "p3-eps:1/1000,1", domain="nonneg", budget=10, seed=0)
    assert res.status == "counterexample"
    x = res.counterexamples[0].vector("x")
    assert all(v >= 0 for v in x)
    assert p3_eps_holds_violated(layers_of(enc, ["sigmoid"]), x, Fraction(1, 1000), Fraction(1))


def test_relu_witness_is_exact() -> None:
    enc = Encoder.random([8, 3], "relu", seed=2)
    res = falsify(enc, "p3-eps:1/10,3", budget=5, seed=0)
    assert res.status == "counterexample"
    cx = res.counterexamples[0]
    assert cx.certified == "exact"
    assert p3_eps_holds_violated(layers_of(enc, ["relu"]), cx.vector("x"), Fraction(1, 10), Fraction(3))


def test_check_refutes_short_points_and_large_latents() -> None:
    enc = Encoder.from_arrays([np.eye(2)], [np.zeros(2)], ["identity"])
    p = get_property("p3-eps:1/2,1")
    assert p.check(enc, [[Fraction(1, 2), Fraction(0)]]).violates is False  # |x| < r
    assert p.check(enc, [[Fraction(1), Fraction(0)]]).violates is False  # |enc_0| = 1 >= eps
    chk = get_property("p3-eps:2,1").check(enc, [[Fraction(1), Fraction(0)]])
    assert chk.violates is True and chk.certified == "exact" and Fraction(chk.margin) == 1


def test_planted_bug_is_caught_by_the_rechecker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that skips the eps comparison certifies a point the independent re-checker rejects."""
    from latentcheck.theorems.domains import parse_domain
    from latentcheck.counterexamples.candidate import certify_candidate
    from latentcheck.theorems.properties import PointCheck, SmallLatent

    enc = _sigmoid_encoder()
    x = [Fraction(1)] + [Fraction(0)] * 9  # sigmoid outputs near 1/2: no witness
    assert certify_candidate(P3_EPS, enc, [x], domain=parse_domain("reals"), dtype="float32").status == "refuted"
    monkeypatch.setattr(SmallLatent, "check", lambda self, encoder, vectors: PointCheck(True, "interval", "planted", "0"))
    cert = certify_candidate(P3_EPS, enc, [x], domain=parse_domain("reals"), dtype="float32")
    assert cert.certified  # the planted bug certifies it ...
    assert not p3_eps_holds_violated(layers_of(enc, ["sigmoid"]), x, Fraction(1, 100), Fraction(1))  # ... caught


def test_rechecker_rejects_a_short_witness() -> None:
    enc = _sigmoid_encoder()
    res = falsify(enc, "p3-eps", budget=5, seed=0)
    x = res.counterexamples[0].vector("x")
    layers = layers_of(enc, ["sigmoid"])
    assert p3_eps_holds_violated(layers, x, Fraction(1, 100), Fraction(1))
    norm2 = sum(v * v for v in x)
    assert not p3_eps_holds_violated(layers, x, Fraction(1, 100), Fraction(norm2.numerator + 1, 1))  # r > |x|
    assert not p3_eps_holds_violated(layers, x, Fraction(1, 10**300), Fraction(1))  # eps below every |enc_i|


def test_cli_falsify_p3_eps(tmp_path: "os.PathLike[str]") -> None:
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "falsify", "--property", "p3-eps:1/100,1",
                          "--layers", "8,3", "--activation", "sigmoid", "--budget", "5", "--json"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "counterexample" and data["property"] == "P3-eps:1/100,1"
    assert data["property_parameters"]["eps"] == "1/100"
    bad = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "falsify", "--property", "p3-eps:0,1",
                          "--layers", "8,3", "--activation", "sigmoid"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "error:" in bad.stderr and "EPS > 0" in bad.stderr


def test_counterexample_record_round_trips_with_its_parameters() -> None:
    from latentcheck.counterexamples.types import Counterexample

    cx = Counterexample("P3-eps:1/100,1", (("3", "-4"),), "1/200", "exact", "float32", "reals")
    assert cx.names == ("x",)
    back = Counterexample.from_json(cx.to_json())
    assert back == cx and get_property(back.property).eps == Fraction(1, 100)
    with pytest.raises(ValueError):
        Counterexample("P1", (("1",),), None, "exact", "float32", "reals")  # P1 has no witness points
