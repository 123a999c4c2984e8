"""EASE (Steck 2019): the closed-form linear item-item model, the linear reference row.

With the training rows ``X`` (users x items), ``G = X^T X + lam I`` and
``P = G^{-1}``, the weights are ``B = I - P diag(1 / diag(P))``: the
minimiser of ``||X - X B||_F^2 + lam ||B||_F^2`` subject to ``diag(B) = 0``.
A held-out user's scores are ``x_fold_in @ B`` (strong generalisation: the
user never entered ``G``). ``lam`` is picked on the validation users.

The Gram matrix is accumulated over dense row batches on the device, so the
users x items matrix is never materialised; ``G`` itself is items x items.

Reference:
    H. Steck. Embarrassingly Shallow Autoencoders for Sparse Data. WWW 2019.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .data import CSR, ImplicitSplit
from .metrics import DEFAULT_METRICS, ranking_metrics
from .train import BatchFeeder, densify
from ...theorems.errors import InvalidArgument

__all__ = ["ease_weights", "gram", "EaseResult", "fit_ease", "popularity_baseline", "DEFAULT_LAMBDAS"]

#: The grid of ``lam`` searched on the validation users.
DEFAULT_LAMBDAS: tuple[float, ...] = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)


def gram(X: CSR, *, batch_size: int = 2048) -> np.ndarray:
    """``X^T X`` (float64 on the host), accumulated over dense batches on the device."""
    import jax
    import jax.numpy as jnp

    n = X.n_cols
    bs = min(batch_size, max(1, X.n_rows))

    @jax.jit
    def acc(G, rows, cols, vals):
        x = densify(rows, cols, vals, bs, n)
        return G + x.T @ x

    G = jnp.zeros((n, n), dtype=jnp.float32)
    feeder = BatchFeeder(X, bs)
    for idx in X.iter_batches(bs):
        rows, cols, vals, _ = feeder.batch(idx)
        G = acc(G, rows, cols, vals)
    return np.asarray(G, dtype=np.float64)


def ease_weights(G: np.ndarray, lam: float) -> np.ndarray:
    """``B = I - P diag(1/diag(P))`` with ``P = (G + lam I)^{-1}`` (float64).

    Example:
        >>> import numpy as np
        >>> B = ease_weights(np.array([[2.0, 1.0], [1.0, 2.0]]), 1.0)
        >>> bool(np.allclose(np.diag(B), 0.0))
        True
    """
    if not lam > 0:
        raise InvalidArgument(f"lam={lam!r} must be positive, e.g. 300")
    P = np.linalg.inv(G + lam * np.eye(G.shape[0]))
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B


def _topk_scores(B: np.ndarray, fold_in: CSR, kmax: int) -> np.ndarray:
    tops = []
    k = min(kmax, fold_in.n_cols)
    for idx in fold_in.iter_batches(1024):
        x = fold_in.take_rows(idx).to_dense(np.float64)
        s = x @ B
        s[x > 0] = -np.inf
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
        ps = np.take_along_axis(s, part, axis=1)
        order = np.lexsort((part, -ps), axis=1)
        tops.append(np.take_along_axis(part, order, axis=1))
    top = np.concatenate(tops)
    if top.shape[1] < kmax:
        top = np.concatenate([top, np.full((top.shape[0], kmax - top.shape[1]), -1)], axis=1)
    return top


@dataclass
class EaseResult:
    """EASE with the ``lam`` chosen on validation users."""

    lam: float
    val: dict[str, float]
    test: dict[str, float]
    test_per_user: dict[str, np.ndarray]
    val_by_lambda: dict[float, float]
    seconds: float


def fit_ease(split: ImplicitSplit, lambdas: Sequence[float] = DEFAULT_LAMBDAS, select: str = "NDCG@100") -> EaseResult:
    """Fit EASE on the training users; pick ``lam`` by validation ``select``; evaluate on test users."""
    t0 = time.perf_counter()
    kmax = max(k for _, k in DEFAULT_METRICS)
    G = gram(split.train)
    best: tuple[float, float, Any, dict] | None = None
    by_lam: dict[float, float] = {}
    for lam in lambdas:
        B = ease_weights(G, lam)
        val = ranking_metrics(_topk_scores(B, split.val_fold_in, kmax), split.val_holdout)
        score = float(np.nanmean(val[select]))
        by_lam[float(lam)] = score
        if best is None or score > best[1]:
            best = (float(lam), score, B, {k: float(np.nanmean(v)) for k, v in val.items()})
    assert best is not None
    lam, _, B, val_means = best
    test = ranking_metrics(_topk_scores(B, split.test_fold_in, kmax), split.test_holdout)
    return EaseResult(lam, val_means, {k: float(np.nanmean(v)) for k, v in test.items()}, test, by_lam, time.perf_counter() - t0)


def popularity_baseline(split: ImplicitSplit) -> dict[str, np.ndarray]:
    """Per-user test metrics of ranking items by training popularity (fold-in masked)."""
    pop = np.bincount(split.train.indices, minlength=split.n_items).astype(np.float64)
    # Tiny index-based tie-break keeps the order deterministic.
    B_scores = pop - 1e-9 * np.arange(split.n_items)
    kmax = max(k for _, k in DEFAULT_METRICS)
    x = split.test_fold_in.to_dense(bool)
    s = np.where(x, -np.inf, B_scores[None, :])
    top = np.argsort(-s, axis=1, kind="stable")[:, :kmax]
    return ranking_metrics(top, split.test_holdout)
