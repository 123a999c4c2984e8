"""The study's cost profile: measured CPU seconds per optimiser step, validation, run overhead, audit and baselines
on each default data set, the steps to convergence of a few runs, and the plan of the default two-dataset study.

    python benchmarks/study_profile.py                      # calibrate + plan (about a minute)
    python benchmarks/study_profile.py --converge           # also train a few runs to convergence per data set
    python benchmarks/study_profile.py --out benchmarks/results/study_profile.json

Run from the repository root (the data sets are looked for under ../shared/data). CPU seconds are those of this
process (all threads); on a shared machine they are inflated less than wall seconds, but not at all exact: the load
average before and after is recorded beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from latentcheck.checkers.study.data import liang_split, load_or_synthetic
from latentcheck.checkers.study.datasets import DEFAULT_DATASETS, resolve_dataset
from latentcheck.checkers.study.experiment import StudyConfig, environment
from latentcheck.checkers.study.implicit import resolve_threshold
from latentcheck.checkers.study.models import MultDAE
from latentcheck.checkers.study.multi import plan_one, resolve_all
from latentcheck.checkers.study.plan import plan_config
from latentcheck.checkers.study.train import TrainConfig, train_multdae_seeds


def converge(split, cfg: StudyConfig, act: str, lr: float, lam: float) -> dict:
    """One run to convergence with the study's early stopping: its best step, steps, stop reason and CPU seconds."""
    model = MultDAE(n_items=split.n_items, hidden=tuple(cfg.hidden), latent=act, lam=lam, dropout=0.5)
    spe = -(-split.train.n_rows // cfg.batch_size)
    tc = TrainConfig(epochs=-(-cfg.max_steps // spe), batch_size=cfg.batch_size, lr=lr, eval_every=cfg.eval_every, patience=cfg.patience)
    c0, w0 = time.process_time(), time.perf_counter()
    r = train_multdae_seeds(model, split, tc, [cfg.seed], test=False)[0]
    return {"activation": act, "lr": lr, "lam": lam, "best_step": r.best_step, "steps": r.steps, "stop_reason": r.stop_reason,
            "val_NDCG@100": r.val["NDCG@100"], "cpu_seconds": time.process_time() - c0, "wall_seconds": time.perf_counter() - w0}


def profile_dataset(name: str, cfg: StudyConfig, do_converge: bool, lrs: tuple = (1e-3, 3e-3)) -> dict:
    """The plan of one data set (calibrated here) and, with ``do_converge``, six runs to convergence."""
    out = plan_one(name, cfg)
    print(name, json.dumps({k: out[k] for k in ("shape", "estimate")}, default=str), flush=True)
    if do_converge:
        ds, path = resolve_dataset(name)
        ratings = load_or_synthetic(path, columns=ds.columns)
        c = cfg.resolved()
        split = liang_split(ratings, threshold=resolve_threshold(c.threshold, ratings), min_item_users=c.min_item_users, seed=c.split_seed)
        runs = []
        for act in ("tanh", "sigmoid", "relu"):
            for lr in lrs:
                runs.append(converge(split, c, act, lr, 1e-2))
                print(name, json.dumps(runs[-1]), flush=True)
        out["convergence"] = {"patience_steps": c.patience, "eval_every_epochs": c.eval_every, "runs": runs,
                              "median_best_step": float(np.median([r["best_step"] for r in runs]))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--converge", action="store_true", help="also train 6 runs per data set to convergence (minutes)")
    ap.add_argument("--converge-lrs", default="1e-3,3e-3", help="learning rates of the convergence runs")
    ap.add_argument("--merge", action="append", default=[], help="a profile JSON whose convergence runs are kept (measured earlier; repeatable)")
    ap.add_argument("--datasets", default=",".join(DEFAULT_DATASETS))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    load0 = os.getloadavg()
    items = resolve_all(plan_config(StudyConfig()), args.datasets.split(","), None)
    result = {"what": "CPU seconds of this process; see benchmarks/study_profile.py and checkers/study/plan.py", "load_average_before": load0,
              "environment": environment(), "datasets": {n: profile_dataset(n, c, args.converge, tuple(float(x) for x in args.converge_lrs.split(","))) for n, c in items}}
    result["load_average_after"] = os.getloadavg()
    for path in args.merge:
        with open(path) as fh:
            old = json.load(fh)
        for n, d in old.get("datasets", {}).items():
            if "convergence" in d and n in result["datasets"] and "convergence" not in result["datasets"][n]:
                result["datasets"][n]["convergence"] = d["convergence"] | {"merged_from": "an earlier profile run",
                                                                          "load_average": [old.get("load_average_before"), old.get("load_average_after")]}
    cpu = sum(d["estimate"]["cpu_seconds"]["total"] for d in result["datasets"].values())
    result["total_cpu_minutes"] = cpu / 60
    result["wall_minutes_at_parallelism"] = {str(p): cpu / 60 / p for p in (1.0, 1.6, 2.0)}
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
