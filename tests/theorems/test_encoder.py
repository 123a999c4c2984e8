"""The encoder object: validation, .npz files, float / exact / interval agreement."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from latentcheck.theorems import Encoder, InvalidWeights, NonFiniteWeights, ShapeMismatch, UnknownActivation
from latentcheck import load_encoder, save_encoder


def test_roundtrip(tmp_path) -> None:
    enc = Encoder.random([7, 5, 3], "tanh", hidden_activation="relu", seed=1)
    path = tmp_path / "enc.npz"
    save_encoder(enc, path)
    back = load_encoder(path)
    assert back.sizes == [7, 5, 3]
    assert [l.activation.name for l in back.layers] == ["relu", "tanh"]
    x = np.linspace(-1, 1, 7)
    np.testing.assert_array_equal(back(x), enc(x))


def test_exact_matches_float_for_piecewise_linear() -> None:
    enc = Encoder.random([40, 12, 6], "relu", seed=3)
    x = np.random.default_rng(0).normal(size=40)
    exact = np.array([float(v) for v in enc.exact([Fraction(v) for v in x])])
    np.testing.assert_allclose(exact, enc(x), atol=1e-12)


def test_interval_encloses_float_for_deep_transcendental() -> None:
    enc = Encoder.random([10, 6, 4], "sigmoid", hidden_activation="tanh", seed=2)
    x = np.random.default_rng(1).normal(size=10)
    boxes = enc.interval([Fraction(v) for v in x])
    z = enc(x)
    for box, value in zip(boxes, z):
        assert float(box.a) - 1e-12 <= value <= float(box.b) + 1e-12
        assert float(box.b - box.a) < 1e-12


def test_jax_matches_numpy() -> None:
    enc = Encoder.random([9, 4], "gelu", seed=5)
    x = np.random.default_rng(2).normal(size=9)
    np.testing.assert_allclose(np.asarray(enc.jax_fn("float32")(x)), enc(x), rtol=1e-5, atol=1e-6)


def test_nan_weights_rejected() -> None:
    with pytest.raises(NonFiniteWeights, match="NaN"):
        Encoder.from_arrays([np.array([[np.nan, 1.0]])], [np.zeros(1)], ["relu"])


def test_shape_mismatch_rejected() -> None:
    with pytest.raises(ShapeMismatch, match="b0"):
        Encoder.from_arrays([np.ones((2, 3))], [np.zeros(3)], ["relu"])
    with pytest.raises(ShapeMismatch, match="W1"):
        Encoder.from_arrays([np.ones((2, 3)), np.ones((1, 4))], [np.zeros(2), np.zeros(1)], ["relu", "relu"])


def test_bad_files(tmp_path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(InvalidWeights, match="not a readable .npz"):
        load_encoder(junk, activation="relu")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, W0=np.array([object()], dtype=object), b0=np.zeros(1))
    with pytest.raises(InvalidWeights, match="pickle"):
        load_encoder(pickled, activation="relu")
    nob = tmp_path / "nob.npz"
    np.savez(nob, W0=np.ones((1, 2)))
    with pytest.raises(InvalidWeights, match="b0"):
        load_encoder(nob, activation="relu")
    with pytest.raises(InvalidWeights, match="does not exist"):
        load_encoder(tmp_path / "missing.npz", activation="relu")
    noact = tmp_path / "noact.npz"
    np.savez(noact, W0=np.ones((1, 2)), b0=np.zeros(1))
    with pytest.raises(InvalidWeights, match="activation"):
        load_encoder(noact)
    badact = tmp_path / "badact.npz"
    np.savez(badact, W0=np.ones((1, 2)), b0=np.zeros(1), activations=np.array(["nosuch"]))
    with pytest.raises(UnknownActivation):
        load_encoder(badact)
