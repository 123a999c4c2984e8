"""Conformance: every registered property x every domain x every activation class, through one engine.

For each cell the falsifier runs on a small encoder and every certified
counterexample it returns must (1) lie in the domain, checked here by hand
(exact rationals), and (2) violate the property, re-checked by
``tests/_indep.py``, which shares no evaluation code with the engine. The
theory fixes some answers, asserted too: T2 (a non-vanishing activation has
no real P3 counterexample on any domain) and T1 (a vanishing activation on
the reals has one, found by the deterministic constructions).

The CI tier runs a Latin square (every property with every domain, the
activation class rotating, so each pair of axes meets); the slow tier runs
the whole cube.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Sequence

import pytest

from latentcheck.checkers.falsify import falsify
from latentcheck.theorems import Encoder
from latentcheck.theorems.properties import REGISTRY
from tests._indep import encode, layers_of, p2_delta_violated, p3_eps_holds_violated

#: One activation per class of THEORY.md: relu-like (vanishes on a half-line), tanh-like (vanishes at 0 only),
#: non-vanishing (never 0).
ACTIVATIONS = {"relu-like": "relu", "tanh-like": "tanh", "non-vanishing": "sigmoid"}
DOMAINS = ("reals", "nonneg", "binary", "sphere", "box:-1,1")
PROPERTIES = tuple(sorted(p.id.lower() for p in REGISTRY.values() if p.falsifiable))
STATUSES = {"counterexample", "float-only", "none-found", "none-exists"}


def _in_domain(domain: str, x: Sequence[Fraction]) -> bool:
    """Exact membership, written here without the engine's Domain classes."""
    if domain == "reals":
        return True
    if domain == "nonneg":
        return all(v >= 0 for v in x)
    if domain == "binary":
        return all(v in (0, 1) for v in x)
    if domain == "sphere":
        return sum(v * v for v in x) == 1
    lo, hi = (Fraction(t) for t in domain.split(":")[1].split(","))
    return all(lo <= v <= hi for v in x)


def _violates(spec: str, layers: list, vectors: dict[str, list[Fraction]]) -> bool:
    """The independent re-check of one certified witness of property ``spec``."""
    kind, _, params = spec.partition(":")
    kind = kind.lower()
    if kind == "p3":
        x = vectors["x"]
        return any(v != 0 for v in x) and all(_is_zero(z) for z in encode(layers, x))
    if kind == "p3-eps":
        eps, r = (Fraction(t) for t in params.split(","))
        return p3_eps_holds_violated(layers, vectors["x"], eps, r)
    delta = Fraction(params) if kind == "p2-delta" else Fraction(0)  # P2 is P2-delta with delta = 0
    return p2_delta_violated(layers, vectors["x"], vectors["u"], vectors["v"], delta)


def _is_zero(z: object) -> bool:
    return z == 0 if isinstance(z, Fraction) else (z.a == 0 and z.b == 0)


def _run(prop: str, domain: str, cls: str) -> None:
    act = ACTIVATIONS[cls]
    enc = Encoder.random([6, 3], act, seed=1)
    res = falsify(enc, prop, domain=domain, budget=0.5, seed=0, restarts=16, max_counterexamples=1,
                  max_shrink_checks=10)
    assert res.status in STATUSES, res.status
    assert res.status != "counterexample" or res.counterexamples
    for cx in res.counterexamples:
        assert cx.certified in ("exact", "interval")
        vectors = {name: list(cx.vector(name)) for name in cx.names}
        for name, vec in vectors.items():
            assert _in_domain(domain, vec), (name, domain)
        assert _violates(res.property, layers_of(enc, [act]), vectors), (prop, domain, cls)
    if prop == "p3" and cls == "non-vanishing":
        assert not res.counterexamples, "T2: a non-vanishing activation has no real P3 counterexample"
    if prop == "p3" and cls != "non-vanishing" and domain == "reals":
        assert res.status == "counterexample", "T1: a vanishing activation has a P3 counterexample on the reals"


def _latin_square() -> list[tuple[str, str, str]]:
    classes = list(ACTIVATIONS)
    return [(p, d, classes[(i + j) % len(classes)]) for i, p in enumerate(PROPERTIES) for j, d in enumerate(DOMAINS)]


def test_every_registered_property_is_in_the_grid() -> None:
    assert {"p2", "p3", "p3-eps", "p2-delta"} <= set(PROPERTIES)


@pytest.mark.parametrize("prop,domain,cls", _latin_square())
def test_conformance_latin_square(prop: str, domain: str, cls: str) -> None:
    _run(prop, domain, cls)


@pytest.mark.slow
@pytest.mark.parametrize("prop,domain,cls", [c for c in itertools.product(PROPERTIES, DOMAINS, ACTIVATIONS)
                                             if c not in set(_latin_square())])
def test_conformance_full_cube(prop: str, domain: str, cls: str) -> None:
    _run(prop, domain, cls)


def test_the_recheck_can_fail() -> None:
    """Planted bug: a witness that is not one (x = 0 for P3; a premise that fails for P2) is rejected."""
    enc = Encoder.random([6, 3], "relu", seed=1)
    layers = layers_of(enc, ["relu"])
    assert not _violates("P3", layers, {"x": [Fraction(0)] * 6})
    e = [Fraction(int(i == 0)) for i in range(6)]
    assert not _violates("P2-delta:1/10", layers, {"x": e, "u": e, "v": [Fraction(0)] * 6})
    assert not _in_domain("box:-1,1", [Fraction(3, 2)]) and not _in_domain("sphere", [Fraction(1), Fraction(1)])
