"""MovieLens-100K from ../shared/data (skipped where it is absent: it is not redistributed)."""

from __future__ import annotations

import numpy as np
import pytest

from latentcheck.checkers.study.audit import audit_encoder
from latentcheck.checkers.study.data import liang_split, load_ratings, rating_split
from latentcheck.checkers.study.models import MultDAE
from latentcheck.checkers.study.train import TrainConfig, train_multdae

pytestmark = pytest.mark.data


def test_loads_ml100k_and_splits_as_liang(ml100k_path):
    r = load_ratings(ml100k_path)
    assert (len(r), r.describe()["users"], r.describe()["items"]) == (100_000, 943, 1682)
    assert not r.synthetic and set(np.unique(r.ratings).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    s = liang_split(r)
    kept = r.ratings > 3.5
    users, counts = np.unique(r.users[kept], return_counts=True)
    n_users = int((counts >= 5).sum())
    assert s.meta["users_after_filter"] == n_users
    assert s.meta["val_users"] == s.meta["test_users"] == round(0.1 * n_users)
    assert s.train.n_rows == n_users - 2 * round(0.1 * n_users)
    assert np.all(s.test_holdout.row_lengths() >= 1)
    rs = rating_split(r, seed=0)
    assert rs.train.nnz + rs.val.nnz + rs.test.nnz == 100_000


def test_short_training_and_audit_on_ml100k(ml100k_path):
    s = liang_split(load_ratings(ml100k_path))
    model = MultDAE(n_items=s.n_items, hidden=(64,), latent="relu")
    res = train_multdae(model, s, TrainConfig(epochs=4, batch_size=250, lr=3e-3, eval_every=2))
    assert 0.0 < res.test["NDCG@100"] <= 1.0
    a = audit_encoder(model.encoder(res.params), s.all_rows(), normalise="l2", seed=0, n_triples=1000, certify=0)
    assert a.rows == s.all_rows().n_rows and 0.0 <= a.zero_rate <= 1.0 and 0.0 <= a.concordance <= 1.0
