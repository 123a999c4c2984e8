"""Early stopping, vmapped seeds and Mult-VAE."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from checkers.autoencoder.data import liang_split, synthetic_ratings
from checkers.autoencoder.ease import popularity_baseline
from checkers.autoencoder.models import MultDAE, MultVAE
from checkers.autoencoder.train import TrainConfig, train_multdae, train_multdae_seeds
from theorems.errors import InvalidArgument


@pytest.fixture(scope="module")
def split():
    return liang_split(synthetic_ratings(n_users=300, n_items=120, seed=3))


def test_vmapped_seeds_equal_separate_runs(split):
    model = MultDAE(n_items=split.n_items, hidden=(16,), latent="sigmoid")
    cfg = TrainConfig(epochs=4, batch_size=64, lr=3e-3, eval_every=2)
    both = train_multdae_seeds(model, split, cfg, [3, 5])
    for res, seed in zip(both, (3, 5)):
        alone = train_multdae(model, split, TrainConfig(epochs=4, batch_size=64, lr=3e-3, eval_every=2, seed=seed))
        np.testing.assert_allclose([h["loss"] for h in res.history], [h["loss"] for h in alone.history], rtol=1e-4)
        for (Wa, ba), (Wb, bb) in zip(res.params, alone.params):
            np.testing.assert_allclose(np.asarray(Wa), np.asarray(Wb), atol=2e-5)
    # Different seeds really are different runs.
    assert not np.allclose(np.asarray(both[0].params[0][0]), np.asarray(both[1].params[0][0]))


def test_stop_reasons(split):
    model = MultDAE(n_items=split.n_items, hidden=(8,), latent="tanh")
    steps_per_epoch = -(-split.train.n_rows // 64)
    fixed = train_multdae(model, split, TrainConfig(epochs=3, batch_size=64, eval_every=1))
    assert fixed.stop_reason == "epochs" and fixed.steps == 3 * steps_per_epoch
    capped = train_multdae(model, split, TrainConfig(epochs=3, batch_size=64, eval_every=1, patience=10_000))
    assert capped.stop_reason == "cap" and capped.steps == 3 * steps_per_epoch
    # lr so small nothing improves after the first validation: patience of one epoch stops at epoch 2 or soon after.
    early = train_multdae(model, split, TrainConfig(epochs=200, batch_size=64, eval_every=1, lr=1e-9, patience=steps_per_epoch))
    assert early.stop_reason == "patience"
    assert early.steps - early.best_step >= steps_per_epoch
    assert early.steps < 200 * steps_per_epoch and len(early.epoch_seconds) == early.steps // steps_per_epoch
    # The kept parameters are the best validation point's: re-evaluating them gives the recorded best score.
    best = max(h["val_NDCG@100"] for h in early.history)
    assert early.val["NDCG@100"] == pytest.approx(best, abs=1e-6)


def test_tuning_runs_do_not_touch_test_users(split):
    model = MultDAE(n_items=split.n_items, hidden=(8,))
    res = train_multdae(model, split, TrainConfig(epochs=1, batch_size=64), test=False)
    assert res.test == {} and res.test_per_user == {} and "NDCG@100" in res.val
    with pytest.raises(InvalidArgument):
        TrainConfig(patience=0)


def _np_mean_logvar(params, x, m, act):
    h = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)
    W, b = (np.asarray(a, dtype=np.float64) for a in params[0])
    out = h @ W + b
    return act(out[:, :m]), out[:, m:]


def test_multvae_mean_path_kl_and_encoder():
    vae = MultVAE(n_items=9, hidden=(3,), latent="relu", dropout=0.0, anneal_cap=0.2, total_anneal_steps=100)
    params = vae.init(jax.random.PRNGKey(0))
    assert vae.dims == (9, 6, 3, 9) and [W.shape for W, _ in params] == [(9, 6), (3, 9)]
    rows = np.array([0, 0, 1, 1, 1, 2], dtype=np.int32)  # row 2 = padding for batch 2
    cols = np.array([1, 4, 0, 2, 8, 3], dtype=np.int32)
    vals = np.ones(6, dtype=np.float32)
    x = np.zeros((2, 9))
    x[rows[:5], cols[:5]] = 1.0
    mu, logvar = _np_mean_logvar(params, x, 3, lambda t: np.maximum(t, 0.0))
    kl = np.sum(0.5 * (-logvar + np.exp(logvar) + mu ** 2 - 1.0)) / 2.0
    key = jax.random.PRNGKey(5)
    loss = lambda step: float(vae.train_loss(params, jnp.asarray(rows), jnp.asarray(cols), jnp.asarray(vals), 2.0, key, 2, step))  # noqa: E731
    assert loss(10) - loss(0) == pytest.approx(0.1 * kl, rel=1e-4, abs=1e-6)
    assert loss(1000) - loss(0) == pytest.approx(0.2 * kl, rel=1e-4, abs=1e-6)  # capped at 0.2
    # The exported encoder is the mean path, relu applied before sampling.
    enc = vae.encoder(params)
    assert (enc.n, enc.m) == (9, 3) and enc.activation.name == "relu"
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(enc(xn), mu, atol=1e-6)
    np.testing.assert_allclose(np.asarray(vae.encode(params, jnp.asarray(xn, dtype=jnp.float32))), mu, atol=1e-5)


def test_multvae_trains_and_beats_popularity(split):
    vae = MultVAE(n_items=split.n_items, hidden=(32,), latent="tanh", total_anneal_steps=200)
    res = train_multdae(vae, split, TrainConfig(epochs=40, batch_size=64, lr=3e-3, eval_every=5))
    pop = {k: float(np.nanmean(v)) for k, v in popularity_baseline(split).items()}
    assert res.test["NDCG@100"] > pop["NDCG@100"] + 0.03
