"""The one float forward pass of an encoder in JAX: the falsifier's search, the certification's float
re-evaluation (``counterexamples.certify.float_encode``) and :meth:`latentcheck.theorems.Encoder.jax_fn` all
evaluate ``enc(x)`` through :func:`apply_layers`, so a float finding of the search is the float value that
certification re-computes.

Per layer ``h <- s(W @ h + b).astype(dtype)`` on one input vector, ``jax.vmap``-ed over any leading batch axes
(the form the independent re-checker's XLA evaluation uses, so a float-only finding reproduces there), the weights cast
to ``dtype`` once per encoder on the host (:func:`float_params`). JAX is imported inside the functions only:
``latentcheck.theorems`` loads no JAX at import time.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

__all__ = ["register_pytree", "float_params", "cached_params", "apply_layers", "jax_forward", "forward_fn"]

_PARAMS: "weakref.WeakKeyDictionary[Any, dict[str, list]]" = weakref.WeakKeyDictionary()
_COMPILED: dict[tuple, Callable] = {}


_REGISTERED: list[type] = []


def register_pytree(cls: type) -> None:
    """Register the encoder class as a JAX pytree (its ``tree_flatten`` / ``tree_unflatten``), once."""
    if cls in _REGISTERED:
        return
    import jax

    jax.tree_util.register_pytree_node(cls, lambda enc: enc.tree_flatten(), cls.tree_unflatten)
    _REGISTERED.append(cls)


def float_params(encoder: Any, dtype: str) -> list[tuple[Any, Any]]:
    """``[(W, b)]`` as JAX arrays in ``dtype``, cast once per encoder and dtype (from the float64 copies)."""
    import jax.numpy as jnp

    register_pytree(type(encoder))
    per = _PARAMS.setdefault(encoder, {})
    key = (dtype, jnp.zeros((), dtype=dtype).dtype.name)  # float64 is float32 unless x64 is on: cached apart
    if key not in per:
        per[key] = [(jnp.asarray(layer.W, dtype=dtype), jnp.asarray(layer.b, dtype=dtype)) for layer in encoder.layers]
    return per[key]


def cached_params(encoder: Any, dtype: str) -> "list[tuple[Any, Any]] | None":
    """The params :func:`float_params` cast in ``dtype`` itself (not float64 narrowed to float32), if already made."""
    return _PARAMS.get(encoder, {}).get((dtype, dtype))


def _vector_forward(params: Sequence[tuple[Any, Any]], fns: Sequence[Callable[[Any], Any]], x: Any, dtype: str,
                    latent: bool) -> Any:
    """One input ``x[n]``: ``s(W @ h + b).astype(dtype)`` per layer (``latent=False``: stop at ``W_L h + b_L``)."""
    h = x
    last = len(params) - 1
    for i, ((W, b), f) in enumerate(zip(params, fns)):
        z = W @ h + b
        if i == last and not latent:
            return z
        h = f(z).astype(dtype)
    return h


def apply_layers(params: Sequence[tuple[Any, Any]], fns: Sequence[Callable[[Any], Any]], X: Any, dtype: str,
                 latent: bool = True) -> Any:
    """The forward pass: ``X[..., n] -> z[..., m]`` (``latent=False``: the latent pre-activations ``W_L h + b_L``),
    one vector at a time under ``jax.vmap``."""
    import jax
    import jax.numpy as jnp

    X = jnp.asarray(X, dtype=dtype)
    if X.ndim == 1:
        return _vector_forward(params, fns, X, dtype, latent)
    flat = X.reshape((-1, X.shape[-1]))
    out = jax.vmap(lambda x: _vector_forward(params, fns, x, dtype, latent))(flat)
    return out.reshape(X.shape[:-1] + out.shape[-1:])


def _activation_fns(encoder: Any) -> list[Callable[[Any], Any]]:
    return [layer.activation.jax_fn() for layer in encoder.layers]


def jax_forward(encoder: Any, dtype: str = "float32", latent: bool = True) -> Callable[[Any], Any]:
    """A pure JAX function ``x[..., n] -> z[..., m]`` in ``dtype`` (jit/vmap it at the edge)."""
    params, fns = float_params(encoder, dtype), _activation_fns(encoder)
    return lambda X: apply_layers(params, fns, X, dtype, latent)


def forward_fn(encoder: Any, dtype: str, latent: bool = True) -> tuple[Callable[[Any, Any], Any], list]:
    """A jitted ``f(params, X)`` shared by every encoder of the same architecture and dtype, and this encoder's
    params: a new encoder of a known shape needs no new compilation."""
    import jax

    key = (dtype, latent) + tuple((layer.W.shape, layer.activation.name, layer.activation.expr, layer.activation.jax_name,
                                   layer.activation.jax_kwargs) for layer in encoder.layers)
    fn = _COMPILED.get(key)
    if fn is None:
        fns = _activation_fns(encoder)
        fn = _COMPILED[key] = jax.jit(lambda params, X: apply_layers(params, fns, X, dtype, latent))
    return fn, float_params(encoder, dtype)
