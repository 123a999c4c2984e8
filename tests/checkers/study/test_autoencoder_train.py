"""Early stopping, vmapped seeds and Mult-VAE."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentcheck.checkers.study.data import liang_split, synthetic_ratings
from latentcheck.checkers.study.ease import popularity_baseline
from latentcheck.checkers.study.models import MultDAE, MultVAE
from latentcheck.checkers.study.train import TrainConfig, train_multdae, train_multdae_seeds
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
    from latentcheck.checkers.study.implicit import make_trials

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
    from latentcheck.checkers.study.implicit import task_split

    sp = {"threshold": 3.5, "min_user_items": 5, "heldout": 0.1, "seed": 1}
    for seed in range(3):  # fresh objects, possibly at a freed object's address
        r = synthetic_ratings(n_users=100 + 10 * seed, n_items=40, seed=seed)
        assert task_split(r, sp).meta["users_after_filter"] == liang_split(r, seed=1).meta["users_after_filter"]


def _fake_report(shift_sigmoid: float, capped: bool = False):
    """Runs of tanh/relu/sigmoid on 2 splits x 3 seeds with hand-set accuracies (no training)."""
    from latentcheck.checkers.study.implicit import AUDIT_KEYS, conclusion, summarise

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


# --------------------------------------------------------------------------- issue 22: sparse first layer, epochs per call


def _coo_batch(n_items: int, batch: int, seed: int):
    """A padded COO batch (rows == batch are padding) and its float64 dense matrix, built here without the trainer."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for r in range(batch):
        items = np.sort(rng.choice(n_items, size=int(rng.integers(1, 8)), replace=False))
        rows += [r] * items.size
        cols += items.tolist()
    pad = 5
    rows = np.array(rows + [batch] * pad, dtype=np.int32)
    cols = np.array(cols + [0] * pad, dtype=np.int32)
    vals = np.array([1.0] * (rows.size - pad) + [0.0] * pad, dtype=np.float32)
    dense = np.zeros((batch, n_items))
    dense[rows[:-pad], cols[:-pad]] = 1.0
    return rows, cols, vals, dense


def test_sparse_first_layer_is_x_times_w_plus_b():
    from latentcheck.checkers.study.models import coo_first_layer

    m = MultDAE(n_items=30, hidden=(6,))
    W, b = m.init(jax.random.PRNGKey(0))[0]
    rows, cols, vals, dense = _coo_batch(30, 4, 0)
    # Independent float64 reference: rows L2-normalised, then x @ W + b.
    x = dense / np.linalg.norm(dense, axis=1, keepdims=True)
    want = x @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64)
    for sparse in (False, True):
        h, _ = coo_first_layer((W, b), jnp.asarray(rows), jnp.asarray(cols), jnp.asarray(vals), None, 0.5, 4, 30, sparse)
        np.testing.assert_allclose(np.asarray(h, dtype=np.float64), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["dae", "vae"])
def test_sparse_loss_and_gradients_equal_dense_with_dropout(kind):
    model = MultDAE(n_items=40, hidden=(12, 5), lam=0.01) if kind == "dae" else MultVAE(n_items=40, hidden=(12, 5), lam=0.01)
    params = model.init(jax.random.PRNGKey(1))
    rows, cols, vals = (jnp.asarray(a) for a in _coo_batch(40, 6, 1)[:3])
    key = jax.random.PRNGKey(7)  # the same key: the same dropout mask on the same entries in both forms
    f = lambda sparse: jax.value_and_grad(model.train_loss)(params, rows, cols, vals, 6.0, key, 6, 3, sparse)  # noqa: E731
    (ld, gd), (ls, gs) = f(False), f(True)
    assert float(ls) == pytest.approx(float(ld), rel=1e-5)
    for a, b in zip(jax.tree.leaves(gd), jax.tree.leaves(gs)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-6)
    # ... and dropout is on: another key gives another loss.
    assert float(model.train_loss(params, rows, cols, vals, 6.0, jax.random.PRNGKey(8), 6, 3, True)) != pytest.approx(float(ls), rel=1e-6)


def test_sparse_evaluation_ranks_like_dense_and_masks_fold_in():
    from latentcheck.checkers.study.train import _make_topk

    m = MultDAE(n_items=50, hidden=(9,))
    p = m.init(jax.random.PRNGKey(2))
    rows, cols, vals, dense = _coo_batch(50, 5, 2)
    args = (p, jnp.asarray(rows), jnp.asarray(cols), jnp.asarray(vals))
    top_d, top_s = np.asarray(_make_topk(m, 5, 20, False)(*args)), np.asarray(_make_topk(m, 5, 20, True)(*args))
    assert np.array_equal(top_d, top_s)
    for u in range(5):
        assert not set(np.flatnonzero(dense[u])) & set(top_s[u].tolist())


def test_sparse_training_equals_dense_within_float(split):
    model = MultDAE(n_items=split.n_items, hidden=(16,), latent="sigmoid")
    runs = {il: train_multdae(model, split, TrainConfig(epochs=4, batch_size=64, lr=3e-3, eval_every=2, input_layer=il)) for il in ("dense", "sparse")}
    d, s = runs["dense"], runs["sparse"]
    for (Wd, bd), (Ws, bs) in zip(d.params, s.params):
        np.testing.assert_allclose(np.asarray(Ws), np.asarray(Wd), atol=1e-4)
    assert d.best_epoch == s.best_epoch
    for k, v in d.test.items():
        assert s.test[k] == pytest.approx(v, abs=1e-3)


def test_several_epochs_per_call_give_the_same_bits(split, monkeypatch):
    """The default (dense) path: epochs up to each validation in one call equal one call per epoch, bit for bit."""
    import latentcheck.checkers.study.train as train

    model = MultDAE(n_items=split.n_items, hidden=(16,), latent="tanh", lam=0.01)
    cfg = TrainConfig(epochs=8, batch_size=64, lr=3e-3, eval_every=3, patience=40)
    chunked = train_multdae_seeds(model, split, cfg, [0, 4])
    monkeypatch.setattr(train, "CHUNK_BYTES", 0)  # every epoch its own call, as before issue 22
    per_epoch = train_multdae_seeds(model, split, cfg, [0, 4])
    for a, b in zip(chunked, per_epoch):
        for (Wa, ba), (Wb, bb) in zip(a.params, b.params):
            assert np.array_equal(np.asarray(Wa), np.asarray(Wb)) and np.array_equal(np.asarray(ba), np.asarray(bb))
        assert a.history == [h | {"seconds": ha["seconds"]} for h, ha in zip(b.history, a.history)]
        assert a.test == b.test and (a.best_epoch, a.steps, a.stop_reason) == (b.best_epoch, b.steps, b.stop_reason)
        assert [h["epoch"] for h in a.history] == [3, 6, 8]
    # The check can fail: another seed's run differs.
    assert not np.array_equal(np.asarray(chunked[0].params[0][0]), np.asarray(chunked[1].params[0][0]))


def test_epoch_groups_split_at_length_changes_and_byte_cap(monkeypatch):
    import latentcheck.checkers.study.train as train

    assert train._epoch_groups([8, 8, 16, 16, 8], [1] * 5) == [(0, 2), (2, 4), (4, 5)]
    monkeypatch.setattr(train, "CHUNK_BYTES", 2)
    assert train._epoch_groups([8] * 5, [1] * 5) == [(0, 2), (2, 4), (4, 5)]
    assert train._next_validation(0, TrainConfig(epochs=7, eval_every=3)) == 3
    assert train._next_validation(6, TrainConfig(epochs=7, eval_every=3)) == 7


def test_input_layer_choice():
    from latentcheck.checkers.study.data import CSR
    from latentcheck.checkers.study.train import resolve_input_layer, sparse_input_wins

    assert not sparse_input_wins(1417, 44358 / (750 * 1417))  # ML-100K: dense measured as fast
    assert sparse_input_wins(15385, 74254 / (1501 * 15385))  # Last.fm: sparse measured faster
    with pytest.raises(InvalidArgument):
        TrainConfig(input_layer="embedding")
    wide = CSR(np.array([0, 2, 3]), np.array([5, 900, 4000], dtype=np.int32), np.ones(3, np.float32), (2, 5000))
    assert resolve_input_layer(TrainConfig(input_layer="auto"), wide)
    assert not resolve_input_layer(TrainConfig(), wide)  # the default stays dense
    assert resolve_input_layer(TrainConfig(input_layer="sparse"), wide)
