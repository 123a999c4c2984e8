"""Domains as objects: one class each, exact membership and rounding, sampling, box bounds, triple sampler."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from latentcheck.theorems.domains import Binary, Box, Data, Domain, Nonneg, Reals, Sphere, parse_domain
from latentcheck.counterexamples.fast import QVec, domain_contains
from latentcheck.theorems.errors import InvalidArgument

F = Fraction


@pytest.mark.parametrize("spec, cls", [("reals", Reals), ("nonneg", Nonneg), ("binary", Binary), ("sphere", Sphere),
                                       ("box:-1,1", Box), ("R", Reals), ("orthant", Nonneg)])
def test_parse_gives_one_class_each(spec: str, cls: type) -> None:
    dom = parse_domain(spec)
    assert type(dom) is cls and isinstance(dom, Domain)
    assert parse_domain(dom) is dom


def test_domain_name_constructor_builds_the_subclass() -> None:
    rows = np.array([[0.0, 1.0], [2.0, 0.5]])
    dom = Domain("data", rows, "here")
    assert isinstance(dom, Data) and dom.label == "data:here" and dom.is_finite and not dom.contains_zero
    assert dom.contains([F(2), F(1, 2)]) and not dom.contains([F(2), F(1, 3)])
    with pytest.raises(InvalidArgument):
        Domain("moon")


def test_box_bounds_are_exact_rationals_from_text() -> None:
    box = parse_domain("box:-1/3,0.1")
    assert (box.lo, box.hi) == (F(-1, 3), F(1, 10))
    assert box.contains([F(-1, 3), F(1, 10)]) and not box.contains([F(1, 10) + F(1, 10**30)])
    assert box.contains_zero and not parse_domain("box:1,2").contains_zero
    assert all(box.contains([q]) for q in box.to_exact(np.array([-5.0, 0.05, 7.0])))
    assert box.label == "box:-1/3,1/10"
    for bad in ("box:1", "box:a,b", "box:2,1"):
        with pytest.raises(InvalidArgument):
            parse_domain(bad)


@pytest.mark.parametrize("spec", ["reals", "nonneg", "binary", "sphere", "box:-1/2,2"])
def test_rounding_lands_in_the_domain_and_sparse_membership_agrees(spec: str) -> None:
    dom = parse_domain(spec)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.normal(size=5) * 3
        q = dom.to_exact(x)
        assert dom.contains(q)
        assert domain_contains(dom, QVec.from_fractions(q))
        y = [F(int(v)) / 3 for v in rng.integers(-3, 4, size=5)]
        assert domain_contains(dom, QVec.from_fractions(y)) == dom.contains(y)


def test_capabilities() -> None:
    r, nn, b, s = (parse_domain(t) for t in ("reals", "nonneg", "binary", "sphere"))
    assert r.is_whole and r.is_cone and r.is_symmetric and r.allows_rounding
    assert nn.is_orthant and nn.is_cone and not nn.is_symmetric
    assert b.is_binary and not b.is_cone and not b.allows_rounding
    assert s.is_sphere and not s.contains_zero and s.is_symmetric


def test_sampling_and_projection_stay_in_the_relaxed_domain() -> None:
    import jax

    key = jax.random.PRNGKey(0)
    for spec in ("nonneg", "binary", "sphere", "box:-1,2"):
        dom = parse_domain(spec)
        X = np.asarray(dom.project(dom.sample(key, (16, 4))))
        if spec == "sphere":
            assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
        elif spec == "box:-1,2":
            assert X.min() >= -1 and X.max() <= 2
        else:
            assert X.min() >= 0 and (spec != "binary" or X.max() <= 1)


def test_sample_triples_distinct_seeded_and_uniform() -> None:
    dom = Domain("data", np.arange(12.0).reshape(4, 3), "rows")
    t = dom.sample_triples(6000, np.random.default_rng(7))
    assert t.shape == (6000, 3) and t.min() >= 0 and t.max() <= 3
    assert np.all((t[:, 0] != t[:, 1]) & (t[:, 0] != t[:, 2]) & (t[:, 1] != t[:, 2]))
    assert np.array_equal(t, dom.sample_triples(6000, np.random.default_rng(7)))
    counts = np.bincount(t.ravel(), minlength=4) / t.size
    assert np.allclose(counts, 0.25, atol=0.02)
    ordered = {tuple(r) for r in t.tolist()}
    assert len(ordered) == 24  # every ordered triple of distinct rows appears
    with pytest.raises(InvalidArgument):
        Domain("data", np.zeros((2, 3)), "two").sample_triples(1, np.random.default_rng(0))


def test_falsify_on_a_box_keeps_witnesses_inside() -> None:
    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems import Encoder

    enc = Encoder.random([8, 3], "relu", seed=0)
    res = falsify(enc, "p3", domain="box:-1,1", budget=5, seed=0)
    assert res.status in ("counterexample", "none-found")
    for cx in res.counterexamples:
        assert all(F(-1) <= v <= 1 for v in cx.vector("x")) and any(cx.vector("x"))
