"""Strategies and certifiers keyed by property class (issue 18): lookup along the MRO, refusals, and a new
property added in three parts (mathematics, search, certifier) without touching the engines.

The toy property's counterexample is re-checked here independently: exact rationals from the encoder's stored
float64 weights and the witness's strings, with no latentcheck code.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
import pytest

from latentcheck.checkers.falsify import _strategy
from latentcheck.checkers.falsify import search_p2, search_p3, search_p3_eps
from latentcheck.checkers.falsify._strategy import ByClass, objective, strategy
from latentcheck.counterexamples import certifier, certifier_for
from latentcheck.counterexamples.certifier_p2_delta import certify_ordering_margin
from latentcheck.counterexamples.certifier_p3_eps import certify_small_latent
from latentcheck.counterexamples.certify import certify_p2, certify_p3
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.properties import PointCheck, Property, get_property
from latentcheck.theorems.properties.p3 import NonZero


def test_builtin_properties_find_their_own_certifiers() -> None:
    assert certifier_for(get_property("p3")) is certify_p3
    assert certifier_for(get_property("p2")) is certify_p2
    assert certifier_for(get_property("p3-eps:1/100,1")) is certify_small_latent
    # P2-delta subclasses P2's class but must not inherit certify_flip (it checks P2's premise, delta = 0)
    assert certifier_for(get_property("p2-delta:1/10")) is certify_ordering_margin


def test_builtin_properties_find_their_own_strategies() -> None:
    p3, p2, eps, delta = (get_property(s) for s in ("p3", "p2", "p3-eps:1/100,1", "p2-delta:1/10"))
    assert strategy("searcher", p3) is search_p3._search
    assert strategy("none_decider", p3) is search_p3._none
    assert strategy("uses_zero_target", p3)(p3) is True and strategy("uses_zero_target", p2)(p2) is False
    assert strategy("searcher", p2) is search_p2.flip_search and strategy("searcher", delta) is search_p2.flip_search
    assert strategy("steps_cost", p2)(p2) == 3 and strategy("steps_cost", delta)(delta) == 3
    assert strategy("steps_cost", p3)(p3) == 1
    assert strategy("objective", eps) is search_p3_eps.small_latent_objective
    assert strategy("searcher", eps) is _strategy._objective_search  # the generic search is the default
    assert strategy("certify_options", p3)(p3, True) == {"move_to_dtype": True, "nonvanishing": True}
    assert strategy("certify_options", eps)(eps, True) == {}


def test_a_subclass_inherits_until_it_registers_its_own() -> None:
    @dataclass(frozen=True)
    class Sub(NonZero):
        pass

    prop = Sub("P3-sub", "a subclass", "as P3", arity=1, names=("x",))
    assert strategy("searcher", prop) is search_p3._search
    assert certifier_for(prop) is certify_p3
    table = ByClass("t", lambda: "default")
    table.register(NonZero)(lambda: "p3")
    assert table.lookup(prop)() == "p3"
    table.register(Sub)(lambda: "sub")
    assert table.lookup(prop)() == "sub"
    assert table.lookup(get_property("p2"))() == "default"


def test_a_second_registration_for_a_class_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        _strategy.searcher(NonZero)(lambda *a, **k: None)
    with pytest.raises(ValueError, match="already registered"):
        certifier(NonZero)(lambda *a, **k: None)


# --------------------------------------------------------------- a new property in three parts
@dataclass(frozen=True)
class FirstBelow(Property):
    """Toy property: ``enc_0(x) >= -1/2`` for every x (a witness: ``enc_0(x) < -1/2`` exactly)."""

    def check(self, encoder: Any, vectors: Sequence[Sequence[Fraction]]) -> PointCheck:
        z0 = encoder.exact([Fraction(v) for v in vectors[0]])[0]
        if z0 < Fraction(-1, 2):
            return PointCheck(True, "exact", f"enc_0(x) = {z0} < -1/2", str(Fraction(-1, 2) - z0))
        return PointCheck(False, "exact", f"enc_0(x) = {z0} >= -1/2")

    def float_violates(self, points: Sequence[np.ndarray], latents: Sequence[np.ndarray]) -> bool:
        return bool(latents[0][0] < -0.5)


@objective(FirstBelow)
def _first_below_objective(prop: FirstBelow) -> Any:
    import jax.numpy as jnp

    def f(X: Any, Z: Any) -> tuple[Any, Any, Any]:
        z0 = Z[..., 0]
        return z0 + 0.01 * jnp.sum(X * X, axis=-1), jnp.where(z0 < -0.5, z0, jnp.inf), z0

    return f


TOY = FirstBelow("toy-first-below", "first latent bounded below", "for all x: enc_0(x) >= -1/2", arity=1,
                 names=("x",), what="low first latent", hist_key="z0", hist_edges=tuple(np.linspace(-5, 5, 11)))


def _independent_first_latent(W: np.ndarray, b: np.ndarray, x: Sequence[str]) -> Fraction:
    """``W[0] . x + b[0]`` in exact rationals (identity activation), from the stored float64 values."""
    xs = [Fraction(s) for s in x]
    return sum((Fraction(float(w)) * v for w, v in zip(W[0], xs)), Fraction(0)) + Fraction(float(b[0]))


@pytest.fixture
def toy_registered() -> Any:
    """TOY in the property registry for one test (a Counterexample names a registered property), then removed."""
    from latentcheck.counterexamples import types
    from latentcheck.theorems.properties import REGISTRY, register

    register(TOY)
    types._names.cache_clear()
    try:
        yield TOY
    finally:
        del REGISTRY[TOY.id.lower()]
        types._names.cache_clear()


def test_a_new_property_is_falsified_by_the_generic_search_and_certifier(toy_registered: Any) -> None:
    from latentcheck.checkers.falsify import falsify

    W = np.array([[0.75, -1.25, 0.5], [0.25, 0.5, -1.0]])
    b = np.array([0.125, -0.375])
    enc = Encoder.from_arrays([W], [b], "identity")
    res = falsify(enc, TOY, budget=30, seed=0, max_rounds=3, steps=30, restarts=8, shrink=False)
    assert res.status == "counterexample", res.status
    for cx in res.counterexamples:
        assert cx.certified == "exact"
        assert _independent_first_latent(W, b, cx.witness[0]) < Fraction(-1, 2)


def test_the_generic_certifier_refuses_a_non_witness() -> None:
    """Planted bug guard: a point whose first latent is -1/2 exactly (not below) must not be certified."""
    from latentcheck.counterexamples.candidate import certify_candidate

    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    enc = Encoder.from_arrays([W], [np.zeros(2)], "identity")
    assert certify_candidate(TOY, enc, [[Fraction(-1, 2), 0]], dtype="float32").status == "refuted"
    cert = certify_candidate(TOY, enc, [[Fraction(-3, 4), 0]], dtype="float32")
    assert cert.status == "exact" and _independent_first_latent(W, np.zeros(2), ["-3/4", "0"]) < Fraction(-1, 2)


def test_the_decorators_shadow_no_engine_name() -> None:
    """The falsifier package exports the decorators beside its engine names; none may replace another."""
    from latentcheck.checkers import falsify as falsifier
    from latentcheck.checkers.falsify import _model

    assert len(falsifier.__all__) == len(set(falsifier.__all__))
    assert falsifier.zero_target is _model.zero_target
    for name in ("objective", "searcher", "constructor", "data_finder", "round_picker", "none_decider",
                 "uses_zero_target", "steps_cost", "certify_options"):
        assert getattr(falsifier, name) is getattr(_strategy, name)
