"""latentcheck's Mult-DAE beside RecBole's MultiDAE on the same split and CPU.

Usage (from the repository root, with the project's virtualenv)::

    python benchmarks/peer_recbole.py [--data ../shared/data/ml-100k] [--batch-size 64] [--epochs 20] [--seeds 3]

RecBole (PyPI ``recbole`` 1.2.1) is not a project dependency: the script
creates its own virtualenv under ``benchmarks/.venv-recbole/`` (gitignored)
the first time, with ``torch==2.13.0`` (the CPU build), ``recbole==1.2.1``
and the pins it needs on current Python (numpy 1.26.4, pandas<2.3,
scipy<1.14, scikit-learn<1.6, setuptools<81), and runs RecBole there as a
subprocess with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``.

The split: latentcheck's Liang et al. protocol (ratings > 3.5, users with
>= 5 items, 10% validation and 10% test users, their items split 80/20).
RecBole trains on atomic files of it (under the dataset name ``ml100k``:
RecBole maps ``ml-100k`` to a copy bundled in its package): ``train`` =
training users' rows plus the held-out users' 80% fold-in rows, ``valid`` /
``test`` = the held-out 20% of validation / test users. Both models train
on exactly those rows (RecBole's MultiDAE reads a user's training items as
its input, so held-out users must be in its training set), with the same
sizes ``I -> 600 -> 64 -> 600 -> I`` (tanh throughout, as RecBole builds
it), dropout 0.5, no weight decay, Adam 1e-3, the same batch size and
epochs, validation every epoch on NDCG@100 and the best epoch kept. Both
models' top-100 lists for the test users are scored by latentcheck's metric
code; RecBole's own figures are printed too (its Recall@k divides by the
number of held-out items, not by ``min(k, n)``).

Seconds per training epoch exclude validation and the first epoch (JIT
compilation for latentcheck; warm-up for both): the median of the rest per
seed (robust to other work sharing the CPU), then the mean over seeds; CPU
seconds of each process (all its threads) are reported beside them, since
wall times on a shared machine move with the other work. latentcheck's first
layer is ``--input-layer`` (``auto`` by default: dense on ML-100K, sparse on
Last.fm; ``TrainConfig.input_layer``).

**Last.fm** (``--lastfm PATH``, on by default when
``../shared/data/lastfm-2k/user_artists.dat`` exists; ``--lastfm ''`` skips
it): the same comparison on hetrec-2011's user-artist pairs (every played
pair a positive, the same Liang split: 15,385 artists in the training rows),
with ``--lastfm-epochs`` (5), ``--lastfm-seeds`` (2) and
``--lastfm-threads`` (1,2); a closing table prints one row per data set.

**Mult-VAE** (``--models vae``; both by default): latentcheck's MultVAE beside
RecBole's MultiVAE on the same rows, ``I -> 600 -> 2x64 | 64 -> 600 -> I``
(RecBole: ``mlp_hidden_size [600]``, ``latent_dimension 128``, of which half
is the mean and half the log-variance), tanh hidden layers, dropout 0.5, no
weight decay, Adam 1e-3, the same batch size and epochs, the KL weight
annealed to 0.2 over ``--anneal-steps`` optimiser steps in both (the same
schedule: ``min(0.2, step / steps)``), best validation NDCG@100 kept. One
latentcheck row per ``--vae-activations`` (tanh on the mean path, the
project's reference, and identity, the published model RecBole builds);
RecBole runs once per seed with ``--vae-threads`` torch threads (accuracy
only). "Within noise" is decided per metric by Welch's t interval for the
difference of the means over the seeds (``scipy.stats.ttest_ind``): within
noise when it contains 0. Differences of the two implementations that the
options cannot remove are listed in the JSON (``multvae.differences``).

Writes ``benchmarks/results/peer_recbole.json`` (with ``--models vae`` only,
the Mult-DAE part already in that file is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-recbole")
VPY = os.path.join(VENV, "bin", "python")
PINS = ["numpy==1.26.4", "pandas<2.3", "scipy<1.14", "scikit-learn<1.6", "setuptools<81"]


# --------------------------------------------------------------------------- RecBole side (runs in its venv)


def recbole_worker(cfg_path: str) -> None:
    """Train RecBole's MultiDAE or MultiVAE (``job["model"]``), time its epochs, dump test metrics and top-100 lists (JSON on stdout)."""
    import logging

    import numpy as np
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.data.interaction import Interaction
    from recbole.model.general_recommender import MultiDAE, MultiVAE
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    logging.disable(logging.CRITICAL)
    with open(cfg_path) as fh:
        job = json.load(fh)
    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    name = job.get("model", "MultiDAE")
    model_class = {"MultiDAE": MultiDAE, "MultiVAE": MultiVAE}[name]
    config = Config(model=name, dataset="ml100k", config_dict=job["config"])
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"], config["reproducibility"])
    model = model_class(config, train_data.dataset).to(config["device"])
    trainer = Trainer(config, model)
    times: list[float] = []
    cpu: list[float] = []
    original = trainer._train_epoch

    def timed(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = original(*args, **kwargs)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        return out

    trainer._train_epoch = timed
    t_fit = time.perf_counter()
    trainer.fit(train_data, valid_data, saved=True, show_progress=False, verbose=False)
    fit_seconds = time.perf_counter() - t_fit
    test_result = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    model.eval()
    # Top-100 of every test user, history (training rows) masked, as raw tokens.
    uid_field, iid_field = dataset.uid_field, dataset.iid_field
    test_users = np.unique(test_data._dataset.inter_feat[uid_field].numpy())
    hist_items, _, hist_len = train_data._dataset.history_item_matrix()
    tops = {}
    with torch.no_grad():
        for start in range(0, len(test_users), 256):
            uids = torch.as_tensor(test_users[start : start + 256])
            scores = model.full_sort_predict(Interaction({uid_field: uids})).view(len(uids), -1).clone()
            scores[:, 0] = -float("inf")
            for row, u in enumerate(uids.tolist()):
                h = hist_items[u][: hist_len[u]]
                scores[row, h] = -float("inf")
            top = torch.topk(scores, 100, dim=1).indices.numpy()
            for row, u in enumerate(uids.tolist()):
                tops[str(dataset.id2token(uid_field, u))] = [str(t) for t in dataset.id2token(iid_field, top[row])]
    print(json.dumps({
        "epoch_seconds": times,
        "epoch_cpu_seconds": cpu,
        "fit_seconds": fit_seconds,
        "test_result": {k: float(v) for k, v in dict(test_result).items()},
        "top100": tops,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


# --------------------------------------------------------------------------- orchestration (project venv)


def ensure_venv() -> None:
    """Create benchmarks/.venv-recbole with torch 2.13.0 (CPU), recbole 1.2.1 and pins, once."""
    if os.path.exists(VPY):
        ok = subprocess.run([VPY, "-c", "import recbole, torch"], capture_output=True).returncode == 0
        if ok:
            return
    print(f"creating {VENV} (torch 2.13.0 CPU, recbole 1.2.1); this takes a few minutes", flush=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    pip = [VPY, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["torch==2.13.0"], check=True)
    subprocess.run(pip + ["recbole==1.2.1"], check=True)
    subprocess.run(pip + PINS, check=True)


def write_atomic(split, directory: str) -> None:
    """RecBole atomic files ``ml100k.{train,valid,test}.inter`` (user/item tokens = latentcheck row/column ids)."""
    import numpy as np

    os.makedirs(directory, exist_ok=True)
    n_tr, n_va = split.train.n_rows, split.val_fold_in.n_rows

    def lines(csr, offset):
        rows = np.repeat(np.arange(csr.n_rows), csr.row_lengths()) + offset
        return [f"u{r}\ti{c}\n" for r, c in zip(rows.tolist(), csr.indices.tolist())]

    parts = {
        "train": lines(split.train, 0) + lines(split.val_fold_in, n_tr) + lines(split.test_fold_in, n_tr + n_va),
        "valid": lines(split.val_holdout, n_tr),
        "test": lines(split.test_holdout, n_tr + n_va),
    }
    for name, body in parts.items():
        with open(os.path.join(directory, f"ml100k.{name}.inter"), "w") as fh:
            fh.write("user_id:token\titem_id:token\n")
            fh.writelines(body)


def weak_split(split):
    """The same rows as the RecBole files: held-out users' fold-in rows join training."""
    from latentcheck.checkers.study.data import ImplicitSplit, _vstack

    train = _vstack([split.train, split.val_fold_in, split.test_fold_in])
    return ImplicitSplit(train, split.val_fold_in, split.val_holdout, split.test_fold_in, split.test_holdout,
                         split.item_ids, split.train_users, split.val_users, split.test_users, dict(split.meta))


def recbole_recall(top, heldout, k):
    """RecBole's Recall@k: hits / number of held-out items (no truncation)."""
    import numpy as np

    out = []
    for u in range(heldout.n_rows):
        h = set(heldout.row(u)[0].tolist())
        if h:
            out.append(len(h & set(top[u][:k].tolist())) / len(h))
    return float(np.mean(out))


def run_latentcheck(split, args, seed, kind="dae", latent="tanh", epochs=None):
    import numpy as np

    from latentcheck.checkers.study.models import MultDAE, MultVAE
    from latentcheck.checkers.study.train import TrainConfig, _make_topk, resolve_input_layer, train_multdae

    epochs = epochs or args.epochs

    if kind == "vae":
        model = MultVAE(n_items=split.n_items, hidden=(600, 64), latent=latent, hidden_activation="tanh", dropout=0.5, lam=0.0,
                        anneal_cap=0.2, total_anneal_steps=args.anneal_steps)
    else:
        model = MultDAE(n_items=split.n_items, hidden=(600, 64), latent=latent, hidden_activation="tanh", dropout=0.5, lam=0.0)
    t0 = time.perf_counter()
    cfg = TrainConfig(epochs=epochs, batch_size=args.batch_size, lr=1e-3, seed=seed, eval_every=1, input_layer=args.input_layer)
    res = train_multdae(model, split, cfg)
    fit = time.perf_counter() - t0
    bs = split.test_fold_in.n_rows
    topk = _make_topk(model, bs, 100)
    from latentcheck.checkers.study.train import BatchFeeder

    rows, cols, vals, _ = BatchFeeder(split.test_fold_in, bs).batch(np.arange(bs))
    top = np.asarray(topk(res.params, rows, cols, vals))
    return {"epoch_seconds": res.epoch_seconds, "epoch_cpu_seconds": res.epoch_cpu_seconds, "fit_seconds": fit, "best_epoch": res.best_epoch,
            "top": top, "input_layer": "sparse" if resolve_input_layer(cfg, split.train) else "dense"}


def recbole_config(work: str, args, seed: int, kind: str, epochs=None) -> dict:
    """The RecBole config of one run: the benchmark files, the same sizes, optimiser, batch, epochs and selection."""
    cfg = {
        "data_path": work, "benchmark_filename": ["train", "valid", "test"], "load_col": {"inter": ["user_id", "item_id"]},
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "train_batch_size": args.batch_size, "eval_batch_size": 4096,
        "epochs": epochs or args.epochs, "learning_rate": 1e-3, "weight_decay": 0.0, "mlp_hidden_size": [600], "latent_dimension": 64,
        "dropout_prob": 0.5, "eval_args": {"group_by": "user", "order": "RO", "mode": "full"}, "metrics": ["Recall", "NDCG"],
        "topk": [10, 20, 50, 100], "valid_metric": "NDCG@100", "stopping_step": 10_000, "eval_step": 1, "seed": seed,
        "reproducibility": True, "device": "cpu", "use_gpu": False, "show_progress": False, "checkpoint_dir": os.path.join(work, "ckpt"),
        "save_dataset": False, "save_dataloaders": False, "train_neg_sample_args": None, "log_wandb": False,
    }
    if kind == "vae":  # RecBole's MultiVAE: the encoder's last layer has latent_dimension outputs, half mean, half log-variance
        cfg |= {"latent_dimension": 128, "anneal_cap": 0.2, "total_anneal_steps": args.anneal_steps}
    return cfg


def run_recbole(job: dict, work: str, tag: str) -> dict:
    """One RecBole run in its virtualenv (a subprocess); its JSON answer."""
    cfg_path = os.path.join(work, f"job-{tag}.json")
    with open(cfg_path, "w") as fh:
        json.dump(job, fh)
    env = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    proc = subprocess.run([VPY, os.path.abspath(__file__), "--recbole-worker", cfg_path], capture_output=True, text=True, env=env, cwd=work)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"RecBole run failed (exit {proc.returncode}); see the error above")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def score_top(ctx: dict, top) -> dict:
    """latentcheck's metrics (and RecBole's Recall@20 definition) of top-100 lists of the test users."""
    import numpy as np

    from latentcheck.checkers.study.metrics import ranking_metrics

    held = ctx["split"].test_holdout
    m = {k: float(np.nanmean(v)) for k, v in ranking_metrics(top, held, METRICS).items()}
    m["Recall@20 (RecBole def.)"] = recbole_recall(top, held, 20)
    return m


def recbole_top(ctx: dict, rb: dict):
    import numpy as np

    split = ctx["split"]
    n_tr, n_va = split.train.n_rows, split.val_fold_in.n_rows
    test_users = [f"u{n_tr + n_va + r}" for r in range(split.test_holdout.n_rows)]
    return np.array([[ctx["col_of"][t] for t in rb["top100"][u]] if u in rb["top100"] else [-1] * 100 for u in test_users])


METRICS = (("recall", 20), ("recall", 50), ("ndcg", 10), ("ndcg", 100))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "ml-100k"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--torch-threads", default="1,2", help="torch thread counts to try; the fastest is compared (favours RecBole)")
    parser.add_argument("--models", default="dae,vae", help="dae, vae or both (Mult-DAE speed and accuracy; Mult-VAE accuracy)")
    parser.add_argument("--vae-activations", default="tanh,identity", help="latentcheck Mult-VAE latent activations (on the mean path)")
    parser.add_argument("--vae-threads", type=int, default=2, help="torch threads of the RecBole MultiVAE runs")
    parser.add_argument("--anneal-steps", type=int, default=200, help="Mult-VAE: steps to anneal the KL weight to 0.2 (both)")
    parser.add_argument("--input-layer", default="auto", choices=("auto", "dense", "sparse"), help="latentcheck's first layer (TrainConfig.input_layer)")
    parser.add_argument("--lastfm", default=os.path.join(ROOT, "..", "shared", "data", "lastfm-2k", "user_artists.dat"),
                        help="Last.fm user_artists.dat for the second Mult-DAE row ('' to skip)")
    parser.add_argument("--lastfm-epochs", type=int, default=5)
    parser.add_argument("--lastfm-seeds", type=int, default=2)
    parser.add_argument("--lastfm-threads", default="1,2", help="torch thread counts on Last.fm")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "peer_recbole.json"))
    parser.add_argument("--recbole-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.recbole_worker:
        recbole_worker(args.recbole_worker)
        return
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or any(m not in ("dae", "vae") for m in models):
        raise SystemExit(f"error: --models {args.models!r} must be dae, vae or dae,vae")

    from latentcheck.checkers.study.data import liang_split, load_ratings

    ensure_venv()
    ctx = make_context(liang_split(load_ratings(args.data)), tempfile.mkdtemp(prefix="latentcheck-recbole-"))
    out: dict = {}
    if os.path.exists(args.out):
        with open(args.out) as fh:
            out = json.load(fh)
    if "dae" in models:
        out = {k: v for k, v in out.items() if k == "multvae"} | compare_dae(args, ctx)
        if args.lastfm:
            lf = make_context(lastfm_split(args.lastfm), tempfile.mkdtemp(prefix="latentcheck-recbole-lastfm-"))
            out["lastfm"] = compare_dae(args, lf, "Last.fm (hetrec-2011)", args.lastfm_epochs, args.lastfm_seeds, args.lastfm_threads)
        print_rows(out)
    if "vae" in models:
        out["multvae"] = compare_vae(args, ctx)
    from latentcheck.checkers._io import atomic_write_text

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    atomic_write_text(args.out, json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


def make_context(split, work: str) -> dict:
    """The split, its RecBole atomic files under ``work`` and the rows both train on."""
    write_atomic(split, os.path.join(work, "ml100k"))
    return {"split": split, "weak": weak_split(split), "work": work, "col_of": {f"i{c}": c for c in range(split.n_items)}}


def lastfm_split(path: str):
    """Last.fm hetrec-2011: every played user-artist pair is a positive (weight > 0), then the same Liang split."""
    from latentcheck.checkers.study.data import liang_split, load_interactions

    return liang_split(load_interactions(path, "userID,artistID,weight"), threshold=0)


def _dae_seed(args, ctx: dict, seed: int, epochs: int, threads: list[int], results: dict, by_threads: dict) -> None:
    """One seed, interleaved: latentcheck, then RecBole at each thread count."""
    import numpy as np

    lc = run_latentcheck(ctx["weak"], args, seed, epochs=epochs)
    results["latentcheck"].append({"seed": seed, "epoch_seconds": lc["epoch_seconds"], "epoch_cpu_seconds": lc["epoch_cpu_seconds"],
                                   "fit_seconds": lc["fit_seconds"], "best_epoch": lc["best_epoch"], "input_layer": lc["input_layer"],
                                   "metrics": score_top(ctx, lc["top"])})
    job: dict = {"model": "MultiDAE", "config": recbole_config(ctx["work"], args, seed, "dae", epochs)}
    for th in threads:
        job["threads"] = th
        rb = run_recbole(job, ctx["work"], f"dae{seed}-{th}")
        by_threads[th].append({"seed": seed, "epoch_seconds": rb["epoch_seconds"], "epoch_cpu_seconds": rb["epoch_cpu_seconds"],
                               "fit_seconds": rb["fit_seconds"], "metrics": score_top(ctx, recbole_top(ctx, rb)),
                               "recbole_reported": rb["test_result"], "torch": rb["torch"], "torch_threads": rb["threads"]})
        print(f"seed {seed}: latentcheck ({lc['input_layer']} input) {np.median(lc['epoch_seconds'][1:]):.4f} s/epoch "
              f"({np.median(lc['epoch_cpu_seconds'][1:]):.4f} CPU s), RecBole ({th} torch threads) {np.median(rb['epoch_seconds'][1:]):.4f} s/epoch "
              f"({np.median(rb['epoch_cpu_seconds'][1:]):.4f} CPU s) (medians); load {os.getloadavg()[0]:.2f}", flush=True)


def compare_dae(args, ctx: dict, label: str = "ML-100K", epochs=None, seeds=None, threads_spec=None) -> dict:
    """latentcheck Mult-DAE against RecBole MultiDAE: seconds per epoch and accuracy; prints the table."""
    import numpy as np

    from latentcheck.checkers.study.report import mean_ci
    from latentcheck.checkers.study.experiment import environment

    split = ctx["split"]
    epochs, seeds = epochs or args.epochs, seeds or args.seeds
    threads = [int(t) for t in (threads_spec or args.torch_threads).split(",") if t.strip()]
    results: dict = {"latentcheck": [], "recbole": []}
    by_threads: dict[int, list] = {t: [] for t in threads}
    load_before = os.getloadavg()
    for seed in range(seeds):
        _dae_seed(args, ctx, seed, epochs, threads, results, by_threads)
    load_after = os.getloadavg()
    best_threads = min(threads, key=lambda t: float(np.mean([np.median(r["epoch_seconds"][1:]) for r in by_threads[t]])))
    results["recbole"] = by_threads[best_threads]

    def per_epoch(runs, key="epoch_seconds"):
        # Median of epochs 2..N per run (robust to other work sharing the CPU), then mean over seeds.
        return mean_ci([float(np.median(r[key][1:])) for r in runs])

    summary = {"seconds_per_epoch": {k: per_epoch(v) for k, v in results.items()},
               "cpu_seconds_per_epoch": {k: per_epoch(v, "epoch_cpu_seconds") for k, v in results.items()}}
    names = list(results["latentcheck"][0]["metrics"])
    summary["metrics"] = {k: {n: mean_ci([r["metrics"][n] for r in v]) for n in names} for k, v in results.items()}
    speedup = summary["seconds_per_epoch"]["recbole"]["mean"] / summary["seconds_per_epoch"]["latentcheck"]["mean"]
    summary["speedup"] = speedup
    summary["cpu_speedup"] = summary["cpu_seconds_per_epoch"]["recbole"]["mean"] / summary["cpu_seconds_per_epoch"]["latentcheck"]["mean"]
    med = {k: float(np.median([np.median(r["epoch_seconds"][1:]) for r in v])) for k, v in results.items()}
    summary["speedup_median_over_seeds"] = med["recbole"] / med["latentcheck"]
    summary["speedup_per_seed"] = [float(np.median(b["epoch_seconds"][1:]) / np.median(a["epoch_seconds"][1:]))
                                   for a, b in zip(results["latentcheck"], results["recbole"])]
    env = environment()
    out = {
        "benchmark": f"Mult-DAE I-600-64-600-I (tanh) on {label}, latentcheck (JAX) vs RecBole 1.2.1 MultiDAE (PyTorch)",
        "data": split.meta | {"note": "RecBole trains on train users + held-out users' fold-in rows; both score the same test users"},
        "settings": {"batch_size": args.batch_size, "epochs": epochs, "seeds": seeds, "lr": 1e-3, "dropout": 0.5, "weight_decay": 0.0,
                     "latentcheck_input_layer": f"{args.input_layer} -> {results['latentcheck'][0]['input_layer']}",
                     "selection": "best validation NDCG@100 over epochs", "seconds_per_epoch": "median of epochs 2..N (training only) per seed, mean over seeds",
                     "cpu_seconds_per_epoch": "the same in CPU seconds of each process (all its threads)"},
        "machine": env["machine"], "device": env["device"], "versions": env["versions"] | {"torch": results["recbole"][0]["torch"]},
        "summary": summary | {"recbole_torch_threads_compared": best_threads,
                              "recbole_seconds_per_epoch_by_threads": {str(t): per_epoch(v) for t, v in by_threads.items()}},
        "load_average": {"before": load_before, "after": load_after,
                         "note": "other work shared this 2-core machine; RecBole is compared at its fastest thread setting"},
        "runs": results | {"recbole_all_threads": {str(t): v for t, v in by_threads.items()}},
    }
    # Table
    sp = summary["seconds_per_epoch"]
    print()
    print(f"== {label}: {split.train.n_rows + split.val_fold_in.n_rows + split.test_fold_in.n_rows} users x {split.n_items} items, "
          f"{epochs} epochs, {seeds} seed(s); latentcheck input layer {results['latentcheck'][0]['input_layer']}")
    print(f"machine: {env['machine']}; load average before/after {load_before[0]:.2f}/{load_after[0]:.2f}; latentcheck on {env['device']} "
          f"(JAX {env['versions']['jax']}); RecBole on torch {results['recbole'][0]['torch']} ({best_threads} threads, its fastest of {threads})")
    for t, v in by_threads.items():
        print(f"  RecBole with {t} torch thread(s): {per_epoch(v)['mean']:.4f} s/epoch")
    print(f"{'':28s} {'latentcheck':>22s} {'RecBole':>22s} {'ratio':>8s}")
    fmt = lambda s: f"{s['mean']:.4f} +- {(s['hi'] - s['mean']) if s['n'] > 1 else 0:.4f}"  # noqa: E731
    print(f"{'seconds / training epoch':28s} {fmt(sp['latentcheck']):>22s} {fmt(sp['recbole']):>22s} {speedup:7.2f}x")
    cp = summary["cpu_seconds_per_epoch"]
    print(f"{'CPU seconds / epoch':28s} {fmt(cp['latentcheck']):>22s} {fmt(cp['recbole']):>22s} {summary['cpu_speedup']:7.2f}x")
    for n in names:
        a, b = summary["metrics"]["latentcheck"][n], summary["metrics"]["recbole"][n]
        print(f"{n:28s} {fmt(a):>22s} {fmt(b):>22s} {a['mean'] / b['mean']:7.3f}")
    print(f"speed-up per seed: {', '.join(f'{x:.2f}x' for x in summary['speedup_per_seed'])}; "
          f"ratio of the medians over seeds {summary['speedup_median_over_seeds']:.2f}x")
    rep = results["recbole"][0]["recbole_reported"]
    print(f"RecBole's own test figures (seed 0): " + ", ".join(f"{k} {v:.4f}" for k, v in rep.items() if k in ("recall@20", "ndcg@10", "ndcg@100", "recall@50")))
    return out


def print_rows(out: dict) -> None:
    """One line per data set: seconds and CPU seconds per epoch, the ratio, NDCG@100 of both."""
    print()
    print(f"{'Mult-DAE per epoch':26s} {'latentcheck s (CPU s)':>22s} {'RecBole s (CPU s)':>22s} {'ratio':>7s} {'CPU ratio':>9s} {'NDCG@100 lc / RecBole':>22s}")
    for name, part in (("ML-100K", out), ("Last.fm", out.get("lastfm"))):
        if not part or "summary" not in part:
            continue
        sm = part["summary"]
        sp, cp, nd = sm["seconds_per_epoch"], sm["cpu_seconds_per_epoch"], sm["metrics"]
        print(f"{name:26s} {sp['latentcheck']['mean']:>9.4f} ({cp['latentcheck']['mean']:.4f}) {sp['recbole']['mean']:>11.4f} ({cp['recbole']['mean']:.4f}) "
              f"{sm['speedup']:6.2f}x {sm['cpu_speedup']:8.2f}x {nd['latentcheck']['NDCG@100']['mean']:>10.4f} / {nd['recbole']['NDCG@100']['mean']:.4f}")


def welch(a, b) -> dict:
    """Mean of ``a`` minus mean of ``b`` with Welch's 95% t interval (scipy.stats.ttest_ind, unequal variances)."""
    import numpy as np
    from scipy import stats

    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    lo, hi = float(ci.low), float(ci.high)
    return {"diff": float(np.mean(a) - np.mean(b)), "lo": lo, "hi": hi, "p": float(res.pvalue),
            "within_noise": bool(np.isfinite(lo) and np.isfinite(hi) and lo <= 0.0 <= hi)}


#: What the options cannot make equal between the two Mult-VAE implementations (read from RecBole 1.2.1's source).
VAE_DIFFERENCES = [
    "sampling noise in training: RecBole's MultiVAE.reparameterize draws eps ~ N(0, 0.01^2) (std 0.01); latentcheck draws eps ~ N(0, 1) as in Liang et al.",
    "initialisation: RecBole xavier_normal_ weights and zero biases; latentcheck Glorot-uniform weights and biases ~ N(0, 0.001^2) truncated",
    "the KL weight's step counter: RecBole counts from 1 (first update uses 1/steps), latentcheck from 0",
    "the tanh row puts tanh on the mean path (mu = tanh(W h + b)); RecBole's mean is linear, as latentcheck's identity row",
]


def compare_vae(args, ctx: dict) -> dict:
    """latentcheck Mult-VAE (one row per latent activation) against RecBole MultiVAE: accuracy over the seeds; prints the table."""
    import numpy as np

    from latentcheck.checkers.study.report import mean_ci
    from latentcheck.checkers.study.experiment import environment

    acts = [a.strip() for a in args.vae_activations.split(",") if a.strip()]
    lc: dict[str, list] = {a: [] for a in acts}
    rb_runs: list[dict] = []
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        for a in acts:
            r = run_latentcheck(ctx["weak"], args, seed, kind="vae", latent=a)
            lc[a].append({"seed": seed, "best_epoch": r["best_epoch"], "fit_seconds": r["fit_seconds"], "metrics": score_top(ctx, r["top"])})
        job = {"model": "MultiVAE", "threads": args.vae_threads, "config": recbole_config(ctx["work"], args, seed, "vae")}
        rb = run_recbole(job, ctx["work"], f"vae{seed}")
        rb_runs.append({"seed": seed, "fit_seconds": rb["fit_seconds"], "metrics": score_top(ctx, recbole_top(ctx, rb)),
                        "recbole_reported": rb["test_result"], "torch": rb["torch"], "torch_threads": rb["threads"]})
        print(f"Mult-VAE seed {seed}: " + ", ".join(f"latentcheck {a} NDCG@100 {lc[a][-1]['metrics']['NDCG@100']:.4f}" for a in acts)
              + f", RecBole NDCG@100 {rb_runs[-1]['metrics']['NDCG@100']:.4f}", flush=True)
    names = list(rb_runs[0]["metrics"])
    col = lambda runs, n: [r["metrics"][n] for r in runs]  # noqa: E731
    metrics = {"recbole": {n: mean_ci(col(rb_runs, n)) for n in names}} | {f"latentcheck {a}": {n: mean_ci(col(lc[a], n)) for n in names} for a in acts}
    vs = {a: {n: welch(col(lc[a], n), col(rb_runs, n)) for n in names} for a in acts}
    verdict = {a: all(v["within_noise"] for v in vs[a].values()) for a in acts}
    env = environment()
    out = {
        "benchmark": "Mult-VAE I-600-2x64|64-600-I (tanh hidden), latentcheck (JAX) vs RecBole 1.2.1 MultiVAE (PyTorch), accuracy",
        "settings": {"batch_size": args.batch_size, "epochs": args.epochs, "seeds": args.seeds, "lr": 1e-3, "dropout": 0.5, "weight_decay": 0.0,
                     "anneal_cap": 0.2, "total_anneal_steps": args.anneal_steps, "latentcheck_latent_activations": acts,
                     "recbole_torch_threads": args.vae_threads, "selection": "best validation NDCG@100 over epochs",
                     "within_noise": "Welch's 95% t interval of the difference of the means over the seeds contains 0"},
        "differences": VAE_DIFFERENCES,
        "machine": env["machine"], "device": env["device"], "versions": env["versions"] | {"torch": rb_runs[0]["torch"]},
        "summary": {"metrics": metrics, "latentcheck_minus_recbole": vs, "within_noise_on_every_metric": verdict},
        "wall_seconds": time.perf_counter() - t0,
        "runs": {"recbole": rb_runs} | {f"latentcheck {a}": v for a, v in lc.items()},
    }
    print()
    fmt = lambda s: f"{s['mean']:.4f} [{s['lo']:.4f}, {s['hi']:.4f}]" if s["n"] > 1 else f"{s['mean']:.4f}"  # noqa: E731
    print(f"{'Mult-VAE (3 seeds)':26s} " + " ".join(f"{'latentcheck ' + a:>26s}" for a in acts) + f" {'RecBole MultiVAE':>26s}  tanh - RecBole [Welch 95%]")
    for n in names:
        d = vs[acts[0]][n]
        print(f"{n:26s} " + " ".join(f"{fmt(metrics['latentcheck ' + a][n]):>26s}" for a in acts) + f" {fmt(metrics['recbole'][n]):>26s}"
              f"  {d['diff']:+.4f} [{d['lo']:+.4f}, {d['hi']:+.4f}]")
    print("within noise on every metric: " + ", ".join(f"{a} {'yes' if verdict[a] else 'no'}" for a in acts))
    return out


if __name__ == "__main__":
    main()
