"""Autoencoder recommenders as pure JAX functions: Mult-DAE and I-AutoRec.

A model is a frozen, hashable spec (sizes and activations: static data) and
its parameters are a pytree (a tuple of ``(W, b)`` pairs with ``W`` shaped
``(in, out)`` so a batch is ``x @ W + b``). The spec's ``init(key)`` builds
the parameters and ``apply(params, x)`` runs one batch; nothing is stored
on the spec, so every function can be jitted with the spec static.

**Mult-DAE** (Liang et al. 2018): ``x -> l2-normalise -> dropout(0.5) ->
[tanh hidden layers] -> s(latent) -> [tanh hidden layers] -> logits``, loss
the multinomial log-likelihood ``-sum_i x_i log softmax(logits)_i`` averaged
over the batch, plus ``lam * sum ||W||^2`` (the reference code adds
``2 * l2_regularizer(lam)``, i.e. ``lam * sum W^2``; biases are not
penalised). The published model has one hidden layer of 200 units with
``s = tanh``; here ``s`` is any activation.

**I-AutoRec** (Sedhain et al. 2015): an item's vector of ratings ``r``
(one entry per user, 0 where unobserved) maps to ``f(W g(V r + mu) + b)``;
the loss is the squared error on observed entries plus
``lam/2 (||W||^2 + ||V||^2)``. ``g`` (latent) and ``f`` (output) are
parameters, as in the paper's Table 1.

References:
    D. Liang et al. Variational Autoencoders for Collaborative Filtering. WWW 2018.
    S. Sedhain et al. AutoRec: Autoencoders Meet Collaborative Filtering. WWW 2015.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ...theorems.activations import Activation, get_activation
from ...theorems.encoder import Encoder
from ...theorems.errors import InvalidArgument

__all__ = ["MultDAE", "MultVAE", "AutoRec", "Params", "glorot_uniform", "coo_input", "coo_entries", "coo_first_layer", "coo_multinomial_nll",
           "weight_decay"]

#: Parameters: a tuple of (W (in, out), b (out,)) pairs.
Params = tuple


def glorot_uniform(key: Any, n_in: int, n_out: int, dtype: Any = "float32") -> Any:
    """Xavier/Glorot uniform ``U(-a, a)``, ``a = sqrt(6 / (n_in + n_out))`` (the reference init)."""
    import jax

    lim = float(np.sqrt(6.0 / (n_in + n_out)))
    return jax.random.uniform(key, (n_in, n_out), dtype=dtype, minval=-lim, maxval=lim)


def affine(h: Any, W: Any, b: Any) -> Any:
    """``h[..., i] @ W[i, o] + b[o]`` with the bias broadcast explicitly (tests run with implicit rank promotion
    raising); the same additions as implicit broadcasting, so the same bits."""
    import jax.numpy as jnp

    z = h @ W
    return z + jnp.broadcast_to(b, z.shape)


def _init_layers(key: Any, dims: Sequence[int], bias_std: float, dtype: Any) -> Params:
    import jax

    params = []
    for a, b in zip(dims[:-1], dims[1:]):
        key, kw, kb = jax.random.split(key, 3)
        W = glorot_uniform(kw, a, b, dtype)
        bias = bias_std * jax.random.truncated_normal(kb, -2.0, 2.0, (b,), dtype=dtype)
        params.append((W, bias))
    return tuple(params)


def _check_sizes(name: str, sizes: Sequence[int]) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in sizes)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}={sizes!r} must be a list of positive layer sizes such as 600,200") from None
    if not out or any(s <= 0 for s in out):
        raise InvalidArgument(f"{name}={sizes!r} must be a list of positive layer sizes such as 600,200")
    return out


@dataclass(frozen=True)
class MultDAE:
    """Mult-DAE spec: ``n_items -> *hidden -> n_items`` mirrored.

    ``hidden=(200,)`` gives the published ``I -> 200 -> I``; ``hidden=(600, 200)``
    gives ``I -> 600 -> 200 -> 600 -> I``. The last entry is the latent
    (bottleneck) layer with activation ``latent``; the other hidden layers use
    ``hidden_activation`` (tanh in the paper); the output layer is linear
    (logits of the multinomial).

    Example:
        >>> import jax
        >>> m = MultDAE(n_items=50, hidden=(8,), latent="sigmoid")
        >>> params = m.init(jax.random.PRNGKey(0))
        >>> m.apply(params, jax.numpy.ones((2, 50))).shape
        (2, 50)
    """

    n_items: int
    hidden: tuple[int, ...] = (200,)
    latent: Any = "tanh"
    hidden_activation: Any = "tanh"
    dropout: float = 0.5
    lam: float = 0.01

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", _check_sizes("hidden", self.hidden))
        object.__setattr__(self, "latent", get_activation(self.latent))
        object.__setattr__(self, "hidden_activation", get_activation(self.hidden_activation))
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidArgument(f"dropout={self.dropout!r} must lie in [0, 1), e.g. 0.5")
        if self.lam < 0:
            raise InvalidArgument(f"lam={self.lam!r} (weight decay) must be >= 0, e.g. 0.01")
        if int(self.n_items) < 2:
            raise InvalidArgument(f"n_items={self.n_items!r} must be at least 2")

    @property
    def dims(self) -> tuple[int, ...]:
        return (int(self.n_items), *self.hidden, *reversed(self.hidden[:-1]), int(self.n_items))

    @property
    def n_encoder_layers(self) -> int:
        return len(self.hidden)

    def init(self, key: Any, dtype: Any = "float32") -> Params:
        """Glorot-uniform weights and N(0, 0.001^2) biases, as in the reference code."""
        return _init_layers(key, self.dims, 0.001, dtype)

    def _activations(self) -> list[Callable[[Any], Any]]:
        hidden = self.hidden_activation.jax_fn()
        acts = [hidden] * (len(self.dims) - 2)
        acts[self.n_encoder_layers - 1] = self.latent.jax_fn()
        return acts

    def encode(self, params: Params, x: Any) -> Any:
        """Latent codes of already-normalised inputs ``x`` (batch, n_items)."""
        acts = self._activations()
        h = x
        for i in range(self.n_encoder_layers):
            W, b = params[i]
            h = acts[i](affine(h, W, b))
        return h

    def apply(self, params: Params, x: Any, *, key: Any = None) -> Any:
        """Logits for a batch of raw rows ``x``; with ``key``, dropout is applied (training)."""
        import jax
        import jax.numpy as jnp

        h = normalise_l2(x)
        if key is not None and self.dropout > 0:
            keep = 1.0 - self.dropout
            mask = jax.random.bernoulli(key, keep, h.shape)
            h = jnp.where(mask, h / keep, jnp.zeros_like(h))
        acts = self._activations()
        for i, (W, b) in enumerate(params):
            h = affine(h, W, b)
            if i < len(params) - 1:
                h = acts[i](h)
        return h

    def loss(self, params: Params, x: Any, n_real: Any, key: Any) -> Any:
        """Multinomial negative log-likelihood averaged over the ``n_real`` real rows, plus weight decay."""
        import jax
        import jax.numpy as jnp

        logits = self.apply(params, x, key=key)
        nll = -jnp.sum(jax.nn.log_softmax(logits, axis=-1) * x) / n_real
        reg = sum(jnp.sum(W * W) for W, _ in params)
        return nll + self.lam * reg

    def loss_coo(self, params: Params, rows: Any, cols: Any, vals: Any, n_real: Any, key: Any, batch_size: int,
                 sparse: bool = False) -> Any:
        """:meth:`loss` for a batch given as padded COO (rows ``== batch_size`` are padding).

        The same quantity as ``loss(params, densify(rows, cols, vals), n_real, key)``
        computed the cheap way: the L2 normalisation and the dropout mask
        touch only the nonzero entries, and ``sum_i x_i log softmax_i`` is
        ``sum_nnz x log-softmax at (row, col)``. With ``sparse=False`` the
        (dropped-out) network input is densified and multiplied by the first
        weight matrix; with ``sparse=True`` the first layer is an
        embedding-bag sum over the entries (:func:`coo_first_layer`): the
        same value and the same dropout mask, other float rounding.
        """
        h, vals = coo_first_layer(params[0], rows, cols, vals, key, self.dropout, int(batch_size), int(self.n_items), sparse)
        acts = self._activations()
        for i, (W, b) in enumerate(params[1:], start=1):
            h = affine(acts[i - 1](h), W, b)
        nll = coo_multinomial_nll(h, rows, cols, vals, n_real, int(batch_size))
        return nll + weight_decay(params, self.lam)

    def train_loss(self, params: Params, rows: Any, cols: Any, vals: Any, n_real: Any, key: Any, batch_size: int, step: Any,
                   sparse: bool = False) -> Any:
        """The training objective of optimiser step ``step`` (for Mult-DAE: :meth:`loss_coo`; ``step`` is unused)."""
        return self.loss_coo(params, rows, cols, vals, n_real, key, batch_size, sparse)

    def apply_coo(self, params: Params, rows: Any, cols: Any, vals: Any, batch_size: int, sparse: bool = False) -> Any:
        """Evaluation logits ``(batch_size, n_items)`` of a padded COO batch (no dropout): :meth:`apply` of the densified rows."""
        h, _ = coo_first_layer(params[0], rows, cols, vals, None, 0.0, int(batch_size), int(self.n_items), sparse)
        acts = self._activations()
        for i, (W, b) in enumerate(params[1:], start=1):
            h = affine(acts[i - 1](h), W, b)
        return h

    def encoder(self, params: Params) -> Encoder:
        """The trained encoder (layers up to the bottleneck) as a :class:`latentcheck.theorems.Encoder`.

        The Encoder has no input normalisation: feed it L2-normalised rows,
        as the model does (:func:`normalise_l2`).
        """
        layers = [(np.asarray(W, dtype=np.float64).T, np.asarray(b, dtype=np.float64)) for W, b in params[: self.n_encoder_layers]]
        acts: list[Activation] = [self.hidden_activation] * (self.n_encoder_layers - 1) + [self.latent]
        return Encoder.from_arrays([w for w, _ in layers], [b for _, b in layers], acts)

    def describe(self) -> dict[str, Any]:
        return {
            "model": "multdae",
            "dims": list(self.dims),
            "latent_activation": self.latent.name,
            "hidden_activation": self.hidden_activation.name,
            "dropout": self.dropout,
            "weight_decay_lam": self.lam,
            "input": "L2-normalised binary rows",
            "loss": "multinomial log-likelihood",
        }



@dataclass(frozen=True)
class MultVAE:
    """Mult-VAE spec (Liang et al. 2018) with the latent activation as a parameter.

    ``hidden=(200,)`` gives ``I -> 2x200 -> (sample) 200 -> I``; ``hidden=(600, 200)``
    gives the published ``I -> 600 -> 2x200 -> 200 -> 600 -> I``. The input is
    L2-normalised and dropped out (``dropout``, 0.5) as in Mult-DAE; hidden
    layers use ``hidden_activation`` (tanh). The last encoder layer is linear
    with ``2 m`` outputs: the first ``m`` are the pre-activation of the mean and
    the other ``m`` the log-variance. **The latent activation ``s`` acts on the
    mean path before sampling**: ``mu = s(W_mu h + b_mu)``, ``logvar = W_v h + b_v``
    (linear, as published), ``z = mu + eps * exp(logvar / 2)`` in training and
    ``z = mu`` at evaluation. With ``latent="identity"`` this is the published
    model. The loss is the multinomial NLL plus ``beta * KL(q(z|x) || N(0, I))``
    (per user, averaged over the batch), ``beta = min(anneal_cap, step /
    total_anneal_steps)`` at optimiser step ``step`` (Liang et al.: cap 0.2,
    200,000 steps), plus ``lam * sum ||W||^2``. The exported encoder
    (:meth:`encoder`) is the mean path ``x -> mu``: what the model uses to rank.
    """

    n_items: int
    hidden: tuple[int, ...] = (200,)
    latent: Any = "identity"
    hidden_activation: Any = "tanh"
    dropout: float = 0.5
    lam: float = 0.0
    anneal_cap: float = 0.2
    total_anneal_steps: int = 200_000

    def __post_init__(self) -> None:
        MultDAE.__post_init__(self)  # type: ignore[arg-type]
        if not 0.0 <= self.anneal_cap:
            raise InvalidArgument(f"anneal_cap={self.anneal_cap!r} must be >= 0, e.g. 0.2")
        if int(self.total_anneal_steps) < 1:
            raise InvalidArgument(f"total_anneal_steps={self.total_anneal_steps!r} must be at least 1, e.g. 200000")

    @property
    def m(self) -> int:
        return int(self.hidden[-1])

    @property
    def n_encoder_layers(self) -> int:
        return len(self.hidden)

    @property
    def dims(self) -> tuple[int, ...]:
        """Encoder dims (last = ``2 m``) followed by the decoder dims from ``m``."""
        enc = (int(self.n_items), *self.hidden[:-1], 2 * self.m)
        dec = (self.m, *reversed(self.hidden[:-1]), int(self.n_items))
        return enc + dec

    def init(self, key: Any, dtype: Any = "float32") -> Params:
        import jax

        k1, k2 = jax.random.split(key)
        enc = (int(self.n_items), *self.hidden[:-1], 2 * self.m)
        dec = (self.m, *reversed(self.hidden[:-1]), int(self.n_items))
        return _init_layers(k1, enc, 0.001, dtype) + _init_layers(k2, dec, 0.001, dtype)

    def _mean_logvar(self, params: Params, h: Any) -> tuple[Any, Any]:
        W, b = params[0]
        return self._mean_logvar_after_first(params, affine(h, W, b))

    def _mean_logvar_after_first(self, params: Params, out: Any) -> tuple[Any, Any]:
        """Mean and log-variance from the first encoder layer's pre-activation ``out``."""
        hid = self.hidden_activation.jax_fn()
        for W, b in params[1 : self.n_encoder_layers]:
            out = affine(hid(out), W, b)
        return self.latent.jax_fn()(out[:, : self.m]), out[:, self.m :]

    def apply_coo(self, params: Params, rows: Any, cols: Any, vals: Any, batch_size: int, sparse: bool = False) -> Any:
        """Evaluation logits (``z = mu``, no dropout) of a padded COO batch: :meth:`apply` of the densified rows."""
        h, _ = coo_first_layer(params[0], rows, cols, vals, None, 0.0, int(batch_size), int(self.n_items), sparse)
        return self._decode(params, self._mean_logvar_after_first(params, h)[0])

    def _decode(self, params: Params, z: Any) -> Any:
        hid = self.hidden_activation.jax_fn()
        dec = params[self.n_encoder_layers :]
        for i, (W, b) in enumerate(dec):
            z = affine(z, W, b)
            if i < len(dec) - 1:
                z = hid(z)
        return z

    def encode(self, params: Params, x: Any) -> Any:
        """The mean ``mu`` of already-normalised inputs ``x``."""
        return self._mean_logvar(params, x)[0]

    def apply(self, params: Params, x: Any, *, key: Any = None) -> Any:
        """Logits for raw rows ``x`` at evaluation (``z = mu``, no dropout unless ``key``)."""
        import jax
        import jax.numpy as jnp

        h = normalise_l2(x)
        if key is not None and self.dropout > 0:
            keep = 1.0 - self.dropout
            h = jnp.where(jax.random.bernoulli(key, keep, h.shape), h / keep, 0.0)
        return self._decode(params, self._mean_logvar(params, h)[0])

    def beta(self, step: Any) -> Any:
        import jax.numpy as jnp

        return jnp.minimum(self.anneal_cap, jnp.asarray(step, dtype=jnp.float32) / float(self.total_anneal_steps))

    def train_loss(self, params: Params, rows: Any, cols: Any, vals: Any, n_real: Any, key: Any, batch_size: int, step: Any,
                   sparse: bool = False) -> Any:
        """NLL + ``beta(step)`` KL (real rows only) + weight decay, for a padded COO batch (``sparse``: as in :meth:`MultDAE.loss_coo`)."""
        import jax
        import jax.numpy as jnp

        B = int(batch_size)
        k_drop, k_eps = jax.random.split(key)
        h, vals = coo_first_layer(params[0], rows, cols, vals, k_drop, self.dropout, B, int(self.n_items), sparse)
        mu, logvar = self._mean_logvar_after_first(params, h)
        z = mu + jax.random.normal(k_eps, mu.shape, mu.dtype) * jnp.exp(0.5 * logvar)
        nll = coo_multinomial_nll(self._decode(params, z), rows, cols, vals, n_real, B)
        real = (jnp.arange(B) < n_real).astype(mu.dtype)
        kl = jnp.sum(real * jnp.sum(0.5 * (-logvar + jnp.exp(logvar) + mu * mu - 1.0), axis=-1)) / n_real
        return nll + self.beta(step) * kl + weight_decay(params, self.lam)

    def encoder(self, params: Params) -> Encoder:
        """The mean path ``x -> mu`` (layers up to the bottleneck, the mean half of the last) as a :class:`latentcheck.theorems.Encoder`.

        Like Mult-DAE's, it has no input normalisation: feed it L2-normalised rows.
        """
        k = self.n_encoder_layers
        Ws = [np.asarray(W, dtype=np.float64).T for W, _ in params[:k]]
        bs = [np.asarray(b, dtype=np.float64) for _, b in params[:k]]
        Ws[-1], bs[-1] = Ws[-1][: self.m], bs[-1][: self.m]
        acts: list[Activation] = [self.hidden_activation] * (k - 1) + [self.latent]
        return Encoder.from_arrays(Ws, bs, acts)

    def describe(self) -> dict[str, Any]:
        return {
            "model": "multvae",
            "dims": list(self.dims),
            "latent_activation": self.latent.name,
            "latent_activation_on": "the mean path before sampling: mu = s(W_mu h + b_mu); logvar linear",
            "hidden_activation": self.hidden_activation.name,
            "dropout": self.dropout,
            "weight_decay_lam": self.lam,
            "kl_anneal": {"cap": self.anneal_cap, "total_anneal_steps": int(self.total_anneal_steps)},
            "input": "L2-normalised binary rows",
            "loss": "multinomial log-likelihood + beta KL",
        }


def coo_input(rows: Any, cols: Any, vals: Any, key: Any, dropout: float, batch_size: int, n_items: int) -> tuple[Any, Any]:
    """The network input ``(batch_size, n_items)`` of a padded COO batch: L2-normalised rows, then inverted dropout.

    Only the nonzero entries are normalised and masked (the mask is drawn with
    ``key`` over the padded entries); returns ``(dense input, vals with padding zeroed)``.
    """
    import jax.numpy as jnp

    B = int(batch_size)
    v, vals = coo_entries(rows, vals, key, dropout, B)
    return jnp.zeros((B, int(n_items)), dtype=vals.dtype).at[rows, cols].add(v, mode="drop"), vals


def coo_entries(rows: Any, vals: Any, key: Any, dropout: float, batch_size: int) -> tuple[Any, Any]:
    """The network input's entries of a padded COO batch: ``(values L2-normalised per row then dropped out, vals with padding zeroed)``."""
    import jax
    import jax.numpy as jnp

    B = int(batch_size)
    vals = jnp.where(rows < B, vals, 0.0)
    sq = jax.ops.segment_sum(vals * vals, rows, num_segments=B + 1)
    inv = jnp.reciprocal(jnp.sqrt(jnp.maximum(sq, 1e-12)))
    v = vals * inv[rows]
    if key is not None and dropout > 0:
        keep = 1.0 - dropout
        v = jnp.where(jax.random.bernoulli(key, keep, v.shape), v / keep, 0.0)
    return v, vals


def coo_first_layer(layer: tuple, rows: Any, cols: Any, vals: Any, key: Any, dropout: float, batch_size: int, n_items: int,
                    sparse: bool) -> tuple[Any, Any]:
    """The first layer's pre-activation ``x @ W + b`` of a padded COO batch (L2-normalised rows, inverted dropout).

    ``sparse=False``: the input is densified (:func:`coo_input`) and multiplied
    by ``W``. ``sparse=True``: an embedding-bag sum, ``h[r] = sum over the
    entries (r, c, v) of v * W[c]`` (a gather of ``W``'s rows and a segment
    sum), so the cost follows the number of entries, not ``batch x n_items``;
    its gradient is a scatter-add into the touched rows of ``W``. Both use
    the same normalised and dropped-out entry values (the same mask); they
    differ only in the order of the float additions. Returns ``(h, vals with
    padding zeroed)``.
    """
    import jax
    import jax.numpy as jnp

    W, b = layer
    B = int(batch_size)
    if not sparse:
        x, vals = coo_input(rows, cols, vals, key, dropout, B, int(n_items))
        return affine(x, W, b), vals
    v, vals = coo_entries(rows, vals, key, dropout, B)
    z = jax.ops.segment_sum(v[:, None] * W[cols], rows, num_segments=B + 1)[:B]
    return z + jnp.broadcast_to(b, z.shape), vals


def coo_multinomial_nll(logits: Any, rows: Any, cols: Any, vals: Any, n_real: Any, batch_size: int) -> Any:
    """``-sum_u sum_i x_ui log softmax(logits_u)_i / n_real`` from the COO entries (padding has value 0)."""
    import jax
    import jax.numpy as jnp

    B = int(batch_size)
    lse = jax.nn.logsumexp(logits, axis=-1)
    safe = jnp.minimum(rows, B - 1)
    picked = jnp.sum(vals * logits[safe, cols])
    totals = jax.ops.segment_sum(vals, rows, num_segments=B + 1)[:B]
    return -(picked - jnp.sum(totals * lse)) / n_real


def weight_decay(params: Params, lam: float) -> Any:
    """``lam * sum ||W||^2`` over the weight matrices (biases are not penalised); 0 when ``lam == 0``."""
    import jax.numpy as jnp

    if lam == 0:
        return 0.0
    return lam * sum(jnp.sum(W * W) for W, _ in params)


def normalise_l2(x: Any) -> Any:
    """Rows divided by their Euclidean norm (zero rows stay zero), as tf.nn.l2_normalize."""
    import jax.numpy as jnp

    sq = jnp.sum(x * x, axis=-1, keepdims=True)
    return x * jnp.reciprocal(jnp.sqrt(jnp.maximum(sq, 1e-12)))


@dataclass(frozen=True)
class AutoRec:
    """I-AutoRec spec: an item's ratings over ``n_users`` -> ``hidden`` -> ``n_users``.

    ``latent`` is ``g`` (hidden layer) and ``output`` is ``f``. Ratings enter
    divided by ``scale`` (5 on a 5-star scale, so a sigmoid output can reach
    every rating) and predictions are multiplied back and clipped to
    ``[r_min, r_max]``.

    Example:
        >>> import jax
        >>> m = AutoRec(n_users=30, hidden=4, latent="sigmoid", output="identity")
        >>> p = m.init(jax.random.PRNGKey(0))
        >>> m.apply(p, jax.numpy.zeros((3, 30))).shape
        (3, 30)
    """

    n_users: int
    hidden: int = 500
    latent: Any = "sigmoid"
    output: Any = "identity"
    lam: float = 1.0
    scale: float = 5.0
    r_min: float = 1.0
    r_max: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "latent", get_activation(self.latent))
        object.__setattr__(self, "output", get_activation(self.output))
        if int(self.hidden) <= 0:
            raise InvalidArgument(f"hidden={self.hidden!r} must be a positive size, e.g. 500")
        if self.lam < 0:
            raise InvalidArgument(f"lam={self.lam!r} must be >= 0")

    @property
    def dims(self) -> tuple[int, int, int]:
        return (int(self.n_users), int(self.hidden), int(self.n_users))

    def init(self, key: Any, dtype: Any = "float32") -> Params:
        return _init_layers(key, self.dims, 0.0, dtype)

    def apply(self, params: Params, x: Any) -> Any:
        """Reconstruction (in scaled units) of a batch of scaled item vectors."""
        (V, mu), (W, b) = params
        g, f = self.latent.jax_fn(), self.output.jax_fn()
        return f(affine(g(affine(x, V, mu)), W, b))

    def loss(self, params: Params, x: Any, n_rows_total: Any, n_real: Any) -> Any:
        """Observed squared error (scaled units) per real row, plus ``lam/2 (|W|^2 + |V|^2) / n_rows_total``."""
        import jax.numpy as jnp

        pred = self.apply(params, x)
        observed = x != 0
        sse = jnp.sum(jnp.where(observed, (pred - x) ** 2, 0.0)) / n_real
        (V, _), (W, _) = params
        return sse + 0.5 * self.lam * (jnp.sum(V * V) + jnp.sum(W * W)) / n_rows_total

    def encoder(self, params: Params) -> Encoder:
        """The latent map ``r -> g(V r + mu)`` as a :class:`latentcheck.theorems.Encoder` (inputs divided by ``scale``)."""
        V, mu = params[0]
        return Encoder.from_arrays([np.asarray(V, dtype=np.float64).T], [np.asarray(mu, dtype=np.float64)], [self.latent])

    def describe(self) -> dict[str, Any]:
        return {
            "model": "autorec",
            "variant": "I-AutoRec",
            "dims": list(self.dims),
            "latent_activation_g": self.latent.name,
            "output_activation_f": self.output.name,
            "lam": self.lam,
            "input": f"item rating vectors divided by {self.scale}",
            "loss": "squared error on observed ratings",
        }
