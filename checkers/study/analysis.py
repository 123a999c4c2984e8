"""The study's pre-registered analysis, computed from per-user test scores alone.

Fixed before any run (recorded in ``report.json`` under ``meta.analysis``):
the primary metric (test NDCG@100), the equivalence margin ``margin``
(absolute NDCG@100), the significance level 0.05, the number of bootstrap
resamples and the bootstrap seed.

For each arm (a latent activation, or the EASE / popularity baseline)
against the reference activation and each metric, the paired per-user
differences of one split form a ``(training seeds x test users)`` matrix
``D_s`` (a baseline is deterministic: its one score vector is paired with
every training seed of the reference). The estimate is the mean over splits
of the mean of ``D_s``. Its sampling distribution comes from a
**hierarchical cluster bootstrap**: resample the splits with replacement,
then within each drawn split its training seeds and its test users, each
with replacement and independently. From the bootstrap replicates:

* ``ci95``: the 95% percentile interval;
* ``p_superiority``: two-sided, ``min(1, 2 min(#{T* <= 0}, #{T* >= 0}) + 1) / (B + 1))``;
* ``p_tost``: the two one-sided tests at the margin, ``max(p_lower, p_upper)``
  with ``p_lower = (#{T* <= -margin} + 1) / (B + 1)`` and ``p_upper`` alike
  for ``T* >= margin``; equivalence at level alpha exactly when the
  ``1 - 2 alpha`` percentile interval lies inside ``(-margin, margin)``
  (up to the +1 of the p-values).

Holm's correction is applied per metric and per test (superiority, TOST)
across the arms compared. Every number here is recomputed by
``latentcheck study-stats REPORT`` from the scores stored in the report.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any, Optional, Sequence

import numpy as np

from .report import holm

__all__ = ["ANALYSIS_DEFAULTS", "encode_array", "decode_array", "pack_per_user", "unpack_per_user", "cluster_bootstrap",
           "paired_matrices", "comparison_seed", "compare_arms", "analyse", "verdict"]

#: Fixed before any run; the study records them in ``meta.analysis``.
ANALYSIS_DEFAULTS: dict[str, Any] = {"primary": "NDCG@100", "margin": 0.01, "alpha": 0.05, "n_boot": 4000, "seed": 20_411}
_ENCODING = "base64 of zlib-compressed little-endian float64"


def encode_array(x: Any) -> str:
    """``x`` as float64, little-endian, zlib-compressed, base64: exact round trip through JSON."""
    a = np.ascontiguousarray(np.asarray(x, dtype="<f8"))
    return base64.b64encode(zlib.compress(a.tobytes(), 9)).decode("ascii")


def decode_array(text: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text.encode("ascii"))), dtype="<f8").astype(np.float64)


def _key(arm: str, split: int, seed: Optional[int]) -> str:
    return f"{arm}|{split}|{'-' if seed is None else seed}"


def pack_per_user(per_user: dict[tuple, dict[str, np.ndarray]], user_ids: dict[int, Sequence[Any]]) -> dict:
    """The JSON block of per-user test scores: ``(arm, split, seed or None) -> metric -> array``, users per split, a SHA-256."""
    scores = {_key(*k): {m: encode_array(v) for m, v in sorted(d.items())} for k, d in sorted(per_user.items(), key=lambda kv: _key(*kv[0]))}
    users = {str(s): [u.item() if hasattr(u, "item") else u for u in ids] for s, ids in sorted(user_ids.items())}
    return {"encoding": _ENCODING, "key": "arm|split seed|training seed ('-': a deterministic baseline)",
            "users": users, "scores": scores, "sha256": _digest(scores, users)}


def _digest(scores: dict, users: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(scores):
        for m in sorted(scores[k]):
            h.update(f"{k}/{m}:".encode() + scores[k][m].encode())
    for s in sorted(users):
        h.update(f"{s}:{users[s]!r}".encode())
    return h.hexdigest()


def unpack_per_user(block: dict) -> tuple[dict[tuple, dict[str, np.ndarray]], dict[int, list]]:
    """Inverse of :func:`pack_per_user`; raises ``ValueError`` when the digest or a length does not match."""
    if block.get("sha256") != _digest(block["scores"], block["users"]):
        raise ValueError("the per-user scores do not match their SHA-256: the report was altered or truncated")
    users = {int(s): list(ids) for s, ids in block["users"].items()}
    out: dict[tuple, dict[str, np.ndarray]] = {}
    for k, d in block["scores"].items():
        arm, split, seed = k.rsplit("|", 2)
        key = (arm, int(split), None if seed == "-" else int(seed))
        out[key] = {m: decode_array(v) for m, v in d.items()}
        if any(v.size != len(users[key[1]]) for v in out[key].values()):
            raise ValueError(f"per-user scores of {k} do not have one value per test user of split {split}")
    return out, users


def paired_matrices(per_user: dict, arm: str, ref: str, metric: str) -> list[np.ndarray]:
    """Per split, the ``(seeds, users)`` matrix of ``arm - ref``; users with a missing score in any row are dropped."""
    mats = []
    for split in sorted({k[1] for k in per_user if k[0] == ref}):
        seeds = sorted(k[2] for k in per_user if k[0] == ref and k[1] == split)
        rows = []
        for t in seeds:
            a = per_user.get((arm, split, t), per_user.get((arm, split, None)))
            if a is None:
                continue
            rows.append(a[metric] - per_user[(ref, split, t)][metric])
        if rows:
            d = np.stack(rows)
            mats.append(d[:, np.all(np.isfinite(d), axis=0)])
    return mats


def _within_split(d: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` bootstrap means of ``d`` (seeds x users), seeds and users resampled independently with replacement."""
    t, u = d.shape
    ct = np.bincount((rng.integers(0, t, (n, t)) + t * np.arange(n)[:, None]).ravel(), minlength=n * t).reshape(n, t)
    cu = np.bincount((rng.integers(0, u, (n, u)) + u * np.arange(n)[:, None]).ravel(), minlength=n * u).reshape(n, u)
    return np.einsum("bt,tu,bu->b", ct.astype(np.float64), d, cu.astype(np.float64)) / (t * u)


def cluster_bootstrap(mats: list[np.ndarray], n_boot: int, seed: "int | Sequence[int]") -> np.ndarray:
    """``n_boot`` replicates of the mean over splits: splits, then seeds and users within each, resampled with replacement."""
    rng = np.random.default_rng(seed)
    s = len(mats)
    within = np.stack([_within_split(d, n_boot * s, rng).reshape(n_boot, s) for d in mats])  # (split, b, position)
    pick = rng.integers(0, s, (n_boot, s))
    return within[pick, np.arange(n_boot)[:, None], np.arange(s)[None, :]].mean(axis=1)


def comparison_seed(seed: int, arm: str, metric: str) -> list[int]:
    """The bootstrap seed of one comparison: the declared seed and the arm's and metric's names, never their order.

    (It was ``seed + 1000 * metric index + arm index``: a report written with
    sorted keys listed the arms in another order than the study used, so
    ``study-stats`` drew other resamples and disagreed with a correct report.)
    """
    return [int(seed), zlib.crc32(arm.encode("utf-8")), zlib.crc32(metric.encode("utf-8"))]


def compare_arms(mats: list[np.ndarray], margin: float, n_boot: int, seed: "int | Sequence[int]") -> dict[str, Any]:
    """Estimate, 95% interval, superiority and TOST p-values of one paired comparison (see the module docstring)."""
    if not mats or any(d.size == 0 for d in mats):
        nan = float("nan")
        return {"diff": nan, "ci95": [nan, nan], "ci90": [nan, nan], "p_superiority": nan, "p_tost": nan, "n_splits": len(mats), "n_users": 0}
    est = float(np.mean([d.mean() for d in mats]))
    boot = cluster_bootstrap(mats, n_boot, seed)
    b1 = n_boot + 1
    p_sup = min(1.0, (2 * min(np.sum(boot <= 0), np.sum(boot >= 0)) + 1) / b1)
    p_lo, p_hi = (np.sum(boot <= -margin) + 1) / b1, (np.sum(boot >= margin) + 1) / b1
    p_tost = float(max(p_lo, p_hi)) if np.isfinite(margin) else float("nan")  # TOST only where a margin was declared
    return {"diff": est, "ci95": np.quantile(boot, [0.025, 0.975]).tolist(), "ci90": np.quantile(boot, [0.05, 0.95]).tolist(),
            "p_superiority": float(p_sup), "p_tost": p_tost, "n_splits": len(mats),
            "n_seeds": [int(d.shape[0]) for d in mats], "n_users": int(sum(d.shape[1] for d in mats))}


def analyse(per_user: dict, arms: Sequence[str], ref: str, metrics: Sequence[str], margin: float, n_boot: int, seed: int,
            primary: str = "NDCG@100", alpha: float = 0.05) -> dict[str, Any]:
    """Every arm against ``ref`` on every metric, with Holm per metric and test; a verdict per arm on the primary metric."""
    others = [a for a in arms if a != ref]
    comps: dict[str, dict] = {a: {} for a in others}
    for m in metrics:
        res = {a: compare_arms(paired_matrices(per_user, a, ref, m), margin if m == primary else float("nan"), n_boot, comparison_seed(seed, a, m))
               for a in others}
        for test in ("p_superiority", "p_tost"):
            for a, p in zip(others, holm([res[a][test] for a in others])):
                res[a][test + "_holm"] = p
        for a in others:
            comps[a][m] = res[a]
    verdicts = {a: verdict(comps[a][primary], margin, alpha) for a in others}
    return {"primary": primary, "margin": margin, "alpha": alpha, "n_boot": n_boot, "seed": seed, "reference": ref,
            "method": "hierarchical cluster bootstrap (splits, then training seeds and test users) of paired per-user differences; "
                      "Holm per metric and test", "comparisons": comps, "verdicts": verdicts}


def verdict(c: dict, margin: float, alpha: float) -> str:
    """``equivalent`` (TOST within +-margin), ``better``/``worse`` (superiority), or ``inconclusive``; Holm-adjusted p-values."""
    if c.get("p_tost_holm", float("nan")) < alpha:
        return "equivalent"
    if c.get("p_superiority_holm", float("nan")) < alpha:
        return "better" if c["diff"] > 0 else "worse"
    return "inconclusive"
