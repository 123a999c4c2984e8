"""The fuzzer can fail: plant a bug in the engine and the re-checker must report an unsound certificate.

Each planted bug (in :mod:`_adapter`) is one of issue 8's classes brought back on
purpose: literals read through a Python float, weights rounded through float16.
The cases use inputs where the correct engine gives true results, so these
tests keep their meaning after the fixes: the re-checker, not the engine's
current state, is what they test. A control run without the plant shows the
same case is judged sound where the engine is sound (checked only for inputs the
unfixed engine already handles).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import _adapter
import _fuzz
from _strategies import Case


def _case(act: str, W: np.ndarray, b: np.ndarray, prop: str = "p3", dtype: str = "float32") -> Case:
    return Case(prop, ((W, b),), (act,), "reals", None, dtype)


def _weights(seed: int, shape: tuple[int, int] = (2, 5)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape[0]) * 0.1


def test_planted_float_literals_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Max(0, t) + 1e-400`` never vanishes; read through a float the literal is 0 and every 'zero' is false."""
    _adapter.plant_float_literals(monkeypatch)
    with pytest.raises(AssertionError, match=r"p3-false"):
        _fuzz.assert_sound(_case("Max(0, t) + 1e-400", *_weights(1)), budget=0.5)


def test_planted_float_literals_caught_by_a_short_fuzz(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short Hypothesis run over tiny literals finds the planted bug by itself."""
    _adapter.plant_float_literals(monkeypatch)

    @settings(max_examples=12, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(st.integers(330, 420), st.sampled_from(["Max(0, t) + 1e-{k}", "Max(0, t) + 3e-{k}*(1 + Abs(t))"]))
    def prop(k: int, template: str) -> None:
        _fuzz.assert_sound(_case(template.format(k=k), *_weights(k)), budget=0.3)

    with pytest.raises(AssertionError, match=r"p3-false|none-exists|unsound"):
        prop()


def test_planted_float16_weights_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """tanh's isolated zero solved on float16-rounded weights is not a zero of the stored float64 weights."""
    _adapter.plant_float16_weights(monkeypatch)
    with pytest.raises(AssertionError, match=r"p3-false"):
        _fuzz.assert_sound(_case("tanh", *_weights(2)), budget=0.5)


def test_planted_float16_weights_p2(monkeypatch: pytest.MonkeyPatch) -> None:
    """A P2 flip certified exactly on rounded weights: the exact margin no longer matches (or the flip is gone)."""
    _adapter.plant_float16_weights(monkeypatch)
    with pytest.raises(AssertionError, match=r"p2-false|p2-margin|p2-unconfirmed"):
        _fuzz.assert_sound(_case("relu", *_weights(3), prop="p2"), budget=0.5)


@pytest.mark.parametrize("act, prop", [("tanh", "p3"), ("relu", "p2"), ("Max(0, t) + 1e-300", "p3")])
def test_controls_without_a_plant_are_sound(act: str, prop: str) -> None:
    """The same inputs without the plant: the re-checker confirms the engine (it does not cry wolf)."""
    seed = {"tanh": 2, "relu": 3}.get(act, 1)
    _fuzz.assert_sound(_case(act, *_weights(seed), prop=prop), budget=0.5, ignore=("p2-margin",))
