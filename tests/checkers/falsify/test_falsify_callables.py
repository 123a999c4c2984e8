"""The falsifier accepts plain NumPy callables (PyTorch exports, legacy code): float search only."""

from __future__ import annotations

import numpy as np

from latentcheck.checkers.falsify import falsify


def test_numpy_callable_gives_float_only_findings() -> None:
    W = np.random.default_rng(0).normal(size=(3, 10))

    def encode(x):
        return np.maximum(0.0, W @ np.asarray(x))  # not traceable by JAX

    result = falsify(encode, "p3", n=10, budget=1.0, seed=0)
    assert result.counterexamples == [] or all(c.certified != "exact" for c in result.counterexamples)
    assert result.float_only, result.status
    for hazard in result.float_only:
        assert hazard.certified == "float-only" and hazard.dtype == "float32"
        x = np.array([float(v) for v in hazard.vector("x")], dtype=np.float32)
        assert np.any(x != 0) and np.all(encode(x).astype(np.float32) == 0)
