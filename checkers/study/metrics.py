"""Ranking metrics exactly as in Liang et al. 2018, and RMSE.

For one user with score vector ``s`` over items (fold-in items already set to
``-inf``) and held-out set ``H`` (``|H| >= 1``), let ``pi(1), pi(2), ...`` be
the items by decreasing score:

* ``Recall@k = |{pi(1..k)} & H| / min(k, |H|)`` (the truncated denominator:
  1 means every slot that could hold a held-out item does),
* ``DCG@k = sum_{r=1..k} [pi(r) in H] / log2(r + 1)``,
  ``NDCG@k = DCG@k / IDCG@k`` with ``IDCG@k = sum_{r=1..min(k,|H|)} 1/log2(r + 1)``.

Ties in scores are broken by the lower item index (a stable sort), so the
numbers are deterministic. Users without held-out items are skipped (the
reference code would divide by zero).

:func:`recall_at_k` and :func:`ndcg_at_k` take dense scores (small data,
tests); :func:`ranking_metrics` takes the top-k item indices computed on the
device and the held-out rows as :class:`CSR`.

References:
    D. Liang et al. Variational Autoencoders for Collaborative Filtering. WWW 2018,
    section 4.2 and the metric functions of its public code.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .data import CSR

__all__ = ["recall_at_k", "ndcg_at_k", "ranking_metrics", "topk_indices", "rmse", "DEFAULT_METRICS", "metric_name"]

#: (kind, k) of the metrics the study reports.
DEFAULT_METRICS: tuple[tuple[str, int], ...] = (("recall", 20), ("recall", 50), ("ndcg", 100), ("ndcg", 10))


def metric_name(kind: str, k: int) -> str:
    return f"{'Recall' if kind == 'recall' else 'NDCG'}@{k}"


def topk_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best items per row, best first; ties by lower index."""
    scores = np.asarray(scores)
    k = min(int(k), scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")
    return order[:, :k]


def _heldout_matrix(heldout: Any, shape: tuple[int, int]) -> np.ndarray:
    if isinstance(heldout, CSR):
        return heldout.to_dense(bool)
    h = np.asarray(heldout) > 0
    if h.shape != shape:
        raise ValueError(f"held-out matrix has shape {h.shape} but scores have {shape}")
    return h


def recall_at_k(scores: np.ndarray, heldout: Any, k: int) -> np.ndarray:
    """Recall@k per user (dense scores), denominator ``min(k, |H|)``; NaN where ``|H| = 0``.

    Example:
        >>> import numpy as np
        >>> recall_at_k(np.array([[0.9, 0.1, 0.5, 0.3]]), np.array([[0, 1, 1, 0]]), 2)
        array([0.5])
    """
    scores = np.asarray(scores, dtype=np.float64)
    h = _heldout_matrix(heldout, scores.shape)
    top = topk_indices(scores, k)
    hits = np.take_along_axis(h, top, axis=1).sum(axis=1)
    n = h.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, hits / np.minimum(k, n), np.nan)


def ndcg_at_k(scores: np.ndarray, heldout: Any, k: int) -> np.ndarray:
    """Truncated NDCG@k per user (dense scores, binary relevance); NaN where ``|H| = 0``."""
    scores = np.asarray(scores, dtype=np.float64)
    h = _heldout_matrix(heldout, scores.shape)
    top = topk_indices(scores, k)
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = (np.take_along_axis(h, top, axis=1) * discount).sum(axis=1)
    n = h.sum(axis=1)
    full = 1.0 / np.log2(np.arange(2, k + 2))
    idcg = np.array([full[: min(int(c), k)].sum() for c in n])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, dcg / np.where(idcg > 0, idcg, 1.0), np.nan)


def ranking_metrics(
    top: np.ndarray,
    heldout: CSR,
    metrics: Sequence[tuple[str, int]] = DEFAULT_METRICS,
) -> dict[str, np.ndarray]:
    """Per-user metrics from top-k indices (rows aligned with ``heldout``).

    ``top`` must hold at least ``max(k)`` columns. Users without held-out
    items get NaN; callers average with ``np.nanmean``.
    """
    top = np.asarray(top)
    kmax = max(k for _, k in metrics)
    if top.shape[1] < kmax:
        raise ValueError(f"top-k holds {top.shape[1]} items per user but metrics need {kmax}")
    n_users = heldout.n_rows
    if top.shape[0] != n_users:
        raise ValueError(f"top-k has {top.shape[0]} rows but held-out has {n_users}")
    # hit[u, r] = top[u, r] is a held-out item of u (sorted indices per row: searchsorted).
    hit = np.zeros(top.shape, dtype=bool)
    lengths = heldout.row_lengths()
    for u in range(n_users):
        a, b = heldout.indptr[u], heldout.indptr[u + 1]
        if b > a:
            hit[u] = np.isin(top[u], heldout.indices[a:b])
    out: dict[str, np.ndarray] = {}
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    cum_ideal = np.concatenate([[0.0], np.cumsum(discount)])
    with np.errstate(invalid="ignore", divide="ignore"):
        for kind, k in metrics:
            if kind == "recall":
                val = hit[:, :k].sum(axis=1) / np.minimum(k, lengths)
            elif kind == "ndcg":
                dcg = (hit[:, :k] * discount[:k]).sum(axis=1)
                val = dcg / cum_ideal[np.minimum(k, lengths)]
            else:
                raise ValueError(f"unknown metric kind {kind!r}; use 'recall' or 'ndcg'")
            out[metric_name(kind, k)] = np.where(lengths > 0, val, np.nan)
    return out


def rmse(pred: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error."""
    pred = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    return float(np.sqrt(np.mean((pred - truth) ** 2)))
