"""An independent re-checker for the study's pre-registered analysis (shares no code with latentcheck).

A plain-loop hierarchical bootstrap (splits, then training seeds and users within each, with
replacement), Holm's step-down adjustment written out from its definition, and the TOST and
superiority read off the bootstrap replicates. Only NumPy and the standard library are used.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def naive_cluster_bootstrap(mats: Sequence[np.ndarray], n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):
        means = []
        for s in rng.integers(0, len(mats), len(mats)):
            d = mats[s]
            rows = rng.integers(0, d.shape[0], d.shape[0])
            cols = rng.integers(0, d.shape[1], d.shape[1])
            means.append(d[np.ix_(rows, cols)].mean())
        out[b] = np.mean(means)
    return out


def holm_by_definition(p: Sequence[float]) -> list[float]:
    """p_(i) adjusted = max over j <= i of min(1, (m - j + 1) p_(j)), in the input order."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    m = len(p)
    adj = [0.0] * m
    best = 0.0
    for rank, i in enumerate(order):
        best = max(best, min(1.0, (m - rank) * p[i]))
        adj[i] = best
    return adj
