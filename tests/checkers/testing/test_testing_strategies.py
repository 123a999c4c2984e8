"""latentcheck.checkers.testing strategies: values have the promised shape, rank and domain; bad arguments say how to fix them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import latentcheck.checkers.testing as lt
from latentcheck.checkers.testing import activations, binary, encoders, nonneg, reals, rows_of, sphere
from latentcheck.checkers.testing.strategies import exact_rank
from latentcheck.theorems import Encoder, InvalidArgument, T, catalog_names, get_activation


def test_public_api_is_listed_documented_and_importable() -> None:
    for name in lt.__all__:
        obj = getattr(lt, name)
        assert obj.__doc__, f"{name} has no docstring"
    assert sorted(lt.__all__) == sorted(set(lt.__all__))
    with pytest.raises(AttributeError, match="public names"):
        lt.no_such_name  # noqa: B018


@settings(max_examples=15)
@given(encoders())
def test_default_encoders_are_full_rank_bottlenecks(enc: Encoder) -> None:
    assert 2 <= enc.n <= 6 and 1 <= enc.m < enc.n
    W = enc.layers[0].W
    assert exact_rank(W) == min(W.shape)
    assert enc.activation.name in catalog_names()
    assert np.all(np.abs(W) <= 3)
    assert np.all(W * 4 == np.round(W * 4)), "weights are integers or quarters"


@settings(max_examples=15)
@given(encoders(n=5, m=3, weights="degenerate"))
def test_degenerate_encoders_lose_rank(enc: Encoder) -> None:
    assert (enc.n, enc.m) == (5, 3)
    assert exact_rank(enc.layers[-1].W) < 3


@settings(max_examples=10)
@given(encoders(n=st.integers(3, 4), m=2, depth=st.integers(2, 3), activation="sigmoid", hidden_activation="relu", bias=False))
def test_deep_encoders_follow_the_request(enc: Encoder) -> None:
    assert len(enc.layers) in (2, 3) and enc.m == 2
    assert [layer.activation.name for layer in enc.layers] == ["relu"] * (len(enc.layers) - 1) + ["sigmoid"]
    assert all(not layer.b.any() for layer in enc.layers)
    for layer in enc.layers:
        assert exact_rank(layer.W) == min(layer.W.shape)


@settings(max_examples=20)
@given(activations())
def test_activations_are_valid_formulas_in_t(spec: str) -> None:
    assert get_activation(spec).expr.has(T)


@settings(max_examples=10)
@given(activations(names=["sigmoid", "softplus"], expressions=False))
def test_activations_can_be_restricted_to_names(spec: str) -> None:
    assert spec in ("sigmoid", "softplus")


@settings(max_examples=10)
@given(st.data())
def test_domains_draw_points_of_the_domain(data: st.DataObject) -> None:
    x = data.draw(reals(4, nonzero=True))
    assert x.shape == (4,) and x.dtype == np.float64 and x.any() and np.all(np.abs(x) <= 8)
    assert np.all(data.draw(nonneg(3)) >= 0)
    assert set(np.unique(data.draw(binary(5)))) <= {0.0, 1.0}
    assert abs(np.linalg.norm(data.draw(sphere(3))) - 1.0) < 1e-12
    M = np.arange(6.0).reshape(3, 2)
    row = data.draw(rows_of(M))
    assert any(np.array_equal(row, r) for r in M)


def test_a_failing_example_prints_as_a_call_that_pastes_back() -> None:
    @settings(max_examples=50, database=None, derandomize=True)
    @given(encoders(n=2, m=1, activation="relu"))
    def never_a_nonzero_bias(enc: Encoder) -> None:
        assert not enc.layers[0].b.any()

    with pytest.raises(AssertionError) as info:
        never_a_nonzero_bias()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "Encoder.from_arrays(" in notes and "weights=[[[1.0, 0.0]]]" in notes and "biases=[[1.0]]" in notes
    assert "activations=['relu']" in notes


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: encoders(weights="low-rank"), r"weights='low-rank' must be one of 'full-rank', 'degenerate', 'any'"),
        (lambda: encoders(n=0), r"n=0 must be between 1 and"),
        (lambda: encoders(m=2.5), r"m=2.5 must be an int"),
        (lambda: encoders(activation="swish"), r"activation='swish' is not an activation"),
        (lambda: encoders(activation=3), r"activation=3 must be a catalog name"),
        (lambda: encoders(depth=0), r"depth=0 must be between 1 and 16"),
        (lambda: activations(names="relu"), r"names='relu' must be a list of catalog names, e.g. names=\['relu'\]"),
        (lambda: activations(names=["swish"]), r"\['swish'\], which are not catalog names"),
        (lambda: activations(names=[], expressions=False), r"leaves nothing to draw"),
        (lambda: reals(3, max_value=-1), r"max_value=-1 must be a positive finite number"),
        (lambda: binary(-2), r"n=-2 must be between 1"),
        (lambda: rows_of([1.0, 2.0]), r"matrix has shape \(2,\) but must be 2-D"),
        (lambda: rows_of([[1.0, float("nan")]]), r"NaN or infinite"),
    ],
)
def test_bad_arguments_name_the_value_and_the_fix(call, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        call()
