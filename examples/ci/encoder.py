"""The encoder of a small autoencoder recommender: 12 items -> 3 latent factors.

In a real project the weights come from training (a Flax, Equinox or
PyTorch checkpoint); here they are drawn with a fixed seed so the example is
self-contained. ``encode`` is the production forward pass in JAX;
``encoder()`` hands the same weights to latentcheck as a ``latentcheck.theorems.Encoder``
so that counterexamples are certified outside floating point.

Switch the latent activation to ``relu`` (edit ``ACTIVATION`` or set
``LATENT_ACTIVATION=relu``) to watch the tests fail.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np

from latentcheck.theorems import Encoder

ACTIVATION = os.environ.get("LATENT_ACTIVATION", "sigmoid")
N_ITEMS, N_FACTORS = 12, 3

_rng = np.random.default_rng(7)
W = _rng.normal(0.0, 0.5, size=(N_FACTORS, N_ITEMS))  # (out, in)
b = _rng.normal(0.0, 0.1, size=N_FACTORS)


def encode(x):
    """Production forward pass: one user's implicit feedback x[12] -> code z[3]."""
    return getattr(jax.nn, ACTIVATION)(jnp.asarray(W, jnp.float32) @ x + jnp.asarray(b, jnp.float32))


def encoder() -> Encoder:
    """The same encoder for latentcheck (weights W_i shaped (out, in))."""
    return Encoder.from_arrays([W], [b], [ACTIVATION])
