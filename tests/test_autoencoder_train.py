"""Early stopping, vmapped seeds and Mult-VAE."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentcheck.checkers.autoencoder.data import liang_split, synthetic_ratings
from latentcheck.checkers.autoencoder.ease import popularity_baseline
from latentcheck.checkers.autoencoder.models import MultDAE, MultVAE
from latentcheck.checkers.autoencoder.train import TrainConfig, train_multdae, train_multdae_seeds
from latentcheck.theorems.errors import InvalidArgument


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


def test_trials_are_the_same_for_every_activation_and_seeded():
    from latentcheck.checkers.autoencoder.study_implicit import make_trials

    grid = make_trials((1e-3, 3e-3), (0.0, 0.01), (0.5,), "grid", 0)
    assert grid == [{"lr": 1e-3, "lam": 0.0, "dropout": 0.5}, {"lr": 1e-3, "lam": 0.01, "dropout": 0.5},
                    {"lr": 3e-3, "lam": 0.0, "dropout": 0.5}, {"lr": 3e-3, "lam": 0.01, "dropout": 0.5}]
    a = make_trials((1e-4, 1e-2), (0.0, 1e-4, 1e-2), (0.2, 0.6), "random:20", 7)
    assert a == make_trials((1e-4, 1e-2), (0.0, 1e-4, 1e-2), (0.2, 0.6), "random:20", 7) and len(a) == 20
    assert a != make_trials((1e-4, 1e-2), (0.0, 1e-4, 1e-2), (0.2, 0.6), "random:20", 8)
    assert all(1e-4 <= t["lr"] <= 1e-2 and (t["lam"] == 0 or 1e-4 <= t["lam"] <= 1e-2) and 0.2 <= t["dropout"] <= 0.6 for t in a)
    assert any(t["lam"] == 0 for t in a) and any(t["lam"] > 0 for t in a)
    for bad in ("random:0", "random:x", "bayes"):
        with pytest.raises(InvalidArgument):
            make_trials((1e-3,), (0.0,), (0.5,), bad, 0)


def test_split_cache_never_serves_another_dataset():
    from latentcheck.checkers.autoencoder.study_implicit import task_split

    sp = {"threshold": 3.5, "min_user_items": 5, "heldout": 0.1, "seed": 1}
    for seed in range(3):  # fresh objects, possibly at a freed object's address
        r = synthetic_ratings(n_users=100 + 10 * seed, n_items=40, seed=seed)
        assert task_split(r, sp).meta["users_after_filter"] == liang_split(r, seed=1).meta["users_after_filter"]


def _fake_report(shift_sigmoid: float, capped: bool = False):
    """Runs of tanh/relu/sigmoid on 2 splits x 3 seeds with hand-set accuracies (no training)."""
    from latentcheck.checkers.autoencoder.study_implicit import AUDIT_KEYS, conclusion, summarise

    rng = np.random.default_rng(0)
    runs, per_user = [], {}
    for a, base in (("tanh", 0.47), ("relu", 0.47), ("sigmoid", 0.47 + shift_sigmoid)):
        for sp in (1, 2):
            for seed in (0, 1, 2):
                users = base + rng.normal(0, 0.05, 50)
                per_user[(a, sp, seed)] = {"NDCG@100": users}
                runs.append({"activation": a, "split_seed": sp, "seed": seed, "hyper": {"lr": 1e-3, "lam": 0.0, "dropout": 0.5},
                             "best_epoch": 5, "best_step": 10, "steps": 20, "stop_reason": "cap" if capped and a == "relu" else "patience",
                             "test": {"NDCG@100": float(users.mean())}, "val": {"NDCG@100": 0.4},
                             "audit": {k: 0.0 for k in AUDIT_KEYS} | {"p1": True, "certified_p3": 0, "certified_p2": 0}})
    summary = summarise(runs, per_user, ["tanh", "relu", "sigmoid"], ["NDCG@100"], "tanh", {a: "x" for a in ("tanh", "relu", "sigmoid")})
    summary["capped"] = {"tuning": [], "final": [r for r in runs if r["stop_reason"] == "cap"], "n_tuning_runs": 0, "n_final_runs": len(runs)}
    meta = {"reference_activation": "tanh", "split_seeds": [1, 2], "train_config": {"patience_steps": 100},
            "protocol": {"source": "hand-made", "test_users": 50}, "tuning": {"trials": [{}], "search": "grid"}}
    report = {"summary": summary, "meta": meta, "runs": runs}
    return conclusion(report, synthetic=False)


def test_conclusion_supports_only_what_the_tests_show():
    big = _fake_report(-0.10)
    assert any(s.startswith("`sigmoid` is less accurate than `tanh`") for s in big["supported"])
    assert any("`sigmoid` is the least accurate" in s for s in big["supported"])
    assert not any("`relu` is" in s for s in big["supported"])  # relu equals tanh by construction
    assert any("`relu` and `tanh`" in s for s in big["not_supported"])
    none = _fake_report(0.0)  # no real differences: nothing supported, the old headline not supported
    assert none["supported"] == [] and any("least accurate" in s for s in none["not_supported"])
    capped = _fake_report(-0.10, capped=True)
    assert any("6 of 18 final runs" in c and "cap" in c for c in capped["caveats"])
    assert any("No run stopped at the cap" in c for c in big["caveats"])
