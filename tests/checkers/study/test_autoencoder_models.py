"""Mult-DAE and I-AutoRec: shapes, loss, training beats baselines, encoder export."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentcheck.checkers.study.audit import read_input_meta, save_encoder
from latentcheck.checkers.study.data import liang_split, rating_split, synthetic_ratings
from latentcheck.checkers.study.ease import popularity_baseline
from latentcheck.checkers.study.metrics import ndcg_at_k
from latentcheck.checkers.study.models import AutoRec, MultDAE, normalise_l2
from latentcheck.checkers.study.experiment import mean_baselines
from latentcheck.checkers.study.train import TrainConfig, densify, evaluate_multdae, train_autorec, train_multdae
from latentcheck.theorems import Encoder
from latentcheck.theorems.errors import InvalidArgument
from latentcheck import load_encoder


@pytest.fixture(scope="module")
def split():
    return liang_split(synthetic_ratings(n_users=400, n_items=150, seed=1))


def test_multdae_dims_and_encoder_layers():
    m = MultDAE(n_items=50, hidden=(20, 8), latent="Max(0, t - 1)")
    assert m.dims == (50, 20, 8, 20, 50)
    p = m.init(jax.random.PRNGKey(0))
    assert [W.shape for W, _ in p] == [(50, 20), (20, 8), (8, 20), (20, 50)]
    enc = m.encoder(p)
    assert (enc.n, enc.m) == (50, 8)
    assert [layer.activation.name for layer in enc.layers] == ["tanh", "Max(0, t - 1)"]
    x = (np.random.default_rng(0).random((4, 50)) < 0.2).astype(np.float32)
    xn = np.asarray(normalise_l2(jnp.asarray(x)))
    assert np.allclose(np.asarray(m.encode(p, xn)), enc(xn, dtype=np.float32), atol=1e-5)


def test_multdae_loss_by_hand():
    m = MultDAE(n_items=3, hidden=(2,), latent="identity", lam=0.5)
    p = m.init(jax.random.PRNGKey(1))
    x = jnp.array([[1.0, 0.0, 1.0]])
    logits = np.asarray(m.apply(p, x))[0]
    logp = logits - np.log(np.sum(np.exp(logits)))
    reg = sum(float(np.sum(np.asarray(W) ** 2)) for W, _ in p)
    expected = -(logp[0] + logp[2]) + 0.5 * reg
    assert float(m.loss(p, x, 1.0, None)) == pytest.approx(expected, rel=1e-5)


def test_coo_loss_equals_dense_loss():
    m = MultDAE(n_items=7, hidden=(5, 3), latent="sigmoid", lam=0.1)
    p = m.init(jax.random.PRNGKey(2))
    rows = np.array([0, 0, 1, 2, 2, 2, 3, 3], dtype=np.int32)  # 3 = padding for batch_size 3
    cols = np.array([1, 4, 0, 2, 3, 6, 5, 0], dtype=np.int32)
    vals = np.array([1, 1, 1, 1, 1, 1, 7, 7], dtype=np.float32)
    x = densify(jnp.asarray(rows), jnp.asarray(cols), jnp.asarray(vals), 3, 7)
    dense = float(m.loss(p, x, 3.0, None))
    coo = float(m.loss_coo(p, jnp.asarray(rows), jnp.asarray(cols), jnp.asarray(vals), 3.0, None, 3))
    assert coo == pytest.approx(dense, rel=1e-5)


def test_bad_specs_are_invalid_arguments():
    with pytest.raises(InvalidArgument):
        MultDAE(n_items=10, hidden=(0,))
    with pytest.raises(InvalidArgument):
        MultDAE(n_items=10, dropout=1.0)
    with pytest.raises(InvalidArgument):
        MultDAE(n_items=10, latent="no_such_activation")
    with pytest.raises(InvalidArgument):
        TrainConfig(epochs=0)


def test_densify_drops_padding():
    x = densify(jnp.array([0, 1, 2, 2]), jnp.array([1, 0, 2, 0]), jnp.array([1.0, 2.0, 9.0, 9.0]), 2, 3)
    assert np.asarray(x).tolist() == [[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]]


def test_multdae_trains_and_beats_popularity(split):
    model = MultDAE(n_items=split.n_items, hidden=(32,), latent="tanh")
    res = train_multdae(model, split, TrainConfig(epochs=30, batch_size=64, lr=3e-3, eval_every=5, seed=0))
    pop = {k: float(np.nanmean(v)) for k, v in popularity_baseline(split).items()}
    assert res.test["NDCG@100"] > pop["NDCG@100"] + 0.05
    assert res.test["Recall@20"] > pop["Recall@20"] + 0.05
    assert 1 <= res.best_epoch <= 30 and len(res.epoch_seconds) == 30
    # The device top-k path agrees with dense numpy scoring (fold-in masked).
    x = split.test_fold_in.to_dense()
    logits = np.array(model.apply(res.params, jnp.asarray(x)))
    logits[x > 0] = -np.inf
    dense = ndcg_at_k(logits, split.test_holdout, 100)
    fast = evaluate_multdae(model, res.params, split.test_fold_in, split.test_holdout)["NDCG@100"]
    assert np.allclose(np.nan_to_num(dense), np.nan_to_num(fast), atol=1e-6)


def test_training_is_deterministic(split):
    model = MultDAE(n_items=split.n_items, hidden=(16,), latent="sigmoid")
    cfg = TrainConfig(epochs=3, batch_size=100, seed=7)
    a, b = train_multdae(model, split, cfg), train_multdae(model, split, cfg)
    assert a.test == b.test
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]


def test_encoder_roundtrips_through_npz(tmp_path, split):
    model = MultDAE(n_items=split.n_items, hidden=(12,), latent="softplus")
    params = model.init(jax.random.PRNGKey(3))
    enc = model.encoder(params)
    path = tmp_path / "enc.npz"
    save_encoder(path, enc, normalise="l2", rows="users", values="binary", input_ids=split.item_ids, threshold=3.5)
    back = load_encoder(path)
    assert back.activation.name == "softplus" and back.sizes == enc.sizes
    x = np.random.default_rng(0).random((3, split.n_items))
    assert np.array_equal(back(x), enc(x))
    meta = read_input_meta(path)
    assert meta["normalise"] == "l2" and meta["rows"] == "users" and np.array_equal(meta["input_ids"], split.item_ids)
    with np.load(path, allow_pickle=False) as data:
        assert data["W0"].shape == (12, split.n_items)  # (out, in)


def test_autorec_trains_and_beats_item_mean():
    r = synthetic_ratings(n_users=400, n_items=150, seed=1)
    s = rating_split(r, seed=0)
    model = AutoRec(n_users=s.train.n_cols, hidden=64, latent="sigmoid", output="identity", lam=1.0)
    res = train_autorec(model, s, TrainConfig(epochs=150, batch_size=256, lr=1e-2, eval_every=5))
    _, base = mean_baselines(s)
    assert res.test["RMSE"] < base - 0.1
    enc = model.encoder(res.params)
    assert (enc.n, enc.m) == (s.train.n_cols, 64) and enc.activation.name == "sigmoid"


def test_mean_baselines_by_hand():
    from latentcheck.checkers.study.data import RatingSplit, csr_from_coo

    # Items 0 and 1 have training ratings; item 2 (the last row) has none.
    train = csr_from_coo(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([4.0, 2.0, 5.0]), (3, 2))
    test = csr_from_coo(np.array([0, 2]), np.array([0, 1]), np.array([3.0, 1.0]), (3, 2))
    split = RatingSplit(train, train, test, np.arange(3), np.arange(2))
    mu = (4 + 2 + 5) / 3
    g, i = mean_baselines(split)
    assert g == pytest.approx(np.sqrt(((3 - mu) ** 2 + (1 - mu) ** 2) / 2))
    assert i == pytest.approx(np.sqrt(((3 - 3.0) ** 2 + (1 - mu) ** 2) / 2))  # item 0 mean 3, item 2 unseen -> mu
