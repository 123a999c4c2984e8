"""Seconds per Mult-DAE training epoch on synthetic data (sparse rows on the host, dense batches on the device).

Usage::

    python benchmarks/train_speed.py                 # small synthetic sets, this machine
    python benchmarks/train_speed.py --ml20m         # ML-20M-shaped: 136,700 users, 20,000 items, 10M interactions
    python benchmarks/train_speed.py --vmap-seeds 5  # 5 seeds as one vmapped program vs 5 sequential runs
    python benchmarks/train_speed.py --breakdown     # per-epoch breakdown before/after on ML-100K and Last.fm

``--breakdown`` (issue 22) times, on the real data, where an epoch's time
goes, for the trainer as it was ("before": dense first layer, one call per
epoch) and as it is ("after": ``input_layer="auto"``, the epochs up to the
next validation as one call), interleaved repetition by repetition (medians;
wall and CPU seconds; the load average is printed): host batching (shuffle,
cut, pad), the call (dispatch, transfer, the scanned steps, the host sync),
the steps alone (the same scan on batches already on the device), so
dispatch + transfer + sync = call - host batching - steps, and validation (per validation, and per
epoch at the study's ``eval_every``). One batch's step is split into the
forward pass (the loss), the backward pass (value-and-grad minus loss) and
Adam (the whole step minus value-and-grad). Writes
``benchmarks/results/train_speed_breakdown.json``.

For each data set it reports, for the real trainer's epoch
(:func:`latentcheck.checkers.study.train.run_epoch`: host shuffling and batch
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
    from latentcheck.checkers.study.data import CSR

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

    from latentcheck.checkers.study.models import MultDAE
    from latentcheck.checkers.study.train import BatchFeeder, make_multdae_epoch, make_multdae_step, run_epoch

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

    from latentcheck.checkers.study.models import MultDAE
    from latentcheck.checkers.study.train import BatchFeeder, _stacked_epoch, make_seeds_epoch

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


# --------------------------------------------------------------------------- --breakdown (issue 22)


def _timed(fn, reps_out: dict, name: str) -> None:
    """Run ``fn()`` once, appending its wall and CPU seconds to ``reps_out[name]``."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    reps_out.setdefault(name, []).append((time.perf_counter() - t0, time.process_time() - c0))


def _trainer_parts(model, split, bs: int, sparse: bool, chunk: int, eval_every: int):
    """Closures timing one pass of each part of the trainer for one setting (one seed, stacked as the trainer does)."""
    import jax
    import jax.numpy as jnp
    import optax

    from latentcheck.checkers.study.metrics import DEFAULT_METRICS
    from latentcheck.checkers.study.train import BatchFeeder, _evaluate_seeds, _make_topk_seeds, _stacked_epoch, make_seeds_epoch, run_epochs

    opt = optax.adam(1e-3)
    keys = jnp.stack([jax.random.PRNGKey(0)])
    state = {"p": jax.vmap(model.init)(keys)}
    state["o"] = jax.vmap(opt.init)(state["p"])
    fn = make_seeds_epoch(model, opt, bs, sparse)
    feeder = BatchFeeder(split.train, bs)
    rngs = [np.random.default_rng(0)]
    eval_bs = min(bs, max(split.val_fold_in.n_rows, 1))
    topk = _make_topk_seeds(model, eval_bs, max(k for _, k in DEFAULT_METRICS), sparse)
    dev = [jax.device_put(a) for a in _stacked_epoch(feeder, [np.random.default_rng(1)])]
    nos = jnp.arange(dev[3].size, dtype=jnp.uint32)

    def host():
        for _ in range(chunk):
            _stacked_epoch(feeder, rngs)

    def call():
        state["p"], state["o"], _, _ = run_epochs(fn, state["p"], state["o"], feeder, rngs, keys, 0, chunk)

    def steps():
        for _ in range(chunk):
            state["p"], state["o"], losses = fn(state["p"], state["o"], *dev[:3], dev[3], keys, nos)
        losses.block_until_ready()

    def validate():
        _evaluate_seeds(topk, state["p"], split.val_fold_in, split.val_holdout, eval_bs, 1)

    for f in (call, steps, validate):
        f()  # compile
    return {"host": host, "call": call, "steps": steps, "validation": validate}, dev[3].size


def _step_parts(model, split, bs: int, sparse: bool):
    """Closures for one batch: the loss (forward), value-and-grad, and the whole step with Adam."""
    import jax
    import jax.numpy as jnp
    import optax

    from latentcheck.checkers.study.train import BatchFeeder

    opt = optax.adam(1e-3)
    key = jax.random.PRNGKey(0)
    p = model.init(key)
    o = opt.init(p)
    r, c, v, n = (jax.device_put(a) for a in BatchFeeder(split.train, bs).batch(np.arange(min(bs, split.train.n_rows))))
    loss = jax.jit(lambda p: model.loss_coo(p, r, c, v, n, key, bs, sparse))
    vg = jax.jit(lambda p: jax.value_and_grad(model.loss_coo)(p, r, c, v, n, key, bs, sparse))

    def stepf(p, o):
        val, g = jax.value_and_grad(model.loss_coo)(p, r, c, v, n, key, bs, sparse)
        u, o = opt.update(g, o, p)
        return optax.apply_updates(p, u), o, val

    step = jax.jit(stepf, donate_argnums=(0, 1))  # donated, as in the trainer (fresh 4-byte-per-weight buffers cost page faults)
    box = {"p": jax.tree.map(jnp.copy, p), "o": jax.tree.map(jnp.copy, o)}

    def run_step():
        box["p"], box["o"], val = step(box["p"], box["o"])
        val.block_until_ready()

    fns = {"forward": lambda: loss(p).block_until_ready(), "value_and_grad": lambda: jax.block_until_ready(vg(p)), "step": run_step}
    for f in fns.values():
        f()
    return fns


def _medians(reps: dict, scale: dict) -> dict:
    return {k: {"wall": float(np.median([w for w, _ in v])) / scale.get(k, 1), "cpu": float(np.median([c for _, c in v])) / scale.get(k, 1)}
            for k, v in reps.items()}


def breakdown_case(name: str, split, hidden, bs: int, eval_every: int, reps: int) -> dict:
    """Before (dense, one call per epoch) and after (auto input, ``eval_every`` epochs per call), interleaved; seconds per epoch."""
    from latentcheck.checkers.study.models import MultDAE
    from latentcheck.checkers.study.train import TrainConfig, resolve_input_layer

    model = MultDAE(n_items=split.n_items, hidden=tuple(hidden), latent="tanh", lam=0.0)
    bs = min(bs, split.train.n_rows)
    after_sparse = resolve_input_layer(TrainConfig(input_layer="auto"), split.train)
    settings = {"before": (False, 1), "after": (after_sparse, eval_every)}
    parts = {k: _trainer_parts(model, split, bs, sp, ch, eval_every) for k, (sp, ch) in settings.items()}
    steps = {k: _step_parts(model, split, bs, sp) for k, (sp, _) in settings.items()}
    raw: dict = {k: {} for k in settings}
    for _ in range(reps):
        for k in settings:
            for part, f in parts[k][0].items():
                _timed(f, raw[k], part)
            for part, f in steps[k].items():
                _timed(f, raw[k], "one_step_" + part)
    out = {"name": name, "users": split.train.n_rows, "items": split.n_items, "dims": list(model.dims), "batch_size": bs,
           "steps_per_epoch": parts["before"][1], "eval_every": eval_every, "reps": reps}
    for k, (sp, ch) in settings.items():
        m = _medians(raw[k], {"host": ch, "call": ch, "steps": ch})
        # The call = host batching + dispatch/transfer/sync + the steps; what is left after the other two is dispatch (clipped at 0: noise).
        m["dispatch_transfer_sync"] = {u: max(0.0, m["call"][u] - m["host"][u] - m["steps"][u]) for u in ("wall", "cpu")}
        m["validation_per_epoch"] = {u: m["validation"][u] / eval_every for u in ("wall", "cpu")}
        m["epoch_total"] = {u: m["call"][u] + m["validation_per_epoch"][u] for u in ("wall", "cpu")}
        fw, vg, st = (m["one_step_" + x] for x in ("forward", "value_and_grad", "step"))
        m["one_step_split"] = {u: {"forward": fw[u], "backward": max(0.0, vg[u] - fw[u]), "adam": max(0.0, st[u] - vg[u])} for u in ("wall", "cpu")}
        out[k] = {"input_layer": "sparse" if sp else "dense", "epochs_per_call": ch, "seconds": m}
    out["speedup_epoch_total_wall"] = out["before"]["seconds"]["epoch_total"]["wall"] / out["after"]["seconds"]["epoch_total"]["wall"]
    out["speedup_epoch_total_cpu"] = out["before"]["seconds"]["epoch_total"]["cpu"] / out["after"]["seconds"]["epoch_total"]["cpu"]
    return out


def print_breakdown(r: dict) -> None:
    print(f"\n{r['name']}: {r['users']} users x {r['items']} items, {'-'.join(map(str, r['dims']))}, batch {r['batch_size']}, "
          f"{r['steps_per_epoch']} steps/epoch, validation every {r['eval_every']} epochs; ms per epoch, wall (CPU), medians of {r['reps']}")
    rows = [("host batching", "host"), ("call: dispatch+transfer+sync", "dispatch_transfer_sync"), ("call: the steps", "steps"),
            ("validation (per epoch)", "validation_per_epoch"), ("epoch total", "epoch_total")]
    b, a = r["before"], r["after"]
    print(f"  {'':32s} {'before (' + b['input_layer'] + ', 1 epoch/call)':>34s} {'after (' + a['input_layer'] + ', ' + str(a['epochs_per_call']) + ' epochs/call)':>34s}")
    for label, key in rows:
        f = lambda x: f"{x['seconds'][key]['wall'] * 1e3:9.2f} ({x['seconds'][key]['cpu'] * 1e3:8.2f})"  # noqa: E731
        print(f"  {label:32s} {f(b):>34s} {f(a):>34s}")
    for k in ("before", "after"):
        sp = r[k]["seconds"]["one_step_split"]["cpu"]
        print(f"  one step, {k} ({r[k]['input_layer']}), CPU ms: forward {sp['forward'] * 1e3:.2f}, backward {sp['backward'] * 1e3:.2f}, Adam {sp['adam'] * 1e3:.2f}")
    print(f"  epoch total: {r['speedup_epoch_total_wall']:.2f}x faster wall, {r['speedup_epoch_total_cpu']:.2f}x CPU")


def breakdown(args: argparse.Namespace) -> None:
    import jax

    from latentcheck.checkers.study.data import liang_split, load_interactions, load_ratings
    from latentcheck.checkers.study.experiment import environment

    shared = os.path.join(HERE, "..", "..", "shared", "data")
    ml = liang_split(load_ratings(os.path.join(shared, "ml-100k")))
    cases = [("ML-100K, the default study's model", ml, (200,), 500, 5),
             ("ML-100K, the RecBole comparison's model", ml, (600, 64), 64, 1)]
    lf_path = os.path.join(shared, "lastfm-2k", "user_artists.dat")
    if os.path.exists(lf_path):
        lf = liang_split(load_interactions(lf_path, "userID,artistID,weight"), threshold=0)
        cases.append(("Last.fm, the RecBole comparison's model", lf, (600, 64), 64, 1))
    load_before = os.getloadavg()
    results = []
    for name, split, hidden, bs, ev in cases:
        r = breakdown_case(name, split, hidden, bs, ev, args.reps)
        r["load_average_after"] = list(os.getloadavg())
        print_breakdown(r)
        results.append(r)
    env = environment()
    out = {"device": env["device"], "jax_devices": [str(d) for d in jax.devices()], "machine": env["machine"], "versions": env["versions"],
           "load_average_before": list(load_before), "load_average_after": list(os.getloadavg()), "results": results}
    path = os.path.join(os.path.dirname(os.path.abspath(args.out)), "train_speed_breakdown.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    from latentcheck.checkers._io import atomic_write_text

    atomic_write_text(path, json.dumps(out, indent=2) + "\n")
    print(f"device {env['device']}; load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; wrote {path}")


def main() -> None:
    p = argparse.ArgumentParser(description="Mult-DAE seconds per epoch on synthetic data")
    p.add_argument("--ml20m", action="store_true", help="also the ML-20M-shaped set (136,700 x 20,000, 10M interactions)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--out", default=os.path.join(HERE, "results", "train_speed.json"))
    p.add_argument("--breakdown", action="store_true", help="per-epoch breakdown before/after on ML-100K and Last.fm (train_speed_breakdown.json)")
    p.add_argument("--reps", type=int, default=7, help="--breakdown: interleaved repetitions (medians)")
    p.add_argument("--vmap-seeds", type=int, default=0, metavar="S",
                   help="only the vmapped-seeds row: S seeds as one program vs S sequential runs (writes train_speed_seeds.json)")
    args = p.parse_args()
    if args.breakdown:
        return breakdown(args)
    if args.vmap_seeds:
        return seeds_row(args)

    import jax

    from latentcheck.checkers.study.data import liang_split, synthetic_ratings
    from latentcheck.checkers.study.experiment import environment

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

    from latentcheck.checkers.study.experiment import environment

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
