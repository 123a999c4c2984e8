"""The falsifier's strategies for P3-eps (:class:`~latentcheck.theorems.properties.p3_eps.SmallLatent`).

The search is the generic projected Adam (``_strategy``'s default searcher) on
the objective below: the log of ``sum |z_i|`` with a penalty for ``|x| < r``.
A one-layer encoder on R^n also gets a construction: the pre-activations all at
a ``t`` with ``|s(t)| < eps / 2`` (least norm), lifted along a kernel direction
of ``W`` until ``|x| >= r``. Finite domains use the default row scan (the best
rows by this objective).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ._strategy import constructor, objective
from ...theorems.properties.p3_eps import SmallLatent
from ._constructions import Candidate

__all__ = ["small_latent_objective"]


@objective(SmallLatent)
def small_latent_objective(prop: SmallLatent) -> Callable[[Any, Any], tuple[Any, Any, Any]]:
    """The JAX objective ``f(points, latents) -> (loss, best, hist_value)`` per restart (lower is better;
    ``best`` is ``+inf`` where the float point is not a witness)."""
    import jax
    import jax.numpy as jnp

    eps, r = float(prop.eps), float(prop.r)

    def f(X: Any, Z: Any) -> tuple[Any, Any, Any]:
        nrm = jnp.linalg.norm(X, axis=-1)
        top = jnp.max(jnp.abs(Z), axis=-1)
        short = jax.nn.relu(1.01 * r - nrm) / max(r, 1e-6)
        loss = jnp.log(jnp.sum(jnp.abs(Z), axis=-1) + 1e-30) + 100.0 * short * short
        best = jnp.where((nrm >= 1.001 * r) & (top < eps), jnp.log(top + 1e-45), jnp.inf)
        return loss, best, jnp.log10(top + 1e-45)

    return f


@constructor(SmallLatent)
def _constructions(prop: SmallLatent, encoder: Any, domain: Any, *, target: Any = None, seed: int = 0,
                   time_limit: float = 0.5) -> Iterator[Any]:
    """One layer on a cone: pre-activations all at a ``t`` with ``|s(t)| < eps / 2`` (least norm), then a
    kernel direction of ``W`` added until ``|x| >= r``."""
    if len(encoder.layers) != 1 or not domain.is_whole:
        return iter(())
    t = _small_point(encoder.activation, float(prop.eps) / 2)
    if t is None:
        return iter(())

    W, b = encoder.layers[0].W, encoder.layers[0].b
    x = np.linalg.lstsq(W, np.full(W.shape[0], t) - b, rcond=None)[0]
    x = _reach_norm(W, x, 1.01 * float(prop.r), seed)
    return iter([Candidate([x], f"least-norm solution of W x + b = {t:g} (|s({t:g})| < eps/2), lifted to |x| >= r")])


def _small_point(act: Any, tol: float) -> float | None:
    """A ``t`` (``-1, -2, -4, ...`` or ``+1, +2, ...``) where the activation is below ``tol`` in float64 with room."""
    for k in range(12):
        for t in (-(2.0 ** k), 2.0 ** k):
            with np.errstate(all="ignore"):
                val = float(np.abs(act.numpy(np.array([t]))[0]))
            if np.isfinite(val) and val < tol:
                return t
    return None


def _reach_norm(W: np.ndarray, x: np.ndarray, r: float, seed: int) -> np.ndarray:
    """``x`` plus a kernel vector of ``W`` so that ``|x| >= r`` (``x`` unchanged when it is long enough or W has no kernel)."""
    if float(np.linalg.norm(x)) >= r or W.shape[0] >= W.shape[1]:
        return x
    g = np.random.default_rng([int(seed), 0x3E5]).normal(size=W.shape[1])
    k = g - np.linalg.lstsq(W, W @ g, rcond=None)[0]
    nk = float(np.linalg.norm(k))
    return x if nk == 0 else x + k * (2.0 * r / nk)
