"""What the search aims at: the zero set of the latent activation, and the JAX model.

:func:`zero_target` turns the activation's :class:`latentcheck.theorems.Classification`
into a :class:`ZeroTarget`:

* ``left`` / ``right``: ``s = 0`` on ``(-inf, a]`` / ``[a, inf)`` (relu-like).
  The search aims at ``a - delta`` (``a + delta``) so that every latent
  pre-activation sits strictly inside the half-line and rational rounding
  keeps the certificate.
* ``point``: an isolated zero ``z`` (tanh-like); the search gets close in
  float, the exact repair lands on ``z`` in rationals when ``z`` is rational.
* ``all``: ``s`` is identically 0; every nonzero ``x`` is a counterexample.
* ``float-left`` / ``float-right``: ``s`` never vanishes over the reals (T2) but
  rounds to exactly 0 in ``dtype`` beyond a threshold: float-only hazards.
* ``none``: no zero to aim at (non-vanishing and never 0 in ``dtype``, or unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from ...theorems.activations import Activation
from ...theorems.classify import NON_VANISHING, RELU_LIKE, Classification
from ...theorems.encoder import Encoder
from ...theorems.float_forward import apply_layers, float_params
from ...theorems.inputs import divide_factor, normalise_float
from ...theorems.symbols import sp
from ..float_vanishing import float_vanishing_threshold, zero_set_phrase

__all__ = ["ZeroTarget", "zero_target", "jax_pre_activations", "float_threshold_right"]


@dataclass(frozen=True)
class ZeroTarget:
    """Where the latent pre-activations must go for ``enc(x) = 0``.

    Attributes:
        kind: ``left``, ``right``, ``point``, ``all``, ``float-left``, ``float-right`` or ``none``.
        boundary: the half-line's end ``a``, the zero ``z`` or the float threshold (float).
        aim: the value the search drives pre-activations to (float).
        exact: the rational zero / boundary when known (used by the exact repair), else ``None``.
        reason: one sentence for the report.
    """

    kind: str
    boundary: float
    aim: float
    exact: Fraction | None
    reason: str

    @property
    def real(self) -> bool:
        """True when a real (certifiable) counterexample may exist."""
        return self.kind in ("left", "right", "point", "all")

    def satisfied(self, pre: np.ndarray, slack: float = 0.0) -> np.ndarray:
        """Rows of float pre-activations ``(N, m)`` that lie in the (float) zero set."""
        if self.kind in ("left", "float-left"):
            return np.all(pre <= self.boundary - slack, axis=-1)
        if self.kind in ("right", "float-right"):
            return np.all(pre >= self.boundary + slack, axis=-1)
        if self.kind == "point":
            return np.all(np.abs(pre - self.boundary) <= max(slack, 1e-3), axis=-1)
        if self.kind == "all":
            return np.ones(pre.shape[:-1], dtype=bool)
        return np.zeros(pre.shape[:-1], dtype=bool)


def _as_fraction(value: Any) -> Fraction | None:
    """The exact rational ``value`` (a sympy Rational, an int or a Fraction), else ``None``.

    Never ``nsimplify`` (it snaps ``13421773/134217728`` to ``1/10``) and never a float guessed as a rational:
    an irrational or float boundary has no exact value here, and the exact repair is not attempted.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    return None


def float_threshold_right(act: Activation, dtype: str) -> float | None:
    """The smallest input at which the activation's JAX function is 0 for all larger inputs on a grid (or ``None``)."""
    import jax
    import jax.numpy as jnp

    grid = np.concatenate([np.linspace(0.0, 120.0, 4801), np.logspace(2.1, 4.5, 200)])
    with jax.enable_x64(dtype == "float64"):
        vals = np.asarray(jax.jit(act.jax_fn())(jnp.asarray(grid, dtype=dtype))).astype(np.float64)
    zero = vals == 0
    if not zero[-1]:
        return None
    k = len(zero) - int(np.argmin(zero[::-1])) if not zero.all() else 0
    return float(grid[k])


def zero_target(cls: Classification, act: Activation, dtype: str) -> ZeroTarget:
    """The :class:`ZeroTarget` for a latent activation in a dtype."""

    if cls.cls == RELU_LIKE and cls.half_line is not None:
        side, a = cls.half_line
        if a in (sp.oo, -sp.oo):
            return ZeroTarget("all", 0.0, 0.0, Fraction(0), "s is identically 0: every nonzero x is a zero counterexample")
        af = float(a)
        delta = max(1.0, abs(af) / 2)
        aim = af - delta if side == "left" else af + delta
        exact = _as_fraction(a)
        where = f"(-inf, {a}]" if side == "left" else f"[{a}, inf)"
        return ZeroTarget(side, af, aim, exact, f"s = 0 on {where} ({cls.certificate}); the search drives every latent pre-activation to {aim:g}")
    if cls.zero is not None and cls.cls != NON_VANISHING:
        exact = _as_fraction(cls.zero)
        z = float(sp.N(cls.zero, 30))
        why = f"s({cls.zero}) = 0" + ("" if exact is not None else " at an irrational point: rational inputs cannot land on it exactly, so only float hits are possible")
        return ZeroTarget("point", z, z, exact, why)
    if cls.zero_bracket is not None:
        lo, hi = cls.zero_bracket
        z = float(lo + hi) / 2
        return ZeroTarget("point", z, z, None, f"s has a zero in [{lo}, {hi}] (certified sign change) but no exact zero is known")
    if cls.cls == NON_VANISHING:
        thr = float_vanishing_threshold(act, dtype)
        if thr is not None:
            aim = thr - max(0.5, 0.02 * abs(thr))
            return ZeroTarget("float-left", thr, aim, None,
                              f"s never vanishes over the reals (T2: {cls.certificate}), but {zero_set_phrase(act, dtype)}")
        thr_r = float_threshold_right(act, dtype)
        if thr_r is not None:
            aim = thr_r + max(0.5, 0.02 * abs(thr_r))
            return ZeroTarget("float-right", thr_r, aim, None,
                              f"s never vanishes over the reals (T2), but {zero_set_phrase(act, dtype)}")
        return ZeroTarget("none", 0.0, 0.0, None, f"s never vanishes over the reals (T2: {cls.certificate}) and {zero_set_phrase(act, dtype)}")
    return ZeroTarget("none", 0.0, 0.0, None, f"no zero of s is known ({cls.cls}: {cls.certificate})")


def jax_pre_activations(encoder: Encoder, dtype: str = "float32") -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Batched JAX functions ``pre(X[B, n]) -> [B, m]`` and the latent activation ``s``; ``pre`` applies the
    encoder's input normalisation first (``encoder.inputs.normalise``: the function checked is ``enc(N(x))``),
    then the one float forward pass (:func:`latentcheck.theorems.float_forward.apply_layers`, which
    certification's float re-evaluation runs too)."""
    params = float_params(encoder, dtype)
    fns = [layer.activation.jax_fn() for layer in encoder.layers]
    normalise = _jax_normaliser(encoder.inputs.normalise)

    def pre(X: Any) -> Any:
        return apply_layers(params, fns, normalise(X), dtype, latent=False)

    return pre, encoder.activation.jax_fn()


def _jax_normaliser(normalise: str) -> Callable[[Any], Any]:
    """``N`` in JAX: identity, ``x / K`` or ``x / |x|_2`` over the last axis (``N(0) = 0``, as ``F.normalize``)."""
    import jax.numpy as jnp


    if normalise == "none":
        return lambda X: X
    k = divide_factor(normalise)
    if k is not None:
        inv = float(1 / k)
        return lambda X: X * jnp.asarray(inv, dtype=X.dtype)

    def l2(X: Any) -> Any:
        sq = jnp.sum(X * X, axis=-1, keepdims=True)
        safe = jnp.where(sq > 0, sq, 1.0)
        return jnp.where(sq > 0, X / jnp.sqrt(safe), 0.0)

    return l2


def float_pre_activations(encoder: Encoder, X: np.ndarray) -> np.ndarray:
    """Float64 latent pre-activations of ``enc(N(x))`` for rows ``X`` (the encoder's input normalisation applied)."""

    X = np.asarray(X, dtype=np.float64)
    if encoder.inputs.normalise != "none":
        X = normalise_float(X, encoder.inputs.normalise)
    return encoder.pre_activations(X)
