"""Seconds per Mult-DAE training epoch on synthetic data (sparse rows on the host, dense batches on the device).

Usage::

    python benchmarks/train_speed.py                 # small synthetic sets, this machine
    python benchmarks/train_speed.py --ml20m         # ML-20M-shaped: 136,700 users, 20,000 items, 10M interactions
    python benchmarks/train_speed.py --vmap-seeds 5  # 5 seeds as one vmapped program vs 5 sequential runs

For each data set it reports, for the real trainer's epoch
(:func:`latentcheck.checkers.autoencoder.train.run_epoch`: host shuffling and batch
cutting, padded COO transfer, on-device densification, one jitted
``lax.scan`` of donated forward/backward/Adam steps): seconds per epoch
(mean of the epochs after the first, which compiles), the host's share
(cutting and padding an epoch of batches), and, as a reference (the
issue's yardstick), the time of one jitted dense Mult-DAE step (dense
multinomial loss on a batch already dense on the device) times the number
of steps; the real trainer can beat it, since it never forms the dense
loss. It names the device JAX used. Writes
``benchmarks/results/train_speed.json``. Not run in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def shaped_synthetic(n_users: int, n_items: int, n_interactions: int, seed: int = 0):
    """A popularity-skewed implicit matrix of about ``n_interactions`` ones, built directly as CSR (fast)."""
    from latentcheck.checkers.autoencoder.data import CSR

    rng = np.random.default_rng(seed)
    mean = n_interactions / n_users
    counts = np.clip(np.round(rng.lognormal(np.log(mean) - 0.5, 1.0, n_users)), 5, n_items // 4).astype(np.int64)
    counts = np.maximum(5, np.round(counts * n_interactions / counts.sum())).astype(np.int64)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    pop /= pop.sum()
    items = rng.choice(n_items, size=int(counts.sum()), p=pop)
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    key = np.unique(users * n_items + items)
    users, items = key // n_items, key % n_items
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    return CSR(indptr, items.astype(np.int32), np.ones(items.size, np.float32), (n_users, n_items))


def measure(csr, hidden, batch_size: int, epochs: int, seed: int = 0) -> dict:
    import jax
    import jax.numpy as jnp
    import optax

    from latentcheck.checkers.autoencoder.models import MultDAE
    from latentcheck.checkers.autoencoder.train import BatchFeeder, make_multdae_epoch, make_multdae_step, run_epoch

    model = MultDAE(n_items=csr.n_cols, hidden=tuple(hidden), latent="tanh")
    key = jax.random.PRNGKey(seed)
    params = model.init(key)
    opt = optax.adam(1e-3)
    state = opt.init(params)
    bs = min(batch_size, csr.n_rows)
    step = make_multdae_step(model, opt, bs)
    epoch_fn = make_multdae_epoch(model, opt, bs)
    feeder = BatchFeeder(csr, bs)
    rng = np.random.default_rng(seed)
    epoch_s, host_s = [], []
    n_steps = -(-csr.n_rows // bs)
    step_no = 0
    for ep in range(epochs):
        t0 = time.perf_counter()
        params, state, losses, step_no = run_epoch(params, state, feeder, rng, step, epoch_fn, key, step_no)
        epoch_s.append(time.perf_counter() - t0)
        h0 = time.perf_counter()  # the host's share: cutting and padding one epoch of batches
        for idx in feeder.epoch(np.random.default_rng(ep)):
            feeder.batch(idx)
        host_s.append(time.perf_counter() - h0)
    # Reference: one jitted dense step on a batch already dense on the device.
    import functools

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def dense_step(p, s, x, k):
        loss, g = jax.value_and_grad(model.loss)(p, x, jnp.float32(bs), k)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    x = jnp.asarray(csr.take_rows(np.arange(bs)).to_dense())
    params, state, l = dense_step(params, state, x, key)
    float(l)
    reps = 20
    t0 = time.perf_counter()
    for r in range(reps):
        params, state, l = dense_step(params, state, x, jax.random.fold_in(key, r))
    float(l)
    dense_ms = (time.perf_counter() - t0) / reps * 1000
    rest = epoch_s[1:] or epoch_s
    return {
        "users": csr.n_rows, "items": csr.n_cols, "interactions": csr.nnz, "dims": list(model.dims), "batch_size": bs,
        "steps_per_epoch": n_steps, "epochs_timed": len(rest),
        "seconds_per_epoch": float(np.mean(rest)), "first_epoch_seconds": epoch_s[0],
        "host_seconds_per_epoch": float(np.mean(host_s[1:] or host_s)),
        "dense_step_ms": dense_ms, "dense_reference_seconds_per_epoch": dense_ms * n_steps / 1000,
    }


def measure_seeds(csr, hidden, batch_size: int, epochs: int, n_seeds: int) -> dict:
    """Seconds per epoch: ``n_seeds`` seeds as one vmapped program against ``n_seeds`` one-seed programs run one after another.

    Both use the study's trainer pieces (:func:`make_seeds_epoch` over stacked
    parameters, host batches from :func:`_stacked_epoch`); the first epoch of
    each (compilation) is not timed.
    """
    import jax
    import jax.numpy as jnp
    import optax

    from latentcheck.checkers.autoencoder.models import MultDAE
    from latentcheck.checkers.autoencoder.train import BatchFeeder, _stacked_epoch, make_seeds_epoch

    model = MultDAE(n_items=csr.n_cols, hidden=tuple(hidden), latent="tanh")
    bs = min(batch_size, csr.n_rows)
    opt = optax.adam(1e-3)
    fn = make_seeds_epoch(model, opt, bs)
    feeder = BatchFeeder(csr, bs)

    def run(seeds: list[int]) -> list[float]:
        keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
        params = jax.vmap(model.init)(keys)
        state = jax.vmap(opt.init)(params)
        rngs = [np.random.default_rng(s) for s in seeds]
        times, step = [], 0
        for _ in range(epochs):
            t0 = time.perf_counter()
            rows, cols, vals, n_real = _stacked_epoch(feeder, rngs)
            nos = np.arange(step, step + n_real.size, dtype=np.uint32)
            params, state, losses = fn(params, state, rows, cols, vals, n_real, keys, nos)
            losses.block_until_ready()
            step += int(n_real.size)
            times.append(time.perf_counter() - t0)
        return times[1:]

    together = run(list(range(n_seeds)))
    alone = [run([s]) for s in range(n_seeds)]
    t_v = float(np.mean(together))
    t_s = float(sum(np.mean(a) for a in alone))
    return {"users": csr.n_rows, "items": csr.n_cols, "interactions": csr.nnz, "dims": list(model.dims), "batch_size": bs,
            "seeds": n_seeds, "epochs_timed": epochs - 1, "vmapped_seconds_per_epoch": t_v,
            "sequential_seconds_per_epoch": t_s, "one_seed_seconds_per_epoch": float(np.mean(alone[0])), "speedup": t_s / t_v}


def main() -> None:
    p = argparse.ArgumentParser(description="Mult-DAE seconds per epoch on synthetic data")
    p.add_argument("--ml20m", action="store_true", help="also the ML-20M-shaped set (136,700 x 20,000, 10M interactions)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--out", default=os.path.join(HERE, "results", "train_speed.json"))
    p.add_argument("--vmap-seeds", type=int, default=0, metavar="S",
                   help="only the vmapped-seeds row: S seeds as one program vs S sequential runs (writes train_speed_seeds.json)")
    args = p.parse_args()
    if args.vmap_seeds:
        return seeds_row(args)

    import jax

    from latentcheck.checkers.autoencoder.data import liang_split, synthetic_ratings
    from latentcheck.checkers.autoencoder.study import environment

    env = environment()
    sets = [
        ("synthetic default (1000 users x 400 items), I-200-I", liang_split(synthetic_ratings()).train, (200,)),
        ("synthetic ML-1M-shaped (6,040 x 3,700, 1M), I-600-200-600-I", shaped_synthetic(6040, 3700, 1_000_000), (600, 200)),
    ]
    if args.ml20m:
        sets.append(("synthetic ML-20M-shaped (136,700 x 20,000, 10M), I-600-200-600-I", shaped_synthetic(136_700, 20_000, 10_000_000), (600, 200)))
    results = []
    for name, csr, hidden in sets:
        r = measure(csr, hidden, args.batch_size, args.epochs + 1)
        r["name"] = name
        results.append(r)
        print(f"{name}: {r['seconds_per_epoch']:.3f} s/epoch ({r['steps_per_epoch']} steps, host {r['host_seconds_per_epoch']:.3f} s); "
              f"dense-step reference {r['dense_reference_seconds_per_epoch']:.3f} s/epoch ({r['dense_step_ms']:.2f} ms/step)", flush=True)
    out = {"device": env["device"], "jax_devices": [str(d) for d in jax.devices()], "machine": env["machine"], "versions": env["versions"], "results": results}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=2)
    print(f"device {env['device']}; wrote {args.out}")


def seeds_row(args: argparse.Namespace) -> None:
    import jax

    from latentcheck.checkers.autoencoder.study import environment

    env = environment()
    csr = shaped_synthetic(3000, 1500, 150_000)
    r = measure_seeds(csr, (200,), args.batch_size, args.epochs + 1, args.vmap_seeds)
    r["name"] = "synthetic 3,000 users x 1,500 items, 150k interactions, I-200-I"
    print(f"{r['name']}: {r['seeds']} seeds vmapped {r['vmapped_seconds_per_epoch']:.3f} s/epoch; {r['seeds']} sequential runs "
          f"{r['sequential_seconds_per_epoch']:.3f} s/epoch (one seed {r['one_seed_seconds_per_epoch']:.3f}); speed-up {r['speedup']:.2f}x", flush=True)
    out = os.path.join(os.path.dirname(args.out), "train_speed_seeds.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    load = os.getloadavg()
    with open(out, "w") as fh:
        json.dump({"device": env["device"], "jax_devices": [str(d) for d in jax.devices()], "machine": env["machine"],
                   "load_average_1_5_15": list(load), "versions": env["versions"], "results": [r]}, fh, indent=2)
    print(f"device {env['device']}; machine {env['machine']}; load {load[0]:.2f}; wrote {out}")


if __name__ == "__main__":
    main()
