"""``latentcheck study --plan``: how many runs a study makes and how long it should take, before it starts.

The cost model, per data set (all times in CPU seconds of the study's
process, measured on the spot by :func:`calibrate` on the data's first split):

* **runs.** Tuning: activations x splits x (initial trials + widening
  trials) x tuning seeds; final: activations x splits x training seeds.
  The widening trials of the bracketing search are not known in advance:
  the plan counts an assumed number per search (``widen``, default
  :data:`DEFAULT_WIDEN`) and also the bound (every round proposing a step
  in both directions on every axis).
* **steps per run.** ``min(cap, best_step + patience)``, rounded up to
  whole validation intervals, where ``best_step`` is the expected optimiser
  step of the best validation score (:data:`DEFAULT_BEST_STEP`, measured:
  see ``benchmarks/results/study_profile.json``).
* **seconds per run.** steps x (CPU s per step) + validations x (CPU s per
  validation) + the per-run overhead (building and compiling the jitted
  programs), plus the audit for a final run.
* **baselines.** EASE and popularity once per split.

The total CPU seconds bound the wall time of a process that keeps at least
one core busy; the wall estimate divides by the parallelism measured during
the calibration (CPU seconds / wall seconds, at most the core count), which
a loaded machine lowers. Both are printed; neither is a measurement of the
study itself.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Optional

import numpy as np

from .audit import audit_encoder
from .data import ImplicitSplit
from .ease import fit_ease
from .models import MultDAE
from .metrics import DEFAULT_METRICS
from .train import TrainConfig, _make_topk as make_topk, evaluate_multdae, train_multdae_seeds

__all__ = ["StepCosts", "DEFAULT_BEST_STEP", "BEST_STEP_BY_LR", "expected_best_step", "DEFAULT_WIDEN", "count_runs", "steps_per_run", "estimate", "calibrate", "format_plan"]

#: Expected optimiser step of the best validation NDCG@100 (median over the 45 tuned ML-100K final runs of
#: docs/gallery/study-ml100k-tuned: 1,900; the Last.fm calibration runs of benchmarks/study_profile.py are in
#: benchmarks/results/study_profile.json).
DEFAULT_BEST_STEP = 1900
#: Median best step by learning rate, the same 45 runs: lr 1e-3 (tanh, sigmoid; 18 runs) 2,225, lr 3e-3 (identity, relu,
#: softplus; 27 runs) 1,590. They were trained with patience 1000; a smaller patience can only stop earlier.
BEST_STEP_BY_LR: dict[float, float] = {1e-3: 2225.0, 3e-3: 1590.0}
#: Assumed widening trials per (activation, split) search and searched axis: one step out (the tuned ML-100K runs chose
#: an edge value of the old grid on about one axis per search).
DEFAULT_WIDEN = 1


@dataclass(frozen=True)
class StepCosts:
    """Measured CPU seconds: one optimiser step, one validation pass, the per-run overhead, one audit, one split's baselines."""

    step: float
    validation: float
    overhead: float
    audit: float
    baselines: float
    parallelism: float = 1.0  # CPU seconds per wall second while calibrating (>= 1 when the process uses several cores)
    steps_per_epoch: int = 1


def expected_best_step(lrs: "tuple[float, ...] | list[float]") -> float:
    """The mean over the learning rates tried of the measured median best step at the nearest tabulated learning rate (log scale)."""
    if not lrs:
        return float(DEFAULT_BEST_STEP)
    near = lambda lr: min(BEST_STEP_BY_LR, key=lambda t: abs(math.log(t) - math.log(lr)))  # noqa: E731
    return float(np.mean([BEST_STEP_BY_LR[near(lr)] for lr in lrs]))


def count_runs(cfg: Any, n_trials: int, widen: float, axes: int) -> dict:
    """Tasks and runs of a Mult-DAE/Mult-VAE study: expected (``widen`` trials per search) and at most (every round, every axis, both ways)."""
    acts, splits = len(cfg.activations), cfg.split_seeds
    tunes = n_trials > 1
    searches = acts * splits if tunes else 0
    widen_max = cfg.bracket_rounds * 2 * axes if tunes else 0
    widen_exp = min(float(widen), widen_max)
    tune_tasks = searches * (n_trials + widen_exp)
    return {"searches": searches, "initial_trials": n_trials if tunes else 0, "widen_trials_per_search": widen_exp,
            "widen_trials_per_search_max": widen_max, "tune_runs": tune_tasks * cfg.tune_seeds,
            "tune_runs_max": searches * (n_trials + widen_max) * cfg.tune_seeds,
            "final_runs": acts * splits * cfg.seeds, "audits": acts * splits * cfg.seeds}


def steps_per_run(cfg: Any, steps_per_epoch: int, best_step: float) -> int:
    """Optimiser steps of one run: the best step plus the patience, in whole validation intervals, at most the cap."""
    interval = steps_per_epoch * cfg.eval_every
    cap = (cfg.epochs * steps_per_epoch) if cfg.epochs else (math.ceil(cfg.max_steps / steps_per_epoch) * steps_per_epoch)
    if not cfg.patience:
        return cap
    return min(cap, math.ceil((best_step + cfg.patience) / interval) * interval)


def estimate(cfg: Any, costs: StepCosts, n_trials: int, axes: int, best_step: float = DEFAULT_BEST_STEP,
             widen: Optional[float] = None) -> dict:
    """The cost model (module docstring): counts, steps per run, CPU seconds by part, and the wall estimate.

    ``widen``: widening trials per search (default :data:`DEFAULT_WIDEN` per searched axis).
    """
    runs = count_runs(cfg, n_trials, DEFAULT_WIDEN * axes if widen is None else widen, axes)
    steps = steps_per_run(cfg, costs.steps_per_epoch, best_step)
    vals = steps // (costs.steps_per_epoch * cfg.eval_every) + 1
    run_s = steps * costs.step + vals * costs.validation + costs.overhead
    parts = {"tuning": runs["tune_runs"] * run_s, "final": runs["final_runs"] * (run_s + costs.validation),
             "audit": runs["audits"] * costs.audit, "baselines": cfg.split_seeds * costs.baselines if cfg.ease else 0.0}
    total = sum(parts.values())
    worst = total + (runs["tune_runs_max"] - runs["tune_runs"]) * run_s
    par = max(1.0, costs.parallelism)
    return {"runs": runs, "steps_per_run": steps, "validations_per_run": vals, "cpu_seconds_per_run": run_s,
            "cpu_seconds": parts | {"total": total, "total_max": worst}, "wall_seconds": total / par,
            "parallelism": par, "best_step": best_step, "costs": asdict(costs)}


def calibrate(split: ImplicitSplit, cfg: Any, epochs: Optional[int] = None) -> StepCosts:
    """Measure :class:`StepCosts` here: a short tanh run of the study's model shape, one validation, one audit, EASE."""
    hidden = tuple(cfg.hidden)
    bs = min(cfg.batch_size, split.train.n_rows)
    spe = -(-split.train.n_rows // bs)
    n_epochs = epochs or cfg.eval_every * max(3, -(-60 // (spe * cfg.eval_every)))  # >= 3 validation intervals, ~60 steps
    model = MultDAE(n_items=split.n_items, hidden=hidden, latent="tanh", lam=1e-2, dropout=0.5)
    tc = TrainConfig(epochs=n_epochs, batch_size=bs, lr=1e-3, eval_every=cfg.eval_every)
    w0, c0 = time.perf_counter(), time.process_time()
    res = train_multdae_seeds(model, split, tc, [cfg.seed], test=True)[0]
    run_cpu, run_wall = time.process_time() - c0, time.perf_counter() - w0
    train_cpu = float(np.sum(res.epoch_cpu_seconds))
    steady = res.epoch_cpu_seconds[cfg.eval_every:]  # the first interval's call also compiles: left out of the step cost
    val_cpu = _timed_validation(model, res.params, split, bs)
    n_val = n_epochs // cfg.eval_every + 3  # the validations, the final validation and the test pass
    audit_cpu = _timed(lambda: audit_encoder(model.encoder(res.params), split.all_rows(), normalise="l2", seed=cfg.seed,
                                             n_triples=cfg.triples, certify=cfg.certify, falsify_budget=0.0))
    base_cpu = _timed(lambda: fit_ease(split)) if cfg.ease else 0.0
    return StepCosts(step=float(np.mean(steady)) / spe, validation=val_cpu, overhead=max(0.0, run_cpu - train_cpu - n_val * val_cpu),
                     audit=audit_cpu, baselines=base_cpu, parallelism=min(float(os.cpu_count() or 1), max(1.0, run_cpu / max(run_wall, 1e-9))),
                     steps_per_epoch=spe)


def _timed(fn: Any) -> float:
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def _timed_validation(model: Any, params: Any, split: ImplicitSplit, bs: int) -> float:
    """CPU seconds of one validation pass once compiled (the second of two with the same jitted ranking)."""
    eval_bs = max(1, min(bs, max(split.val_fold_in.n_rows, split.test_fold_in.n_rows)))
    topk = make_topk(model, eval_bs, max(k for _, k in DEFAULT_METRICS))
    evaluate_multdae(model, params, split.val_fold_in, split.val_holdout, batch_size=eval_bs, _topk=topk)
    return _timed(lambda: evaluate_multdae(model, params, split.val_fold_in, split.val_holdout, batch_size=eval_bs, _topk=topk))


def format_plan(name: str, est: dict) -> list[str]:
    """The plan of one data set as text lines."""
    r, c = est["runs"], est["cpu_seconds"]
    k = est["costs"]
    return [
        f"{name}: {r['searches']} searches x ({r['initial_trials']} initial + {r['widen_trials_per_search']:g} assumed widening "
        f"trials, at most {r['widen_trials_per_search_max']}) -> {r['tune_runs']:g} tuning runs (at most {r['tune_runs_max']:g}); "
        f"{r['final_runs']} final runs, {r['audits']} audits",
        f"  per run: {est['steps_per_run']} steps (best step {est['best_step']:g} + patience, capped) at {k['step'] * 1e3:.1f} CPU ms, "
        f"{est['validations_per_run']} validations at {k['validation'] * 1e3:.0f} CPU ms, overhead {k['overhead']:.2f} CPU s "
        f"-> {est['cpu_seconds_per_run']:.1f} CPU s; audit {k['audit']:.2f} CPU s; baselines {k['baselines']:.2f} CPU s per split",
        f"  CPU minutes: tuning {c['tuning'] / 60:.1f}, final {c['final'] / 60:.1f}, audits {c['audit'] / 60:.1f}, baselines "
        f"{c['baselines'] / 60:.1f}; total {c['total'] / 60:.1f} (at most {c['total_max'] / 60:.1f} if every search widens every axis "
        f"every round); wall {est['wall_seconds'] / 60:.1f} min at the measured parallelism {est['parallelism']:.2f}",
    ]


#: What the default two-dataset study (``--datasets default``) changes from StudyConfig's defaults to fit 60 minutes on
#: 2 cores (docs/study.md, "The 60-minute default"): one activation per class of the paper, 2 splits x 2 seeds, the
#: learning rate fixed at 3e-3 (the faster-converging of the two grid values; tuned choices were 1e-3 or 3e-3), the
#: weight decay tuned over a 3-point grid x10 apart and widened at an edge (nested: every split, 2 seeds per trial),
#: dropout 0.5 and width 200 fixed, patience 300 steps.
BUDGET_DEFAULTS: dict[str, Any] = {
    "activations": ("tanh", "sigmoid", "relu"),
    "seeds": 2,
    "split_seeds": 2,
    "tune_seeds": 2,
    "lr": 3e-3,
    "lam_grid": (1e-3, 1e-2, 1e-1),
    "dropout_grid": (0.5,),
    "bracket_axes": ("lam",),
    "bracket_rounds": 3,
    "patience": 300,
}
#: A budget default is left out when the option named here was given (``--lr-grid`` means: tune the learning rate).
_OVERRIDDEN_BY = {"lr": ("lr_grid",), "bracket_axes": ("lr_grid", "dropout_grid", "hidden"), "lam_grid": ("lam",)}


def plan_config(cfg: Any, given: frozenset = frozenset()) -> Any:
    """``cfg`` with :data:`BUDGET_DEFAULTS` applied to every field not in ``given`` (the options set on the command line)."""
    skip = set(given) | {k for k, by in _OVERRIDDEN_BY.items() if set(by) & set(given)}
    return replace(cfg, **{k: v for k, v in BUDGET_DEFAULTS.items() if k not in skip})
