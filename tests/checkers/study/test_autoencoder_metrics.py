"""Ranking metrics against hand arithmetic and an independent loop implementation; statistics."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from latentcheck.checkers.study.data import csr_from_coo
from latentcheck.checkers.study.ease import ease_weights
from latentcheck.checkers.study.metrics import ndcg_at_k, ranking_metrics, recall_at_k, topk_indices
from latentcheck.checkers.study.report import mean_ci, paired_t_test, pearson, sign_flip_test, spearman, t_cdf, t_quantile


def _loop_metrics(scores, heldout_sets, k):
    """Straightforward per-user loops, written from the definitions (Liang et al. 2018)."""
    recalls, ndcgs = [], []
    for s, h in zip(scores, heldout_sets):
        ranked = sorted(range(len(s)), key=lambda i: (-s[i], i))[:k]
        hits = [1 if i in h else 0 for i in ranked]
        recalls.append(sum(hits) / min(k, len(h)))
        dcg = sum(hit / math.log2(r + 2) for r, hit in enumerate(hits))
        idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(h))))
        ndcgs.append(dcg / idcg)
    return np.array(recalls), np.array(ndcgs)


def test_hand_case():
    # Items 0..4 ranked by score: 0 (0.9), 4 (0.7), 2 (0.5), 3 (0.3), 1 (0.1); held out {1, 2}.
    s = np.array([[0.9, 0.1, 0.5, 0.3, 0.7]])
    h = np.array([[0, 1, 1, 0, 0]])
    assert recall_at_k(s, h, 2)[0] == 0 / min(2, 2)
    assert recall_at_k(s, h, 3)[0] == 1 / min(3, 2)  # item 2 at rank 3
    assert recall_at_k(s, h, 5)[0] == 2 / min(5, 2)
    dcg3 = 1 / math.log2(3 + 1)  # the hit at rank 3
    idcg3 = 1 / math.log2(2) + 1 / math.log2(3)  # two held-out items fit in 3 slots
    assert ndcg_at_k(s, h, 3)[0] == pytest.approx(dcg3 / idcg3, rel=1e-12)
    dcg5 = 1 / math.log2(4) + 1 / math.log2(6)  # ranks 3 and 5
    assert ndcg_at_k(s, h, 5)[0] == pytest.approx(dcg5 / idcg3, rel=1e-12)


def test_truncated_recall_denominator():
    # Five held-out items, k = 2, both top slots hit: recall is 2 / min(2, 5) = 1, not 2/5.
    s = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    h = np.array([[1, 1, 1, 1, 1, 0]])
    assert recall_at_k(s, h, 2)[0] == 2 / min(2, 5)
    # NDCG's ideal is over min(k, |H|) = 2 slots, so a perfect top 2 is 1.
    assert ndcg_at_k(s, h, 2)[0] == pytest.approx(1.0)


def test_users_without_heldout_are_nan():
    s = np.array([[1.0, 0.0], [0.0, 1.0]])
    h = np.array([[0, 0], [1, 0]])
    r = recall_at_k(s, h, 1)
    assert np.isnan(r[0]) and r[1] == 0.0


def test_topk_and_dense_agree_with_loops():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(40, 30))
    heldout = rng.random((40, 30)) < 0.15
    heldout[np.arange(40), rng.integers(0, 30, 40)] = True  # at least one each
    sets = [set(np.nonzero(row)[0].tolist()) for row in heldout]
    rows, cols = np.nonzero(heldout)
    csr = csr_from_coo(rows, cols, np.ones(rows.size), heldout.shape)
    top = topk_indices(scores, 25)
    fast = ranking_metrics(top, csr, (("recall", 5), ("recall", 20), ("ndcg", 10), ("ndcg", 25)))
    for k in (5, 20):
        rec, _ = _loop_metrics(scores, sets, k)
        assert np.allclose(recall_at_k(scores, heldout, k), rec)
        assert np.allclose(fast[f"Recall@{k}"], rec)
    for k in (10, 25):
        _, nd = _loop_metrics(scores, sets, k)
        assert np.allclose(ndcg_at_k(scores, heldout, k), nd)
        assert np.allclose(fast[f"NDCG@{k}"], nd)


def test_ties_break_by_lower_index():
    assert topk_indices(np.array([[1.0, 2.0, 2.0, 0.0]]), 3).tolist() == [[1, 2, 0]]


def test_ease_matches_per_column_ridge():
    rng = np.random.default_rng(1)
    X = (rng.random((30, 6)) < 0.4).astype(float)
    lam = 2.0
    B = ease_weights(X.T @ X, lam)
    assert np.allclose(np.diag(B), 0.0)
    for j in range(6):
        others = [i for i in range(6) if i != j]
        A = X[:, others]
        ridge = np.linalg.solve(A.T @ A + lam * np.eye(5), A.T @ X[:, j])
        assert np.allclose(B[others, j], ridge, atol=1e-10)


# ----------------------------------------------------------------- statistics


@pytest.mark.parametrize("t", [-3.0, -0.5, 0.0, 0.7, 2.0, 10.0])
def test_t_cdf_closed_forms(t):
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)  # Cauchy
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12)


def test_t_quantile_inverts_cdf():
    for df in (1, 4, 30):
        for p in (0.6, 0.975, 0.025):
            assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * (0.975 - 0.5)), rel=1e-9)


def test_mean_ci_and_paired_t_by_hand():
    x = [1.0, 2.0, 3.0, 4.0]
    ci = mean_ci(x)
    sd = math.sqrt(sum((v - 2.5) ** 2 for v in x) / 3)
    half = t_quantile(0.975, 3) * sd / 2
    assert ci["mean"] == 2.5 and ci["lo"] == pytest.approx(2.5 - half) and ci["hi"] == pytest.approx(2.5 + half)
    a, b = [3.0, 5.0, 4.0], [1.0, 2.0, 2.0]
    d = [2.0, 3.0, 2.0]
    md = sum(d) / 3
    sdd = math.sqrt(sum((v - md) ** 2 for v in d) / 2)
    t = md / (sdd / math.sqrt(3))
    res = paired_t_test(a, b)
    assert res["t"] == pytest.approx(t) and res["p"] == pytest.approx(2 * (1 - t_cdf(t, 2)))


def test_sign_flip_exact_enumeration():
    d = [0.5, 1.0, -0.2]
    obs = abs(sum(d) / 3)
    pats = list(itertools.product((1, -1), repeat=3))
    expected = sum(1 for s in pats if abs(sum(si * di for si, di in zip(s, d)) / 3) >= obs - 1e-15) / len(pats)
    assert sign_flip_test(d)["p"] == pytest.approx(expected)
    mc = sign_flip_test(np.linspace(-1, 2, 40), n_perm=4000, seed=0)
    assert 0.0 < mc["p"] < 0.05


def test_correlations():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert pearson(x, [2 * v + 1 for v in x]) == pytest.approx(1.0)
    assert spearman(x, [v ** 3 for v in x]) == pytest.approx(1.0)
    assert math.isnan(pearson(x, [1.0] * 5))


def test_holm_by_hand():
    from latentcheck.checkers.study.report import holm

    # Sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, max(0.06, 1*0.04).
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([float("nan"), 0.2, 0.6])
    assert math.isnan(out[0]) and out[1:] == pytest.approx([0.4, 0.6])
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_wilcoxon_exact_by_hand():
    from latentcheck.checkers.study.report import wilcoxon_test

    # All five differences positive: 2 of 2^5 sign patterns are as extreme -> p = 2/32.
    assert wilcoxon_test([2, 3, 4, 5, 6], [1, 1, 1, 1, 1])["p"] == pytest.approx(2 / 32)
    # One negative of rank 2: W- = 2; subsets of {1..5} with sum <= 2 are {}, {1}, {2} -> p = 2 * 3/32.
    assert wilcoxon_test([1, -2, 3, 4, 5], [0, 0, 0, 0, 0])["p"] == pytest.approx(6 / 32)
    assert wilcoxon_test([1, 1], [1, 1])["p"] == 1.0
