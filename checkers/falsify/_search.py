"""The JAX search: pure ``init`` / ``step`` functions over a batch of restarts.

Like an optax ``GradientTransformation``, a :class:`Search` is a NamedTuple
of two pure functions, ``init(key, seeds=None) -> SearchState`` and
``step(state) -> SearchState``; all state is an explicit pytree, so a round
of ``k`` steps is ``jax.lax.fori_loop(0, k, lambda _, s: step(s), state)``
under one ``jax.jit``. Restarts are the leading batch axis (every function
is written batched, which is what ``vmap`` would produce). Everything is
deterministic for a given key.

* :func:`p3_search`: drive every latent pre-activation into the activation's
  zero set (margin objective for a half-line, squared distance for an
  isolated zero, the dtype's vanishing threshold for float-only hazards),
  by projected Adam from random starts and construction seeds.
* :func:`p2_search`: ordering flips. ``init`` runs a *pool inversion*: for
  each ``x``, every pair ``(u, v)`` of a random pool (plus 0 and the signed
  unit vectors) with ``<x,u> <= <x,v> - slack`` is scored at once by sorting
  the pool on ``<x,.>`` and taking prefix maxima of ``<enc x, enc .>``; the
  best pair per ``x`` seeds a restart. ``step`` then maximises the flip
  margin under the premise by projected Adam with a penalty.

The search runs in float32 whatever the requested dtype; candidates are
re-evaluated in the requested dtype and certified outside floating point.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from ...theorems.domains import Domain
from ._model import ZeroTarget
from ._model import jax_pre_activations

__all__ = ["SearchState", "Search", "p3_search", "p2_search", "objective_search", "run_round", "HIST_EDGES_P3", "HIST_EDGES_P2"]

#: Histogram bins: log10 of latent norms (P3) and signed log10(1 + |margin|) of flip margins (P2).
HIST_EDGES_P3 = np.linspace(-45.0, 5.0, 51)
HIST_EDGES_P2 = np.linspace(-6.0, 6.0, 49)


class SearchState(NamedTuple):
    """All state of a search, an explicit pytree.

    Attributes:
        params: current points, ``(B, n)`` for P3 or ``(B, 3, n)`` for P2 (``x, u, v``).
        opt_state: the optax Adam state.
        key: PRNG key.
        step: steps taken.
        loss: loss of each restart at ``params`` (lower is better).
        best_loss: best loss seen by each restart.
        best_params: the points that achieved ``best_loss``.
        evaluations: encoder evaluations so far (one per point per forward pass).
        hist: histogram counts (latent norms for P3, flip margins for P2).
    """

    params: Any
    opt_state: Any
    key: Any
    step: Any
    loss: Any
    best_loss: Any
    best_params: Any
    evaluations: Any
    hist: Any


class Search(NamedTuple):
    """A search as two pure functions (optax style)."""

    init: Callable[..., SearchState]
    step: Callable[[SearchState], SearchState]


def _bincount(values: Any, edges: np.ndarray) -> Any:
    """Counts of ``values`` in the uniform bins ``edges`` (outliers go to the end bins)."""
    import jax.numpy as jnp

    width = float(edges[1] - edges[0])
    idx = jnp.floor((values - float(edges[0])) / width)
    idx = jnp.clip(jnp.nan_to_num(idx, nan=0.0), 0, len(edges) - 2).astype(jnp.int32)
    return jnp.bincount(idx.ravel(), length=len(edges) - 1).astype(jnp.int32)


def _learning_rate(encoder: Any, domain: Domain) -> float:
    W = encoder.layers[0].W
    if domain.search_lr is not None:
        return domain.search_lr
    spread = float(np.mean(np.sum(np.abs(W), axis=1)))
    return 0.25 / max(spread, 1e-12)


def _update_best(loss: Any, params: Any, best_loss: Any, best_params: Any) -> tuple[Any, Any]:
    import jax.numpy as jnp

    better = loss < best_loss
    shape = (-1,) + (1,) * (params.ndim - 1)
    return jnp.where(better, loss, best_loss), jnp.where(better.reshape(shape), params, best_params)


def p3_search(encoder: Any, target: ZeroTarget, domain: Domain, *, restarts: int = 64,
              learning_rate: float | None = None, pre_fn: Callable | None = None, act_fn: Callable | None = None) -> Search:
    """A P3 search: every latent pre-activation into the zero set of ``target``.

    Args:
        encoder: an :class:`latentcheck.theorems.Encoder` (its layers define the model), or
            ``None`` together with ``pre_fn``/``act_fn`` for a black box
            (``pre_fn`` is then the whole encoder and ``target`` should be ``point`` at 0).
        target: from :func:`zero_target`.
        domain: the input domain (projection and sampling).
        restarts: batch size ``B``.
        learning_rate: Adam step; default scales with the first layer's row norms.

    Returns:
        A :class:`Search`; ``init(key, seeds=None, seed_mask=None)`` takes optional seed points ``(B, n)`` used where ``seed_mask``.
    """
    import jax
    import jax.numpy as jnp
    import optax


    if pre_fn is None:
        pre_fn, act_fn = jax_pre_activations(encoder, "float32")
        n = encoder.n
        lr = learning_rate if learning_rate is not None else _learning_rate(encoder, domain)
    else:
        n = int(encoder)
        lr = learning_rate if learning_rate is not None else 0.01
    opt = optax.adam(lr)
    kind, aim = target.kind, float(target.aim)
    B = int(restarts)

    def losses(X: Any) -> tuple[Any, Any]:
        pre = pre_fn(X)
        if kind in ("left", "float-left"):
            viol = jax.nn.relu(pre - aim)
        elif kind in ("right", "float-right"):
            viol = jax.nn.relu(aim - pre)
        else:
            viol = pre - aim
        loss = jnp.mean(viol * viol, axis=-1)
        if domain.is_binary:
            loss = loss + jax.nn.relu(1.0 - jnp.sum(X, axis=-1)) ** 2
        z = act_fn(pre)
        return loss, jnp.sqrt(jnp.sum(z * z, axis=-1))

    def total(X: Any) -> tuple[Any, Any]:
        loss, norms = losses(X)
        return jnp.sum(loss), (loss, norms)

    scales = jnp.asarray(np.logspace(-1, 1, B), dtype=jnp.float32)[:, None]

    def init(key: Any, seeds: Any = None, seed_mask: Any = None) -> SearchState:
        k_sample, k_next = jax.random.split(key)
        X = domain.sample(k_sample, (B, n), scales).astype(jnp.float32)
        if seeds is not None:
            X = jnp.where(seed_mask[:, None], jnp.asarray(seeds, dtype=jnp.float32), X)
        loss, norms = losses(X)
        hist = _bincount(jnp.log10(norms + 1e-45), HIST_EDGES_P3)
        return SearchState(X, opt.init(X), k_next, jnp.int32(0), loss, loss, X, jnp.int32(B), hist)

    def step(state: SearchState) -> SearchState:
        (_, (loss, norms)), grads = jax.value_and_grad(total, has_aux=True)(state.params)
        grads = jnp.nan_to_num(grads)
        best_loss, best_params = _update_best(loss, state.params, state.best_loss, state.best_params)
        updates, opt_state = opt.update(grads, state.opt_state, state.params)
        params = domain.project(state.params + updates)
        hist = state.hist + _bincount(jnp.log10(norms + 1e-45), HIST_EDGES_P3)
        return SearchState(params, opt_state, state.key, state.step + 1, loss, best_loss, best_params,
                           state.evaluations + B, hist)

    return Search(init, step)


#: Largest pool latent matrix of the P2 search (bytes): with its pre-activations, within the 256 MB cap.
_POOL_BYTES = 128 * 2**20
#: Largest pool size times latent width: the scores <enc x, enc p> cost restarts x this many multiply-adds.
_POOL_ENTRIES = 2 * 10**7


def _pool(domain: Domain, key: Any, n: int, size: int, with_units: bool) -> Any:
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(key)
    scales = jnp.exp(jax.random.uniform(k1, (size, 1), minval=-3.0, maxval=3.0))
    P = domain.discretize(domain.sample(k2, (size, n), scales))
    parts = [P.astype(jnp.float32)]
    if with_units:
        eye = jnp.eye(n, dtype=jnp.float32)
        parts.append(eye)
        if domain.is_symmetric:
            parts.append(-eye)
    if domain.contains_zero:
        parts.append(jnp.zeros((1, n), dtype=jnp.float32))
    return jnp.concatenate(parts, axis=0)


def pool_inversion(enc_fn: Callable, X: Any, P: Any, slack_rel: float = 1e-5, delta: float = 0.0) -> tuple[Any, Any, Any]:
    """Best flip ``(u, v)`` from pool ``P`` for each row ``x`` of ``X``.

    For each ``x``: sort the pool by ``a = <x, p>``; for each candidate ``v`` the
    best ``u`` has the largest score ``<enc x, enc u>`` among pool points with
    ``a(u) <= a(v) - slack - delta |x|^2`` (a prefix maximum; ``delta`` is P2-delta's premise margin). Returns ``(u_idx, v_idx, margin)``
    per row, ``margin = score(u) - score(v)`` (``-inf`` when no valid pair).
    """
    import jax
    import jax.numpy as jnp

    ZX, ZP = enc_fn(X), enc_fn(P)
    A = X @ P.T
    Sc = ZX @ ZP.T
    slack = slack_rel * jnp.linalg.norm(X, axis=-1, keepdims=True) * jnp.max(jnp.linalg.norm(P, axis=-1)) + 1e-30
    if delta:
        slack = slack + delta * jnp.sum(X * X, axis=-1, keepdims=True)

    def one(a: Any, s: Any, sl: Any) -> tuple[Any, Any, Any]:
        order = jnp.argsort(a)
        a_s, s_s = a[order], s[order]
        idx = jnp.arange(a.shape[0])
        pm = jax.lax.cummax(s_s)
        lim = jnp.searchsorted(a_s, a_s - sl, side="right") - 1
        ok = lim >= 0
        limc = jnp.maximum(lim, 0)
        margin = jnp.where(ok, pm[limc] - s_s, -jnp.inf)
        j = jnp.argmax(margin)
        u = jnp.argmax(jnp.where(idx <= limc[j], s_s, -jnp.inf))
        return order[u], order[j], margin[j]

    return jax.vmap(one)(A, Sc, slack[:, 0])


def _pool_sizes(encoder: Any, domain: Domain, n: int, pool: int) -> tuple[int, int | None, bool]:
    """``(pool, data_pool, with_units)`` of the P2 search under the memory caps."""
    with_units = n <= 256 and not domain.is_finite
    # The pool's latent matrix is (pool, m) float32: keep it under the memory cap (a smaller pool, same search).
    width = n + (encoder.m if encoder is not None else n)
    pool = int(max(16, min(int(pool), _POOL_BYTES // (4 * width) - (2 * n + 1 if with_units else 1),
                           _POOL_ENTRIES // width)))  # and the pool scores (restarts x pool x m) stay cheap
    data_pool = None
    if domain.is_finite and domain.rows.shape[0] * width * 4 > _POOL_BYTES:
        data_pool = max(16, _POOL_BYTES // (4 * width))  # a random subset of the rows per round
    return pool, data_pool, with_units


def _flip_losses(enc_fn: Callable, delta: float) -> Callable[[Any], tuple[Any, Any, Any]]:
    """``losses(T) -> (loss, best, F)`` of triples ``T (B, 3, n)`` (see :func:`p2_search`)."""
    import jax
    import jax.numpy as jnp

    def parts(T: Any) -> tuple[Any, Any, Any]:
        x, u, v = T[:, 0], T[:, 1], T[:, 2]
        zx, zu, zv = enc_fn(x), enc_fn(u), enc_fn(v)
        F = jnp.sum(zx * zu, -1) - jnp.sum(zx * zv, -1)
        G = jnp.sum(x * u, -1) - jnp.sum(x * v, -1)
        if delta:
            G = G + delta * jnp.sum(x * x, -1)
        nx = jnp.linalg.norm(x, axis=-1)
        Gn = G / (nx * (jnp.linalg.norm(u, axis=-1) + jnp.linalg.norm(v, axis=-1)) + 1e-12)
        return F, G, Gn

    def losses(T: Any) -> tuple[Any, Any, Any]:
        F, G, Gn = parts(T)
        loss = -jnp.arcsinh(F) + 10.0 * jax.nn.relu(Gn + 1e-4)
        valid = (Gn <= -1e-5) | ((G <= 0) & (jnp.linalg.norm(T[:, 0], axis=-1) == 0))
        return loss, jnp.where(valid & (F > 0), -F, jnp.inf), F

    return losses


def _encoder_fn(encoder: Any) -> Callable:

    pre_fn, act_fn = jax_pre_activations(encoder, "float32")

    def enc_fn(X: Any) -> Any:
        return act_fn(pre_fn(X))

    return enc_fn


def _start_triples(domain: Domain, k_x: Any, k_pool: Any, B: int, n: int, pool: int, data_pool: int | None,
                   with_units: bool) -> tuple[Any, Any]:
    """``(X (B, n), pool P)``: random users and the pool of candidate items (rows of a finite domain)."""
    import jax
    import jax.numpy as jnp

    if domain.is_finite:
        rows = jnp.asarray(domain.rows, dtype=jnp.float32)
        X = rows[jax.random.choice(k_x, rows.shape[0], (B,), replace=rows.shape[0] < B)]
        P = rows if data_pool is None else rows[jax.random.choice(k_pool, rows.shape[0], (data_pool,), replace=False)]
        return X, P
    scales = jnp.asarray(np.logspace(-1, 1, B), dtype=jnp.float32)[:, None]
    X = domain.discretize(domain.sample(k_x, (B, n), scales).astype(jnp.float32))
    return X, _pool(domain, k_pool, n, pool, with_units)


def p2_search(encoder: Any, domain: Domain, *, restarts: int = 64, pool: int = 1024, learning_rate: float | None = None,
              enc_fn: Callable | None = None, n: int | None = None, delta: float = 0.0) -> Search:
    """A P2 search: ordering flips by pool inversion, then projected Adam on the flip margin.

    The loss of a triple is ``-asinh(F) + 10 relu(G / (|x| (|u| + |v|)) + 1e-4)`` with
    ``F = <enc x,enc u> - <enc x,enc v>`` and ``G = <x,u> - <x,v> + delta |x|^2`` (``delta``: P2-delta's
    premise margin, 0 for P2); ``best_loss`` only counts triples whose premise holds in float with slack.
    """
    import jax
    import jax.numpy as jnp
    import optax

    if enc_fn is None:
        enc_fn, n = _encoder_fn(encoder), encoder.n
        lr = learning_rate if learning_rate is not None else _learning_rate(encoder, domain)
    else:
        lr = learning_rate if learning_rate is not None else 0.01
    opt = optax.adam(lr)
    B = int(restarts)
    pool, data_pool, with_units = _pool_sizes(encoder, domain, n, pool)
    losses = _flip_losses(enc_fn, float(delta))

    def total(T: Any) -> tuple[Any, Any]:
        loss, best, F = losses(T)
        return jnp.sum(loss), (best, F)

    def hist_of(F: Any) -> Any:
        return _bincount(jnp.sign(F) * jnp.log10(1 + jnp.abs(F)), HIST_EDGES_P2)

    def init(key: Any, seeds: Any = None, seed_mask: Any = None) -> SearchState:
        k_x, k_pool, k_next = jax.random.split(key, 3)
        X, P = _start_triples(domain, k_x, k_pool, B, n, pool, data_pool, with_units)
        ui, vi, margin = pool_inversion(enc_fn, X, P, delta=float(delta))
        T = jnp.stack([X, P[ui], P[vi]], axis=1)
        if seeds is not None:
            T = jnp.where(seed_mask[:, None, None], jnp.asarray(seeds, dtype=jnp.float32), T)
        loss, best, F = losses(T)
        return SearchState(T, opt.init(T), k_next, jnp.int32(0), loss, best, T, jnp.int32(B + P.shape[0]), hist_of(F))

    def step(state: SearchState) -> SearchState:
        (_, (best, F)), grads = jax.value_and_grad(total, has_aux=True)(state.params)
        best_loss, best_params = _update_best(best, state.params, state.best_loss, state.best_params)
        updates, opt_state = opt.update(jnp.nan_to_num(grads), state.opt_state, state.params)
        params = domain.project(state.params + updates)
        return SearchState(params, opt_state, state.key, state.step + 1, best, best_loss, best_params,
                           state.evaluations + 3 * B, state.hist + hist_of(F))

    return Search(init, step)


def objective_search(objective: Callable, arity: int, encoder: Any, domain: Domain, *, restarts: int = 64,
                     enc_fn: Callable | None = None, n: int | None = None, hist_edges: np.ndarray | None = None,
                     learning_rate: float | None = None) -> Search:
    """A search for any property: projected Adam on ``objective(points, latents) -> (loss, best, hist_value)``.

    ``points`` are ``(B, n)`` for a one-point property, ``(B, arity, n)`` otherwise (latents alike);
    ``best`` is ``+inf`` where the float point does not violate the property.
    """
    import jax
    import jax.numpy as jnp
    import optax

    if enc_fn is None:
        enc_fn, n = _encoder_fn(encoder), encoder.n
        lr = learning_rate if learning_rate is not None else _learning_rate(encoder, domain)
    else:
        lr = learning_rate if learning_rate is not None else 0.01
    opt, B = optax.adam(lr), int(restarts)
    edges = HIST_EDGES_P3 if hist_edges is None else np.asarray(hist_edges)
    shape = (B, n) if arity == 1 else (B, arity, n)

    def losses(X: Any) -> tuple[Any, Any, Any]:
        Z = enc_fn(X.reshape(-1, n)).reshape(X.shape[:-1] + (-1,))
        return objective(X, Z)

    def total(X: Any) -> tuple[Any, Any]:
        loss, best, h = losses(X)
        return jnp.sum(loss), (best, h)

    def init(key: Any, seeds: Any = None, seed_mask: Any = None) -> SearchState:
        k_sample, k_next = jax.random.split(key)
        scales = jnp.asarray(np.logspace(-1, 1, B), dtype=jnp.float32).reshape((B,) + (1,) * (len(shape) - 1))
        X = domain.sample(k_sample, shape, scales).astype(jnp.float32)
        if seeds is not None:
            X = jnp.where(seed_mask.reshape((B,) + (1,) * (len(shape) - 1)), jnp.asarray(seeds, dtype=jnp.float32), X)
        _, best, h = losses(X)
        return SearchState(X, opt.init(X), k_next, jnp.int32(0), best, best, X, jnp.int32(B * arity), _bincount(h, edges))

    def step(state: SearchState) -> SearchState:
        (_, (best, h)), grads = jax.value_and_grad(total, has_aux=True)(state.params)
        best_loss, best_params = _update_best(best, state.params, state.best_loss, state.best_params)
        updates, opt_state = opt.update(jnp.nan_to_num(grads), state.opt_state, state.params)
        params = domain.project(state.params + updates)
        return SearchState(params, opt_state, state.key, state.step + 1, best, best_loss, best_params,
                           state.evaluations + arity * B, state.hist + _bincount(h, edges))

    return Search(init, step)


def run_round(search: Search, steps: int) -> Callable[[Any, Any, Any], SearchState]:
    """``jit``-compiled ``init`` then ``steps`` steps: ``round(key, seeds, seed_mask) -> SearchState``.

    ``seeds`` has the shape of ``params`` and ``seed_mask`` (``(B,)`` bool) says
    which restarts start from a seed, so every round reuses one compilation.
    """
    import jax

    def rnd(key: Any, seeds: Any, seed_mask: Any) -> SearchState:
        state = search.init(key, seeds, seed_mask)
        return jax.lax.fori_loop(0, steps, lambda _, s: search.step(s), state)

    return jax.jit(rnd)
