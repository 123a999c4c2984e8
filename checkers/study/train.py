"""Training loops: sparse rows on the host, dense batches on the device.

Each epoch the host shuffles the rows (numpy, seeded), cuts batches of
``batch_size`` rows and sends each batch as padded ``(row, column, value)``
index arrays; the jitted step scatters them into a dense ``(batch, n)``
matrix on the device, so the full dense matrix never exists. The last,
smaller batch is padded with empty rows that do not count in the loss
(the loss divides by the number of real rows), so one compiled step serves
the whole run; the padded index length is fixed per run so the step should
compile once (:class:`BatchFeeder`). The step is one jitted function
(forward, backward, Adam) with its parameter and optimiser buffers donated,
and the epochs up to the next validation run as one jitted ``lax.scan`` over
their stacked batches (:func:`run_epochs`: each epoch cut and padded as if
alone, so the same numbers as one call per epoch); for Mult-DAE the loss is
computed from the COO entries (:meth:`MultDAE.loss_coo`), so only the network
input is densified, or not even that with ``TrainConfig(input_layer="sparse")``
(the first layer as an embedding-bag sum over each user's items).

Model selection follows Liang et al.: evaluate on the validation users after
every ``eval_every`` epochs and keep the parameters with the best
validation NDCG@100 (for I-AutoRec: the lowest validation RMSE).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .data import CSR, ImplicitSplit, RatingSplit
from .metrics import DEFAULT_METRICS, metric_name, ranking_metrics
from .models import AutoRec, MultDAE
from ...theorems.errors import InvalidArgument

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train_multdae",
    "train_multdae_seeds",
    "make_seeds_epoch",
    "train_autorec",
    "evaluate_multdae",
    "make_multdae_step",
    "make_multdae_epoch",
    "run_epoch",
    "densify",
    "BatchFeeder",
    "INPUT_LAYERS",
    "sparse_input_wins",
    "resolve_input_layer",
    "run_epochs",
]

EpochCallback = Callable[[int, dict], None]

#: The first-layer forms of Mult-DAE/Mult-VAE training (:attr:`TrainConfig.input_layer`).
INPUT_LAYERS = ("dense", "sparse", "auto")

#: ``"auto"`` picks the sparse first layer from this many items on ...
SPARSE_MIN_ITEMS = 2048

#: ... and when at most this fraction of the (row, item) cells of the training rows are filled.
SPARSE_MAX_DENSITY = 0.01

#: The most host bytes of padded batches sent in one call (several epochs run as one call up to the next validation).
CHUNK_BYTES = 64 << 20


def sparse_input_wins(n_items: int, density: float) -> bool:
    """Whether ``input_layer="auto"`` takes the sparse first layer: many items and sparse rows.

    The dense product costs ``batch x n_items x hidden`` multiply-adds, the
    sparse form ``batch x (items per row) x hidden`` gathers and scatter-adds,
    each of which costs XLA's CPU backend about as much as 20-30 dense
    multiply-adds. So the sparse form wins when a row fills well under 1/30
    of the items. Measured (``benchmarks/train_speed.py --breakdown``, this
    2-core CPU): ML-100K (1,417 items, density 4.2%) trains no faster sparse;
    Last.fm (15,385 items, density 0.32%) trains faster sparse. The cut,
    :data:`SPARSE_MAX_DENSITY` (1%) and :data:`SPARSE_MIN_ITEMS`, lies between
    those two measured points; it was not tuned finer.
    """
    return int(n_items) >= SPARSE_MIN_ITEMS and float(density) <= SPARSE_MAX_DENSITY


def resolve_input_layer(config: "TrainConfig", train: CSR) -> bool:
    """True for the sparse first layer: ``config.input_layer``, with ``"auto"`` decided on the training rows."""
    if config.input_layer != "auto":
        return config.input_layer == "sparse"
    density = train.nnz / max(1, train.n_rows * train.n_cols)
    return sparse_input_wins(train.n_cols, density)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (Liang et al. defaults: Adam 1e-3, batch 500).

    Attributes:
        epochs: passes over the training rows.
        batch_size: rows per step.
        lr: Adam learning rate.
        seed: seeds the parameters, the shuffling and the dropout masks.
        eval_every: validate after every this many epochs (and after the last).
        select: the validation metric that picks the epoch kept (``"NDCG@100"``).
        patience: early stopping: stop once this many optimiser steps have
            passed since the best validation score (checked at each
            validation); ``epochs`` is then the cap. ``None``: train all
            ``epochs`` (no early stopping).
        input_layer: how Mult-DAE/Mult-VAE's first layer reads the sparse
            binary rows: ``"dense"`` (densify the batch, one matrix product:
            the default, bit-for-bit the numbers of earlier versions),
            ``"sparse"`` (an embedding-bag sum over each user's items: the
            same function and dropout mask, other float rounding) or
            ``"auto"`` (sparse where it measured faster: :func:`sparse_input_wins`).
    """

    epochs: int = 100
    batch_size: int = 500
    lr: float = 1e-3
    seed: int = 0
    eval_every: int = 1
    select: str = "NDCG@100"
    patience: Optional[int] = None
    input_layer: str = "dense"

    def __post_init__(self) -> None:
        if self.input_layer not in INPUT_LAYERS:
            raise InvalidArgument(f"input_layer={self.input_layer!r} must be one of {', '.join(INPUT_LAYERS)}")
        if self.patience is not None and self.patience < 1:
            raise InvalidArgument(f"patience={self.patience!r} must be a positive number of optimiser steps (or None for a fixed epoch count)")
        if self.epochs < 1:
            raise InvalidArgument(f"epochs={self.epochs!r} must be at least 1")
        if self.batch_size < 1:
            raise InvalidArgument(f"batch_size={self.batch_size!r} must be at least 1, e.g. 500")
        if not self.lr > 0:
            raise InvalidArgument(f"lr={self.lr!r} must be positive, e.g. 1e-3")
        if self.eval_every < 1:
            raise InvalidArgument(f"eval_every={self.eval_every!r} must be at least 1")


@dataclass
class TrainResult:
    """What a training run gives back.

    Attributes:
        params: the kept parameters (best validation epoch), on the device.
        best_epoch: 1-based epoch of the kept parameters.
        history: one dict per evaluated epoch (``epoch``, ``loss``, validation metrics).
        val, test: mean metrics of the kept parameters.
        test_per_user: per-user (or per-rating) test values, for paired tests.
        epoch_seconds: wall time of each training epoch (without validation); the
            epochs between two validations run as one call, so each gets that call's
            time divided by its epochs.
        epoch_cpu_seconds: the same in CPU seconds of this process (all threads).
        total_seconds: wall time of the whole run (training, validation, test).
        stop_reason: ``"patience"`` (early stopping), ``"cap"`` (the epoch cap
            was reached while still improving within the patience) or
            ``"epochs"`` (fixed epoch count, no early stopping).
        steps: optimiser steps taken until the stop; best_step: the step of the kept parameters.
    """

    params: Any
    best_epoch: int
    history: list[dict]
    val: dict[str, float]
    test: dict[str, float]
    test_per_user: dict[str, np.ndarray] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    total_seconds: float = 0.0
    epoch_cpu_seconds: list[float] = field(default_factory=list)
    stop_reason: str = "epochs"
    steps: int = 0
    best_step: int = 0


# --------------------------------------------------------------------------- batches


def _bucket(n: int) -> int:
    """Next power of two >= n (at least 256)."""
    return max(256, 1 << max(0, int(n - 1).bit_length()))


def _round_up(n: int, m: int = 1024) -> int:
    return max(m, -(-int(n) // m) * m)


class BatchFeeder:
    """Cuts a :class:`CSR` into fixed-shape padded COO batches for the device.

    ``batch(idx)`` returns ``(rows, cols, vals, n_real)`` with ``rows`` equal
    to ``batch_size`` (out of range, dropped by the scatter) in padded slots.
    Every batch is padded to one length, ``pad_to``: 5% above the largest of
    256 simulated random batches (seeded, so deterministic), rounded up to a
    multiple of 1024; a rare larger batch takes the next power of two. So a
    run compiles its step once (twice at worst), not once per new length.
    """

    def __init__(self, csr: CSR, batch_size: int, scale: float = 1.0) -> None:
        self.csr = csr
        self.batch_size = int(batch_size)
        self.scale = float(scale)
        lengths = csr.row_lengths()
        if csr.n_rows <= self.batch_size:
            top = int(lengths.sum())
        else:
            sim = np.random.default_rng(0).choice(lengths, size=(256, self.batch_size), replace=True).sum(axis=1)
            top = int(sim.max() * 1.05)
        self.pad_to = _round_up(top)

    def batch(self, idx: np.ndarray, size: Optional[int] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.float32]:
        """Padded COO of rows ``idx``; ``size`` forces the padded length (at least the batch's entry count)."""
        local, cols, vals = self.csr.batch_coo(idx)
        if size is None or size < local.size:
            size = self.pad_to if local.size <= self.pad_to else _bucket(local.size)
        rows = np.full(size, self.batch_size, dtype=np.int32)
        c = np.zeros(size, dtype=np.int32)
        v = np.zeros(size, dtype=np.float32)
        rows[: local.size] = local
        c[: local.size] = cols
        v[: local.size] = vals / self.scale if self.scale != 1.0 else vals
        return rows, c, v, np.float32(len(idx))

    def epoch(self, rng: np.random.Generator) -> list[np.ndarray]:
        perm = rng.permutation(self.csr.n_rows)
        return [perm[s : s + self.batch_size] for s in range(0, perm.size, self.batch_size)]


def densify(rows: Any, cols: Any, vals: Any, n_rows: int, n_cols: int, dtype: Any = "float32") -> Any:
    """Dense ``(n_rows, n_cols)`` matrix from padded COO (out-of-range rows are dropped)."""
    import jax.numpy as jnp

    return jnp.zeros((n_rows, n_cols), dtype=dtype).at[rows, cols].set(vals.astype(dtype), mode="drop")


# --------------------------------------------------------------------------- Mult-DAE


def make_multdae_step(model: MultDAE, optimizer: Any, batch_size: int, sparse: bool = False) -> Callable:
    """The jitted training step ``(params, opt_state, rows, cols, vals, n_real, key, step_no) -> (params, opt_state, loss)``.

    The dropout key of a step is ``fold_in(key, step_no)``, computed inside the step;
    ``sparse``: the first layer as an embedding-bag sum (:func:`coo_first_layer`).
    """
    import jax
    import optax

    def step(params, opt_state, rows, cols, vals, n_real, key, step_no):
        key = jax.random.fold_in(key, step_no)
        loss, grads = jax.value_and_grad(model.loss_coo)(params, rows, cols, vals, n_real, key, batch_size, sparse)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step, donate_argnums=(0, 1))


def make_multdae_epoch(model: MultDAE, optimizer: Any, batch_size: int, sparse: bool = False) -> Callable:
    """A whole epoch as one jitted ``lax.scan`` over stacked batches (no per-step dispatch).

    ``(params, opt_state, rows[nb, P], cols[nb, P], vals[nb, P], n_real[nb], key, step_nos[nb]) -> (params, opt_state, losses[nb])``;
    step ``i`` is exactly the step of :func:`make_multdae_step` with ``step_no = step_nos[i]``.
    """
    import jax
    import optax

    def epoch(params, opt_state, rows, cols, vals, n_real, key, step_nos):
        def body(carry, xs):
            p, st = carry
            r, c, v, n, k = xs
            loss, grads = jax.value_and_grad(model.loss_coo)(p, r, c, v, n, jax.random.fold_in(key, k), batch_size, sparse)
            updates, st = optimizer.update(grads, st, p)
            return (optax.apply_updates(p, updates), st), loss

        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), (rows, cols, vals, n_real, step_nos))
        return params, opt_state, losses

    return jax.jit(epoch, donate_argnums=(0, 1))


def run_epoch(params: Any, opt_state: Any, feeder: "BatchFeeder", rng: np.random.Generator, step: Callable, epoch_fn: Callable,
              key: Any, step_no: int) -> tuple[Any, Any, np.ndarray, int]:
    """One epoch: the scanned epoch when every batch has the run's padded length, else step by step.

    Returns ``(params, opt_state, losses, next_step_no)``; the losses are on the host (the epoch is finished).
    """
    import jax.numpy as jnp

    batches = [feeder.batch(idx) for idx in feeder.epoch(rng)]
    nos = np.arange(step_no, step_no + len(batches), dtype=np.uint32)
    if len({b[0].size for b in batches}) == 1:
        rows = np.stack([b[0] for b in batches])
        cols = np.stack([b[1] for b in batches])
        vals = np.stack([b[2] for b in batches])
        n_real = np.array([b[3] for b in batches], dtype=np.float32)
        params, opt_state, losses = epoch_fn(params, opt_state, rows, cols, vals, n_real, key, nos)
        return params, opt_state, np.asarray(losses, dtype=np.float64), step_no + len(batches)
    out = []
    for b, no in zip(batches, nos):
        params, opt_state, loss = step(params, opt_state, *b, key, no)
        out.append(loss)
    return params, opt_state, np.asarray(jnp.stack(out), dtype=np.float64), step_no + len(batches)


def _make_topk(model: MultDAE, batch_size: int, kmax: int, sparse: bool = False) -> Callable:
    import jax
    import jax.numpy as jnp

    n = int(model.n_items)
    k = min(kmax, n)

    def topk(params, rows, cols, vals):
        if sparse:
            return jax.lax.top_k(_sparse_masked_logits(model, params, rows, cols, vals, batch_size), k)[1]
        x = densify(rows, cols, vals, batch_size, n)
        logits = model.apply(params, x)
        logits = jnp.where(x > 0, -jnp.inf, logits)
        return jax.lax.top_k(logits, k)[1]

    return jax.jit(topk)


def _sparse_masked_logits(model: Any, params: Any, rows: Any, cols: Any, vals: Any, batch_size: int) -> Any:
    """Evaluation logits with the sparse first layer and the fold-in items (entries with a value > 0) set to -inf."""
    import jax.numpy as jnp

    logits = model.apply_coo(params, rows, cols, vals, batch_size, sparse=True)
    return logits.at[jnp.where(vals > 0, rows, batch_size), cols].set(-jnp.inf, mode="drop")


def evaluate_multdae(
    model: MultDAE,
    params: Any,
    fold_in: CSR,
    heldout: CSR,
    *,
    batch_size: int = 500,
    metrics: tuple[tuple[str, int], ...] = DEFAULT_METRICS,
    _topk: Optional[Callable] = None,
    sparse: bool = False,
) -> dict[str, np.ndarray]:
    """Per-user metrics: fold in ``fold_in`` rows, rank all items with fold-in items masked (``sparse``: the sparse first layer)."""
    kmax = max(k for _, k in metrics)
    bs = min(batch_size, max(1, fold_in.n_rows))
    topk = _topk or _make_topk(model, bs, kmax, sparse)
    feeder = BatchFeeder(fold_in, bs)
    tops = []
    for idx in fold_in.iter_batches(bs):
        rows, cols, vals, _ = feeder.batch(idx)
        tops.append(np.asarray(topk(params, rows, cols, vals))[: len(idx)])
    top = np.concatenate(tops) if tops else np.zeros((0, kmax), dtype=np.int64)
    if top.shape[1] < kmax:  # fewer items than k: pad with an impossible index
        top = np.concatenate([top, np.full((top.shape[0], kmax - top.shape[1]), -1)], axis=1)
    return ranking_metrics(top, heldout, metrics)


def _means(per_user: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(np.nanmean(v)) if np.any(np.isfinite(v)) else float("nan") for k, v in per_user.items()}


def make_seeds_epoch(model: Any, optimizer: Any, batch_size: int, sparse: bool = False) -> Callable:
    """A whole epoch of ``S`` seeds as one jitted, vmapped ``lax.scan`` (stacked parameters).

    ``(params[S], opt_state[S], rows[S, nb, P], cols[S, nb, P], vals[S, nb, P], n_real[nb], keys[S], step_nos[nb])
    -> (params[S], opt_state[S], losses[S, nb])``. Seed ``s`` runs exactly the
    steps of a single run with dropout key ``keys[s]`` (step ``i`` uses
    ``fold_in(keys[s], step_nos[i])`` and ``model.train_loss(..., step_nos[i])``).
    The batch axis ``nb`` may hold several epochs one after another (the
    trainer runs the epochs up to the next validation as one call).
    """
    import jax
    import optax

    def epoch(params, opt_state, rows, cols, vals, n_real, key, step_nos):
        def body(carry, xs):
            p, st = carry
            r, c, v, n, k = xs
            loss, grads = jax.value_and_grad(model.train_loss)(p, r, c, v, n, jax.random.fold_in(key, k), batch_size, k, sparse)
            updates, st = optimizer.update(grads, st, p)
            return (optax.apply_updates(p, updates), st), loss

        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), (rows, cols, vals, n_real, step_nos))
        return params, opt_state, losses

    return jax.jit(jax.vmap(epoch, in_axes=(0, 0, 0, 0, 0, None, 0, None)), donate_argnums=(0, 1))


def _stacked_epoch(feeder: BatchFeeder, rngs: list[np.random.Generator]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each seed's shuffled epoch of batches, padded to one length: ``rows, cols, vals [S, nb, P]`` and ``n_real [nb]``."""
    orders = [feeder.epoch(rng) for rng in rngs]
    lengths = [int(feeder.csr.indptr[idx + 1].sum() - feeder.csr.indptr[idx].sum()) for o in orders for idx in o]
    top = max(lengths)
    size = feeder.pad_to if top <= feeder.pad_to else _bucket(top)
    batches = [[feeder.batch(idx, size) for idx in o] for o in orders]
    stack = lambda j: np.stack([np.stack([b[j] for b in bs]) for bs in batches])  # noqa: E731
    n_real = np.array([b[3] for b in batches[0]], dtype=np.float32)
    return stack(0), stack(1), stack(2), n_real


def _epoch_groups(sizes: list[int], bytes_per_epoch: list[int]) -> list[tuple[int, int]]:
    """Runs ``[start, stop)`` of consecutive epochs with one padded length and at most :data:`CHUNK_BYTES` of batches each."""
    groups: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, (size, nbytes) in enumerate(zip(sizes, bytes_per_epoch)):
        if i > start and (size != sizes[start] or used + nbytes > CHUNK_BYTES):
            groups.append((start, i))
            start, used = i, 0
        used += nbytes
    groups.append((start, len(sizes)))
    return groups


def run_epochs(epoch_fn: Callable, params: Any, opt_state: Any, feeder: BatchFeeder, rngs: list[np.random.Generator], keys: Any,
               step_no: int, n_epochs: int) -> tuple[Any, Any, list[np.ndarray], int]:
    """``n_epochs`` epochs of stacked seeds (:func:`make_seeds_epoch`) in as few calls as possible.

    Each epoch's batches are cut and padded exactly as for a call per epoch
    (:func:`_stacked_epoch`: the same shuffles, the same padded length), and
    consecutive epochs of one padded length are concatenated along the
    batch axis and run as one scan: the same steps in the same order, so the
    same numbers, with one dispatch and one host sync instead of one per
    epoch. Returns ``(params, opt_state, per-epoch losses [S, nb], next step_no)``.
    """
    epochs = [_stacked_epoch(feeder, rngs) for _ in range(n_epochs)]
    sizes = [e[0].shape[-1] for e in epochs]
    groups = _epoch_groups(sizes, [e[0].nbytes * 3 for e in epochs])
    out: list[np.ndarray] = []
    for a, b in groups:
        part = epochs[a:b]
        rows, cols, vals = (np.concatenate([e[j] for e in part], axis=1) for j in range(3))
        n_real = np.concatenate([e[3] for e in part])
        nos = np.arange(step_no, step_no + n_real.size, dtype=np.uint32)
        params, opt_state, losses = epoch_fn(params, opt_state, rows, cols, vals, n_real, keys, nos)
        losses = np.asarray(losses, dtype=np.float64)
        step_no += int(n_real.size)
        bounds = np.cumsum([e[3].size for e in part])[:-1]
        out.extend(np.split(losses, bounds, axis=1))
    return params, opt_state, out, step_no


def _report_unvalidated(on_epoch: Optional[EpochCallback], losses: list[np.ndarray], epoch: int, seconds: float) -> None:
    """``on_epoch`` for the epochs after ``epoch`` run without a validation (their call's seconds per epoch, their mean loss)."""
    for e, loss in enumerate(losses, start=epoch + 1):
        if on_epoch is not None:
            on_epoch(e, {"epoch": e, "seconds": seconds, "loss": float(np.mean(loss))})


def _next_validation(epoch: int, config: TrainConfig) -> int:
    """The epoch (1-based) of the first validation after ``epoch``: the next multiple of ``eval_every``, or the last epoch."""
    return min(config.epochs, (epoch // config.eval_every + 1) * config.eval_every)


def _make_topk_seeds(model: Any, batch_size: int, kmax: int, sparse: bool = False) -> Callable:
    """``(params[S], rows, cols, vals) -> top-k item indices [S, batch, k]`` with fold-in items masked."""
    import jax
    import jax.numpy as jnp

    n = int(model.n_items)
    k = min(kmax, n)

    def topk(params, rows, cols, vals):
        if sparse:
            return jax.lax.top_k(_sparse_masked_logits(model, params, rows, cols, vals, batch_size), k)[1]
        x = densify(rows, cols, vals, batch_size, n)
        logits = jnp.where(x > 0, -jnp.inf, model.apply(params, x))
        return jax.lax.top_k(logits, k)[1]

    return jax.jit(jax.vmap(topk, in_axes=(0, None, None, None)))


def _evaluate_seeds(topk: Callable, params: Any, fold_in: CSR, heldout: CSR, bs: int, n_seeds: int) -> list[dict[str, np.ndarray]]:
    """Per-seed per-user metrics of stacked parameters (one vmapped top-k per batch)."""
    kmax = max(k for _, k in DEFAULT_METRICS)
    feeder = BatchFeeder(fold_in, bs)
    tops = []
    for idx in fold_in.iter_batches(bs):
        rows, cols, vals, _ = feeder.batch(idx)
        tops.append(np.asarray(topk(params, rows, cols, vals))[:, : len(idx)])
    top = np.concatenate(tops, axis=1) if tops else np.zeros((n_seeds, 0, kmax), dtype=np.int64)
    if top.shape[2] < kmax:
        top = np.concatenate([top, np.full(top.shape[:2] + (kmax - top.shape[2],), -1)], axis=2)
    return [ranking_metrics(top[s], heldout, DEFAULT_METRICS) for s in range(n_seeds)]


@dataclass
class _SeedTrack:
    """Early-stopping state of one seed."""

    best_score: float = -np.inf
    best_epoch: int = 0
    best_step: int = 0
    stopped: bool = False
    stop_reason: str = "epochs"
    steps: int = 0
    history: list = field(default_factory=list)


def _check_model(model: Any, split: ImplicitSplit, config: TrainConfig) -> None:
    if model.n_items != split.n_items:
        raise InvalidArgument(f"model has n_items={model.n_items} but the data has {split.n_items} items; build the model with n_items=split.n_items")
    if config.select not in {metric_name(k, v) for k, v in DEFAULT_METRICS}:
        raise InvalidArgument(f"select={config.select!r} must be one of {[metric_name(k, v) for k, v in DEFAULT_METRICS]}")


def _update_tracks(tracks: list[_SeedTrack], vals: list[dict], info: dict, losses: np.ndarray, epoch: int, step_no: int,
                   config: TrainConfig) -> np.ndarray:
    """Record one validation per running seed; return the mask of seeds whose kept parameters improve."""
    improved = np.zeros(len(tracks), dtype=bool)
    for s, (t, val) in enumerate(zip(tracks, vals)):
        if t.stopped:
            continue
        t.history.append(info | {"step": step_no, "loss": float(np.mean(losses[s]))} | {f"val_{k}": v for k, v in val.items()})
        score = val[config.select]
        if np.isfinite(score) and score > t.best_score:
            t.best_score, t.best_epoch, t.best_step = score, epoch, step_no
            improved[s] = True
        if config.patience is not None and step_no - t.best_step >= config.patience:
            t.stopped, t.stop_reason, t.steps = True, "patience", step_no
    return improved


def train_multdae_seeds(
    model: Any,
    split: ImplicitSplit,
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    test: bool = True,
    on_epoch: Optional[EpochCallback] = None,
) -> list[TrainResult]:
    """Train Mult-DAE or Mult-VAE for several seeds as one vmapped program (stacked parameters).

    Seed ``s`` is the run ``train_multdae(model, split, replace(config, seed=s))``
    (same initial key, dropout keys and batch order). Each seed keeps its best
    validation parameters and stops on its own patience; the program runs
    until every seed has stopped or the epoch cap is reached (a seed stopped
    early is carried along but its later evaluations are ignored). With
    ``test=False`` the test users are not touched (tuning runs).
    """
    import jax
    import jax.numpy as jnp
    import optax

    _check_model(model, split, config)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidArgument("seeds is empty; give at least one training seed")
    t_start = time.perf_counter()
    S = len(seeds)
    pairs = [jax.random.split(jax.random.PRNGKey(s)) for s in seeds]
    init_keys, drop_keys = jnp.stack([p[0] for p in pairs]), jnp.stack([p[1] for p in pairs])
    params = jax.vmap(model.init)(init_keys)
    optimizer = optax.adam(config.lr)
    opt_state = jax.vmap(optimizer.init)(params)
    bs = min(config.batch_size, split.train.n_rows)
    sparse = resolve_input_layer(config, split.train)
    epoch_fn = make_seeds_epoch(model, optimizer, bs, sparse)
    feeder = BatchFeeder(split.train, bs)
    eval_bs = max(1, min(config.batch_size, max(split.val_fold_in.n_rows, split.test_fold_in.n_rows)))
    topk = _make_topk_seeds(model, eval_bs, max(k for _, k in DEFAULT_METRICS), sparse)
    select = jax.jit(lambda best, cur, m: jax.tree.map(lambda b, c: jnp.where(m.reshape((-1,) + (1,) * (c.ndim - 1)), c, b), best, cur))
    rngs = [np.random.default_rng(s) for s in seeds]
    tracks = [_SeedTrack() for _ in seeds]
    best_params = jax.tree.map(jnp.copy, params)
    epoch_seconds: list[float] = []
    epoch_cpu: list[float] = []
    step_no, epoch = 0, 0
    while epoch < config.epochs:
        last = _next_validation(epoch, config)
        t0, c0 = time.perf_counter(), time.process_time()
        params, opt_state, losses, step_no = run_epochs(epoch_fn, params, opt_state, feeder, rngs, drop_keys, step_no, last - epoch)
        seconds = (time.perf_counter() - t0) / (last - epoch)
        epoch_seconds.extend([seconds] * (last - epoch))
        epoch_cpu.extend([(time.process_time() - c0) / (last - epoch)] * (last - epoch))
        _report_unvalidated(on_epoch, losses[:-1], epoch, seconds)
        epoch = last
        info: dict[str, Any] = {"epoch": epoch, "seconds": seconds}
        val = _evaluate_seeds(topk, params, split.val_fold_in, split.val_holdout, eval_bs, S)
        improved = _update_tracks(tracks, [_means(v) for v in val], info, losses[-1], epoch, step_no, config)
        if improved.any():
            best_params = select(best_params, params, jnp.asarray(improved))
        if on_epoch is not None:
            on_epoch(epoch, info | {"loss": float(np.mean(losses[-1]))} | (tracks[0].history[-1] if tracks[0].history and tracks[0].history[-1]["epoch"] == epoch else {}))
        if all(t.stopped for t in tracks):
            break
    for t in tracks:
        if not t.stopped:
            t.steps, t.stop_reason = step_no, ("cap" if config.patience is not None else "epochs")
    val_pu = _evaluate_seeds(topk, best_params, split.val_fold_in, split.val_holdout, eval_bs, S)
    test_pu = _evaluate_seeds(topk, best_params, split.test_fold_in, split.test_holdout, eval_bs, S) if test else [{} for _ in seeds]
    total = time.perf_counter() - t_start
    return [
        TrainResult(
            params=jax.tree.map(lambda x, i=i: x[i], best_params), best_epoch=t.best_epoch, history=t.history,
            val=_means(val_pu[i]), test=_means(test_pu[i]), test_per_user=dict(test_pu[i]), epoch_seconds=epoch_seconds, epoch_cpu_seconds=epoch_cpu,
            total_seconds=total, stop_reason=t.stop_reason, steps=t.steps, best_step=t.best_step,
        )
        for i, t in enumerate(tracks)
    ]


def train_multdae(
    model: Any,
    split: ImplicitSplit,
    config: TrainConfig,
    *,
    test: bool = True,
    on_epoch: Optional[EpochCallback] = None,
) -> TrainResult:
    """Train Mult-DAE (or Mult-VAE) on ``split.train``, keep the best validation epoch, evaluate on test users.

    The one-seed case of :func:`train_multdae_seeds` (seed ``config.seed``).
    """
    return train_multdae_seeds(model, split, config, [config.seed], test=test, on_epoch=on_epoch)[0]


# --------------------------------------------------------------------------- I-AutoRec


def _make_autorec_step(model: AutoRec, optimizer: Any, batch_size: int, n_rows_total: int) -> Callable:
    import jax
    import optax

    n = int(model.n_users)

    def step(params, opt_state, rows, cols, vals, n_real):
        x = densify(rows, cols, vals, batch_size, n)
        loss, grads = jax.value_and_grad(model.loss)(params, x, float(n_rows_total), n_real)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step, donate_argnums=(0, 1))


def _make_autorec_predict(model: AutoRec, batch_size: int) -> Callable:
    import jax
    import jax.numpy as jnp

    n = int(model.n_users)

    def predict(params, rows, cols, vals, q_rows, q_cols):
        x = densify(rows, cols, vals, batch_size, n)
        out = model.apply(params, x) * model.scale
        out = jnp.clip(out, model.r_min, model.r_max)
        return out[jnp.minimum(q_rows, batch_size - 1), q_cols]

    return jax.jit(predict)


def predict_autorec(model: AutoRec, params: Any, inputs: CSR, queries: CSR, *, batch_size: int = 256, _predict: Optional[Callable] = None) -> np.ndarray:
    """Predicted ratings at the entries of ``queries`` (same rows as ``inputs``), in CSR order."""
    bs = min(batch_size, inputs.n_rows)
    predict = _predict or _make_autorec_predict(model, bs)
    feeder = BatchFeeder(inputs, bs, scale=model.scale)
    out = []
    for idx in inputs.iter_batches(bs):
        rows, cols, vals, _ = feeder.batch(idx)
        q_local, q_cols, _ = queries.batch_coo(idx)
        if q_local.size == 0:
            continue
        size = _bucket(q_local.size)
        qr = np.full(size, bs, dtype=np.int32)
        qc = np.zeros(size, dtype=np.int32)
        qr[: q_local.size] = q_local
        qc[: q_local.size] = q_cols
        out.append(np.asarray(predict(params, rows, cols, vals, qr, qc))[: q_local.size])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def train_autorec(
    model: AutoRec,
    split: RatingSplit,
    config: TrainConfig,
    *,
    on_epoch: Optional[EpochCallback] = None,
) -> TrainResult:
    """Train I-AutoRec on item rows of ``split.train``; keep the lowest validation RMSE; test RMSE."""
    import jax
    import jax.numpy as jnp
    import optax

    if model.n_users != split.train.n_cols:
        raise InvalidArgument(f"model has n_users={model.n_users} but the data has {split.train.n_cols} users")
    t_start = time.perf_counter()
    params = model.init(jax.random.PRNGKey(config.seed))
    optimizer = optax.adam(config.lr)
    opt_state = optimizer.init(params)
    bs = min(config.batch_size, split.train.n_rows)
    step = _make_autorec_step(model, optimizer, bs, split.train.n_rows)
    predict = _make_autorec_predict(model, bs)
    feeder = BatchFeeder(split.train, bs, scale=model.scale)
    rng = np.random.default_rng(config.seed)
    has_val = split.val.nnz > 0
    best, best_epoch, best_params = np.inf, 0, None
    history: list[dict] = []
    epoch_seconds: list[float] = []
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        losses = []
        for idx in feeder.epoch(rng):
            rows, cols, vals, n_real = feeder.batch(idx)
            params, opt_state, loss = step(params, opt_state, rows, cols, vals, n_real)
            losses.append(loss)
        mean_loss = float(np.mean(np.asarray(jnp.stack(losses), dtype=np.float64)))
        epoch_seconds.append(time.perf_counter() - t0)
        info: dict[str, Any] = {"epoch": epoch, "loss": mean_loss, "seconds": epoch_seconds[-1]}
        if has_val and (epoch % config.eval_every == 0 or epoch == config.epochs):
            pred = predict_autorec(model, params, split.train, split.val, batch_size=bs, _predict=predict)
            val_rmse = float(np.sqrt(np.mean((pred - split.val.data) ** 2)))
            info["val_RMSE"] = val_rmse
            if val_rmse < best:
                best, best_epoch = val_rmse, epoch
                best_params = jax.tree.map(jnp.copy, params)
            history.append(info)
        if on_epoch is not None:
            on_epoch(epoch, info)
    if best_params is None:
        best_params, best_epoch = params, config.epochs
    pred = predict_autorec(model, best_params, split.train, split.test, batch_size=bs, _predict=predict)
    sq = (pred.astype(np.float64) - split.test.data) ** 2
    val = {"RMSE": best} if has_val else {}
    return TrainResult(
        params=best_params,
        best_epoch=best_epoch,
        history=history,
        val=val,
        test={"RMSE": float(np.sqrt(np.mean(sq)))},
        test_per_user={"squared_error": sq},
        epoch_seconds=epoch_seconds,
        total_seconds=time.perf_counter() - t_start,
    )
