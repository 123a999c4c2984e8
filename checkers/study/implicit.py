"""The implicit-feedback study (Mult-DAE, Mult-VAE): tuned per activation, trained to convergence, over splits and seeds.

Protocol, per latent activation (every activation gets the same budget):

1. **Tuning.** Every trial of the same list (a grid of learning rate x
   weight decay x dropout, or the same seeded random draws) is trained once
   on split ``split_seed`` with the first training seed, with early stopping
   on validation NDCG@100; the trial with the best validation NDCG@100 is
   chosen (ties: the first in the list). Test users are not evaluated.
2. **Final runs.** With the chosen values, every split seed x training seed
   is trained (the training seeds of one split as one vmapped program) with
   the same early stopping; the test users are evaluated once, with the
   parameters of the best validation point; each encoder is exported and
   audited on all users of that split.
3. **Evidence.** Per activation, the mean and t interval over all runs;
   paired comparisons with the reference activation over runs (paired t,
   Wilcoxon), over split means and over test users (each user's metric
   averaged over the training seeds, pooled over splits), with Holm's
   correction across the activations compared; and a plain-language
   conclusion that names what the data support and what they do not.

Every run records why it stopped: ``patience`` (no new best validation score
within ``patience`` optimiser steps) or ``cap`` (the step cap was reached
first: possibly under-trained, flagged in the report and on the console).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import time
from typing import Any, Optional, Sequence

import numpy as np

from .audit import audit_encoder, save_encoder
from .data import ImplicitSplit, Ratings, liang_split
from .executor import parse_executor, run_tasks
from .metrics import DEFAULT_METRICS, metric_name
from .models import MultDAE, MultVAE
from .report import correlation_p, holm, mean_ci, paired_t_test, pearson, spearman, wilcoxon_test
from .train import TrainConfig, train_multdae_seeds
from ...theorems.activations import get_activation
from ...theorems.errors import InvalidArgument
from ...theorems.classify import class_name as _class_of
from .analysis import ANALYSIS_DEFAULTS, analyse, pack_per_user
from .ease import fit_ease, popularity_baseline
from .plan import DEFAULT_BEST_STEP
from .tuning import AXES, Bracket

__all__ = ["DEFAULT_GRID", "DEFAULT_PATIENCE", "DEFAULT_MAX_STEPS", "make_trials", "resolve_threshold", "build_model", "study_task",
           "study_implicit", "conclusion"]

#: The tuning grid every activation gets (learning rate x weight decay x dropout).
DEFAULT_GRID: dict[str, tuple[float, ...]] = {"lr": (1e-3, 3e-3), "lam": (0.0, 1e-3, 1e-2), "dropout": (0.5,)}
#: Early-stopping patience and the cap, in optimiser steps.
DEFAULT_PATIENCE = 1000
DEFAULT_MAX_STEPS = 50_000
PRIMARY = "NDCG@100"
ALPHA = 0.05
AUDIT_KEYS = ["zero_rate", "near_zero_1e-3", "dead_units", "constant_units", "zero_unit_fraction", "fewest_nonzero_units",
              "concordance", "kendall_tau_b", "p2_violation_rate"]
MODEL_NAMES = {"multdae": "Mult-DAE", "multvae": "Mult-VAE"}


# --------------------------------------------------------------------------- setup


def make_trials(lrs: Sequence[float], lams: Sequence[float], dropouts: Sequence[float], search: str, seed: int) -> list[dict]:
    """The hyperparameter trials every activation gets.

    ``search="grid"``: the full product, in order. ``search="random:N"``: N
    draws from ``default_rng(seed)`` (the same for every activation): learning
    rate log-uniform over the grid's range; weight decay 0 with probability
    ``1/len(lams)`` when 0 is in the grid, else log-uniform over its positive
    range; dropout uniform over its range; rounded to 3 significant digits.
    """
    for name, vals, lo in (("lr", lrs, 0.0), ("lam", lams, -1.0), ("dropout", dropouts, -1.0)):
        if not vals or any(not (v > lo) if name == "lr" else v < 0 for v in vals):
            raise InvalidArgument(f"the {name} grid {tuple(vals)!r} must list values {'> 0' if name == 'lr' else '>= 0'}")
    if search == "grid":
        return [{"lr": float(a), "lam": float(b), "dropout": float(c)} for a, b, c in itertools.product(lrs, lams, dropouts)]
    if not (search.startswith("random:") and search[7:].isdigit() and int(search[7:]) > 0):
        raise InvalidArgument(f"--search {search!r} must be grid or random:N with N >= 1 trials, e.g. random:8")
    rng = np.random.default_rng(seed)
    sig = lambda v: float(f"{v:.3g}")  # noqa: E731
    pos = [v for v in lams if v > 0]
    out = []
    for _ in range(int(search[7:])):
        lr = math.exp(rng.uniform(math.log(min(lrs)), math.log(max(lrs))))
        zero = (0.0 in lams and rng.random() < 1.0 / len(lams)) or not pos
        lam = 0.0 if zero else math.exp(rng.uniform(math.log(min(pos)), math.log(max(pos))))
        out.append({"lr": sig(lr), "lam": sig(lam), "dropout": sig(rng.uniform(min(dropouts), max(dropouts)))})
    return out


def resolve_threshold(threshold: Optional[float], ratings: Ratings) -> Optional[float]:
    """The binarisation threshold: the given one, 3.5 for MovieLens and synthetic ratings, 0 for other files with VALUE, none without VALUE."""
    if not ratings.has_value:
        if threshold is not None:
            raise InvalidArgument("--threshold needs a VALUE column (--columns USER,ITEM,VALUE); without VALUE every row is a positive")
        return None
    if threshold is not None:
        return float(threshold)
    return 0.0 if ratings.format in ("delimited", "parquet") else 3.5


def build_model(model: str, n_items: int, hidden: Sequence[int], activation: str, hyper: dict, anneal_steps: int) -> Any:
    if model == "multvae":
        return MultVAE(n_items=n_items, hidden=tuple(hidden), latent=activation, lam=hyper["lam"], dropout=hyper["dropout"],
                       total_anneal_steps=int(anneal_steps))
    return MultDAE(n_items=n_items, hidden=tuple(hidden), latent=activation, lam=hyper["lam"], dropout=hyper["dropout"])


def anneal_steps(steps: Optional[int], fraction: Optional[float], cap_steps: int, beta_cap: float = 0.2) -> int:
    """Mult-VAE's ``total_anneal_steps`` (``beta = min(0.2, step / total)``, Liang et al.).

    Given ``steps``, that (Liang et al.'s default: 200,000, so beta reaches 0.2 only after 40,000 steps). Otherwise
    scaled to the run: beta reaches ``beta_cap`` after ``fraction`` of ``cap_steps``, i.e.
    ``total = fraction * cap_steps / beta_cap``. The study passes the run's *expected* length
    (:func:`expected_run_steps`), not its cap, so that beta reaches its cap within runs that stop early.
    """
    if steps is not None:
        return int(steps)
    return max(1, int(round(float(fraction if fraction is not None else 0.1) * cap_steps / beta_cap)))


def expected_run_steps(cap_steps: int, patience: Optional[int]) -> int:
    """A run's expected optimiser steps: the expected best step (plan.DEFAULT_BEST_STEP) plus the patience, at most the cap.

    With early stopping a run lasts at least ``patience`` steps, so with ``fraction * expected <= patience``
    (0.1 x (1900 + 400) = 230 <= 400 for the default study) beta reaches its cap within every run.
    """
    return int(cap_steps) if not patience else int(min(cap_steps, DEFAULT_BEST_STEP + patience))


_SPLITS: dict[tuple, tuple[Ratings, ImplicitSplit]] = {}


#: Fewest users of each part of a split the study runs on (training needs a batch; the audit needs 3 rows).
MIN_SPLIT_USERS = {"training": 2, "validation": 1, "test": 1}


def check_split_data(split: ImplicitSplit, seed: int, metrics: Sequence[tuple[str, int]] = DEFAULT_METRICS) -> None:
    """Refuse (:class:`InvalidArgument`, exit 2) data the study cannot evaluate, before any training: fewer items than
    the largest metric cutoff (NDCG@100 ranks 100 items per user), or a split part without enough users."""
    kmax = max(k for _, k in metrics)
    worst = max((k, kind) for kind, k in metrics)
    if split.n_items < kmax:
        raise InvalidArgument(
            f"the data have {split.n_items} items after the --threshold and --min-user-items filters, but the study's "
            f"metrics need at least {kmax} ({metric_name(worst[1], worst[0])} ranks {kmax} items per user); give data with "
            f"at least {kmax} items (or lower --threshold / --min-user-items to keep more)")
    counts = {"training": split.train.n_rows, "validation": split.val_fold_in.n_rows, "test": split.test_fold_in.n_rows}
    short = [f"{counts[k]} {k}" for k, need in MIN_SPLIT_USERS.items() if counts[k] < need]
    if short:
        need = ", ".join(f"{v} {k}" for k, v in MIN_SPLIT_USERS.items())
        raise InvalidArgument(
            f"split {seed} has only {', '.join(short)} user(s) (needs at least {need}); give data with more users "
            "(or lower --min-user-items)")


def split_spec(cfg: Any, threshold: Optional[float], seed: int) -> dict:
    """What determines a split: the filters, the held-out share and the split seed (``min_item_users`` only when it filters)."""
    spec = {"threshold": threshold, "min_user_items": cfg.min_user_items, "heldout": cfg.heldout, "seed": seed}
    return spec | ({"min_item_users": int(cfg.min_item_users)} if getattr(cfg, "min_item_users", 1) > 1 else {})


def task_split(ratings: Ratings, sp: dict) -> ImplicitSplit:
    """The split a task names (cached per process: the tasks of one split share it).

    The cache holds the ratings object itself and checks identity, so a new
    data set that happens to reuse a freed object's id never gets a stale split.
    """
    key = (id(ratings), sp["threshold"], sp["min_user_items"], sp.get("min_item_users", 1), sp["heldout"], sp["seed"])
    hit = _SPLITS.get(key)
    if hit is None or hit[0] is not ratings:
        if len(_SPLITS) > 8:
            _SPLITS.clear()
        split = liang_split(ratings, threshold=sp["threshold"], min_user_items=sp["min_user_items"], heldout=sp["heldout"], seed=sp["seed"],
                            min_item_users=sp.get("min_item_users", 1))
        hit = _SPLITS[key] = (ratings, split)
    return hit[1]


# --------------------------------------------------------------------------- one task


def _slug(name: str) -> str:
    import re

    return (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:60]) or "activation"


def _curve(history: list[dict]) -> list[dict]:
    return [{"epoch": h["epoch"], "step": h["step"], "loss": h["loss"], **{k: v for k, v in h.items() if k.startswith("val_")}} for h in history]


def study_task(task: dict, payload: dict, progress: Any = None) -> dict:
    """Train one activation x split x hyperparameters for the task's seeds (one vmapped program); audit final runs."""
    t0 = time.perf_counter()
    split = task_split(payload["ratings"], task["split"])
    tr = task["train"]
    steps_per_epoch = -(-split.train.n_rows // min(tr["batch_size"], split.train.n_rows))
    cap = tr["epochs"] or max(1, -(-tr["max_steps"] // steps_per_epoch))
    anneal = anneal_steps(task["anneal_steps"], task.get("anneal_fraction"), expected_run_steps(cap * steps_per_epoch, tr["patience"]))
    model = build_model(task["model"], split.n_items, task["hidden"], task["activation"], task["hyper"], anneal)
    tc = TrainConfig(epochs=cap, batch_size=tr["batch_size"], lr=task["hyper"]["lr"], eval_every=tr["eval_every"], patience=tr["patience"] or None)
    final = task["kind"] == "final"
    if progress is not None:
        progress.run_start(task["label"], cap)
    on_epoch = progress.epoch if progress is not None else None
    if seeds_vmapped():
        results = train_multdae_seeds(model, split, tc, task["seeds"], test=final, on_epoch=on_epoch)
    else:  # on a CPU the seeds share the same cores: one after another is faster (benchmarks/train_speed.py --vmap-seeds)
        results = [train_multdae_seeds(model, split, tc, [s], test=final, on_epoch=on_epoch)[0] for s in task["seeds"]]
    runs = []
    for seed, res in zip(task["seeds"], results):
        run = {"activation": task["activation"], "split_seed": task["split"]["seed"], "seed": seed, "hyper": task["hyper"],
               "best_epoch": res.best_epoch, "best_step": res.best_step, "steps": res.steps, "stop_reason": res.stop_reason,
               "epoch_cap": cap, "val": res.val, "history": _curve(res.history)}
        if final:
            run |= {"test": res.test, "test_per_user": {k: v.tolist() for k, v in res.test_per_user.items()}}
            run |= _audit_run(task, split, model, res.params, seed, payload["ratings"].item_names)
        runs.append(run)
    return {"runs": runs, "seconds": time.perf_counter() - t0, "median_epoch_seconds": float(np.median(results[0].epoch_seconds))}


def seeds_vmapped() -> bool:
    """Whether a task trains its seeds as one vmapped program: on an accelerator yes, on a CPU no (one seed after another)."""
    import jax

    return jax.default_backend() != "cpu"


def _audit_run(task: dict, split: ImplicitSplit, model: Any, params: Any, seed: int, item_names: Optional[np.ndarray] = None) -> dict:
    """Export the encoder (input ids, or the id strings of a file with string ids) and audit it on every user of the split."""
    au = task["audit"]
    enc = model.encoder(params)
    name = f"{task['model']}-{_slug(task['activation'])}-split{task['split']['seed']}-seed{seed}.npz"
    path = os.path.join(au["out"], "encoders", name)
    ids, names = (split.item_ids, None) if item_names is None else (None, item_names[split.item_ids])
    save_encoder(path, enc, normalise="l2", rows="users", values="binary", input_ids=ids, input_names=names, threshold=task["split"]["threshold"])
    first = seed == au["first_seed"] and task["split"]["seed"] == au["first_split"]
    res = audit_encoder(enc, split.all_rows(), normalise="l2", seed=seed, n_triples=au["triples"], certify=au["certify"],
                        falsify_budget=au["falsify_budget"] if first else 0.0)
    return {
        "audit": {**res.summary(), "p1": res.p1, "near_zero": res.near_zero, "norm_quantiles": res.norm_quantiles,
                  "strict_flip_rate": res.strict_flip_rate, "input_tie_rate": res.input_tie_rate},
        "certified": list(res.certified), "falsifier": res.falsifier, "encoder": os.path.join("encoders", name),
    }


# --------------------------------------------------------------------------- tasks


def _task(cfg: Any, kind: str, act: str, split_seed: int, hyper: dict, seeds: list[int], threshold: Optional[float], data: dict) -> dict:
    trial = ",".join(f"{k}={v:g}" for k, v in hyper.items())
    label = f"{act} {kind} split {split_seed} " + (f"seeds {seeds[0]}-{seeds[-1]}" if kind == "final" else trial)
    return {
        "label": label, "kind": kind, "model": cfg.model, "activation": act, "hyper": hyper, "seeds": seeds,
        "hidden": list(cfg.hidden[:-1]) + [int(hyper["width"])] if "width" in hyper else list(cfg.hidden),
        "anneal_steps": cfg.anneal_steps, "anneal_fraction": cfg.anneal_fraction, "data": data,
        "split": split_spec(cfg, threshold, split_seed),
        "train": {"batch_size": cfg.batch_size, "patience": cfg.patience, "max_steps": cfg.max_steps, "epochs": cfg.epochs, "eval_every": cfg.eval_every},
        "audit": {"out": cfg.out, "triples": cfg.triples, "certify": cfg.certify, "falsify_budget": cfg.falsify_budget,
                  "first_seed": cfg.seed, "first_split": cfg.split_seed},
    }


def _execute(cfg: Any, tasks: list[dict], ratings: Ratings, progress: Any) -> list[dict]:
    kind, _ = parse_executor(cfg.executor)
    fn = functools.partial(study_task, progress=progress) if kind == "inprocess" else study_task

    def done(task: dict, res: dict, reused: bool) -> None:
        capped = [r for r in res["runs"] if r["stop_reason"] == "cap"]
        if reused:
            progress.message(f"reused finished task: {task['label']}")
        if capped:
            progress.message(f"warning: {task['label']}: {len(capped)} run(s) stopped at the cap of {capped[0]['steps']} steps "
                             "(still improving within the patience): possibly under-trained; raise --max-steps")
        progress.run_end(task["label"], _task_means(res["runs"]))

    return run_tasks(fn, tasks, {"ratings": ratings}, executor=cfg.executor, store=os.path.join(cfg.out, "runs"), resume=cfg.resume, on_done=done)


def _tunes(cfg: Any, trials: list[dict]) -> bool:
    """Whether there is anything to tune: several initial trials (with every value fixed by --lr, --lam and one-value grids, nothing is tuned or widened)."""
    return len(trials) > 1


def tune_axes(cfg: Any) -> list[str]:
    """The axes the bracketing search may widen: the configured ones, less those fixed by --lr / --lam and width without --hidden."""
    fixed = {"lr"} if cfg.lr is not None else set()
    fixed |= {"lam"} if cfg.lam is not None else set()
    return [a for a in cfg.bracket_axes if a not in fixed and (a != "width" or cfg.hidden)]


def tuning_meta(cfg: Any, trials: list[dict], split_seeds: list[int]) -> dict:

    return {"search": cfg.search, "grid": {"lr": list(cfg.lr_grid), "lam": list(cfg.lam_grid), "dropout": list(cfg.dropout_grid),
                                           "width": [cfg.hidden[-1]] if cfg.hidden else []},
            "trials": trials, "bracketing": {"axes": {a: AXES[a].describe() for a in tune_axes(cfg)}, "max_rounds": cfg.bracket_rounds},
            "seeds_per_trial": list(range(cfg.seed, cfg.seed + cfg.tune_seeds)),
            "on": "each split's own validation users (nested): the settings of a split's final runs are chosen on that split only"}


def tune(cfg: Any, acts: list[str], trials: list[dict], split_seeds: list[int], threshold: Optional[float], data: dict, ratings: Ratings,
         progress: Any) -> tuple[dict, list[dict], list[dict]]:
    """Bracketing search per activation and split, on that split's validation users, every trial over ``cfg.tune_seeds`` seeds.

    The searches advance in lock step: each round's trials of every (activation, split) run as one batch of tasks.
    """

    if not _tunes(cfg, trials):
        return {a: {"trials": [], "chosen": trials[0], "chosen_index": 0,
                    "by_split": {str(sp): {"chosen": trials[0], "trials": []} for sp in split_seeds}} for a in acts}, [], []
    tseeds = list(range(cfg.seed, cfg.seed + cfg.tune_seeds))
    searches = {(a, sp): Bracket(trials, tune_axes(cfg), cfg.bracket_rounds) for a in acts for sp in split_seeds}
    all_tasks, all_results = [], []
    while todo := [(k, h) for k, b in searches.items() for h in b.pending()]:
        if all_tasks:  # a widening round: more tasks than announced
            progress.add_total(len(todo))
            progress.message(f"bracketing: {len(todo)} more tuning task(s) where a best value sits at the edge of the grid")
        tasks = [_task(cfg, "tune", a, sp, h, tseeds, threshold, data) for (a, sp), h in todo]
        results = _execute(cfg, tasks, ratings, progress)
        for ((a, sp), h), res in zip(todo, results):
            score, details = _trial_score(res["runs"])
            searches[(a, sp)].record(h, score, **details)
        all_tasks += tasks
        all_results += results
    return {a: _selection(a, [(sp, searches[(a, sp)]) for sp in split_seeds]) for a in acts}, all_tasks, all_results


def _trial_score(runs: list[dict]) -> tuple[float, dict]:
    """A trial's score (mean validation NDCG@100 over its seeds) and the record kept in the report."""
    val = {m: float(np.mean([r["val"].get(m, float("nan")) for r in runs])) for m in runs[0]["val"]}
    r = runs[0]
    return val.get(PRIMARY, float("nan")), {"val": val, "val_by_seed": [x["val"].get(PRIMARY) for x in runs], "best_step": r["best_step"],
                                           "steps": r["steps"], "stop_reason": "cap" if any(x["stop_reason"] == "cap" for x in runs) else r["stop_reason"],
                                           "curve": [(h["step"], h.get(f"val_{PRIMARY}")) for h in r["history"]]}


def _selection(act: str, searches: list[tuple[int, Any]]) -> dict:
    """Per split the search's report and trials; the first split's also at the top level (tables and plots)."""
    by_split = {}
    for sp, b in searches:
        best = b.best()
        by_split[str(sp)] = b.report() | {"trials": b.trials, "chosen_index": b.trials.index(best)}
    first = by_split[str(searches[0][0])]
    return {"trials": first["trials"], "chosen": first["chosen"], "chosen_index": first["chosen_index"], "chosen_val": first["chosen_score"],
            "by_split": by_split, "bracketed_everywhere": all(v["bracketed"] for v in by_split.values())}


def _task_means(runs: list[dict]) -> dict:
    """A task's validation (and test) metrics averaged over its seeds, for the progress line."""
    out = {"val": {m: float(np.mean([r["val"][m] for r in runs])) for m in runs[0]["val"]}}
    if "test" in runs[0]:
        out["test"] = {m: float(np.mean([r["test"][m] for r in runs])) for m in runs[0]["test"]}
    return out


def select_trials(acts: list[str], trials: list[dict], tune_tasks: list[dict], tune_results: list[dict]) -> dict[str, dict]:
    """Per activation: every trial's validation score and curve, and the chosen trial (best validation NDCG@100, first on ties)."""
    out: dict[str, dict] = {}
    for act in acts:
        rows = []
        for task, res in zip(tune_tasks, tune_results):
            if task["activation"] != act:
                continue
            r = res["runs"][0]
            rows.append({"hyper": task["hyper"], "val": r["val"], "best_step": r["best_step"], "steps": r["steps"],
                         "stop_reason": r["stop_reason"], "curve": [(h["step"], h.get(f"val_{PRIMARY}")) for h in r["history"]]})
        scores = [row["val"].get(PRIMARY, float("nan")) for row in rows]
        best = int(np.nanargmax(scores)) if np.any(np.isfinite(scores)) else 0
        out[act] = {"trials": rows, "chosen": rows[best]["hyper"], "chosen_index": best, "chosen_val": scores[best]}
    return out


# --------------------------------------------------------------------------- the study


def study_implicit(cfg: Any, ratings: Ratings, progress: Any) -> dict:
    """Run the tuned, converged, multi-split study of ``cfg.model`` (multdae or multvae) and return the report dict."""

    threshold = resolve_threshold(cfg.threshold, ratings)
    acts = [get_activation(a).name for a in cfg.activations]
    if len(set(acts)) != len(acts):
        raise InvalidArgument(f"activations={cfg.activations!r} lists an activation twice")
    parse_executor(cfg.executor)
    trials = make_trials(cfg.lr_grid, cfg.lam_grid, cfg.dropout_grid, cfg.search, cfg.seed)
    split_seeds = list(range(cfg.split_seed, cfg.split_seed + cfg.split_seeds))
    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    data = {"source": ratings.source, "rows": len(ratings)}
    first = task_split(ratings, split_spec(cfg, threshold, split_seeds[0]))
    for sp in split_seeds:  # every split checked before any training
        check_split_data(task_split(ratings, split_spec(cfg, threshold, sp)), sp)
    name = MODEL_NAMES[cfg.model]
    if cfg.hidden:
        trials = [h | {"width": float(cfg.hidden[-1])} for h in trials]
    n_tune = len(trials) * len(split_seeds) if _tunes(cfg, trials) else 0
    progress.start(len(acts) * (n_tune + len(split_seeds)),
                   f"{name}: {len(acts)} activations x ({n_tune} first-round tuning tasks + {len(split_seeds)} splits x {len(seeds)} seeds; "
                   "bracketing may add tuning tasks)")
    selection, tune_tasks, tune_results = tune(cfg, acts, trials, split_seeds, threshold, data, ratings, progress)
    final_tasks = [_task(cfg, "final", a, sp, selection[a]["by_split"][str(sp)]["chosen"], seeds, threshold, data) for a in acts for sp in split_seeds]
    final_results = _execute(cfg, final_tasks, ratings, progress)
    runs = [r for res in final_results for r in res["runs"]]
    per_user = {(r["activation"], r["split_seed"], r["seed"]): {k: np.asarray(v, dtype=np.float64) for k, v in r.pop("test_per_user").items()} for r in runs}
    metrics = [metric_name(k, v) for k, v in DEFAULT_METRICS]
    ref = "tanh" if "tanh" in acts else acts[0]
    summary = summarise(runs, per_user, acts, metrics, ref, {a: _class_of(a) for a in acts})
    summary["tuning"] = selection
    summary["capped"] = _capped(tune_results, runs)
    baselines, t_base, base_per_user = _baselines(cfg, ratings, threshold, split_seeds, progress)
    per_user_block, summary["analysis"] = _analysis(cfg, ratings, threshold, split_seeds, per_user | base_per_user, acts, ref, metrics)
    meta = {
        "model": cfg.model, "protocol": first.meta | {"split_seeds": split_seeds, "threshold": threshold},
        "model_config": build_model(cfg.model, first.n_items, cfg.hidden, "identity", trials[0], _first_anneal(cfg, first)).describe()
        | ({"kl_annealing": f"{cfg.anneal_steps} steps (fixed)" if cfg.anneal_steps else
            f"beta reaches 0.2 after {cfg.anneal_fraction:g} of each run's expected length (expected best step + patience, at most the cap)"} if cfg.model == "multvae" else {})
        | {"latent_activation": "varies", "weight_decay_lam": "tuned", "dropout": "tuned"},
        "train_config": {"batch_size": cfg.batch_size, "eval_every_epochs": cfg.eval_every, "patience_steps": cfg.patience,
                         "max_steps": cfg.max_steps, "epoch_cap": cfg.epochs, "select": f"validation {PRIMARY}", "optimizer": "Adam"},
        "tuning": tuning_meta(cfg, trials, split_seeds),
        "metrics": metrics, "reference_activation": ref, "split_seeds": split_seeds, "seeds_vmapped": seeds_vmapped(),
        "audit": {"rows": "every user's complete row of the run's split, L2-normalised in float32", "triples": cfg.triples,
                  "certify": cfg.certify, "falsify_budget_seconds": cfg.falsify_budget},
        "analysis": analysis_config(cfg),
    }
    report = {"meta": meta, "runs": runs, "baselines": baselines, "summary": summary, "per_user": per_user_block,
              "timing": {"task_seconds": {t["label"]: r["seconds"] for t, r in zip(tune_tasks + final_tasks, tune_results + final_results)},
                         "median_epoch_seconds": {t["label"]: r["median_epoch_seconds"] for t, r in zip(final_tasks, final_results)},
                         "baseline_seconds": t_base}}
    summary["conclusion"] = conclusion(report, ratings.synthetic)
    return report


def _first_anneal(cfg: Any, split: ImplicitSplit) -> int:
    spe = -(-split.train.n_rows // min(cfg.batch_size, split.train.n_rows))
    return anneal_steps(cfg.anneal_steps, cfg.anneal_fraction, expected_run_steps((cfg.epochs or max(1, -(-cfg.max_steps // spe))) * spe, cfg.patience))


def _capped(tune_results: list[dict], runs: list[dict]) -> dict:
    tune = [f"{r['activation']} lr={r['hyper']['lr']:g}, lam={r['hyper']['lam']:g}, dropout={r['hyper']['dropout']:g}" for res in tune_results for r in res["runs"] if r["stop_reason"] == "cap"]
    final = [f"{r['activation']} split {r['split_seed']} seed {r['seed']}" for r in runs if r["stop_reason"] == "cap"]
    return {"tuning": tune, "final": final, "n_tuning_runs": sum(len(res["runs"]) for res in tune_results), "n_final_runs": len(runs)}


def _baselines(cfg: Any, ratings: Ratings, threshold: Optional[float], split_seeds: list[int], progress: Any) -> tuple[dict, float]:
    """EASE (closed form, lambda on validation) and popularity, averaged over the splits."""
    if not cfg.ease:
        return {}, 0.0, {}

    progress.message("EASE (closed form) and popularity baselines")
    t0 = time.perf_counter()
    ease, pop, per_user = [], [], {}
    for sp in split_seeds:
        split = task_split(ratings, split_spec(cfg, threshold, sp))
        ease.append(fit_ease(split))
        pop_users = popularity_baseline(split)
        pop.append({k: float(np.nanmean(v)) for k, v in pop_users.items()})
        per_user[("EASE", sp, None)] = {k: np.asarray(v, dtype=np.float64) for k, v in ease[-1].test_per_user.items()}
        per_user[("popularity", sp, None)] = {k: np.asarray(v, dtype=np.float64) for k, v in pop_users.items()}
    metrics = list(ease[0].test)
    out = {"ease": {"lam": [e.lam for e in ease], "val": {m: float(np.mean([e.val[m] for e in ease])) for m in metrics},
                    "test": {m: float(np.mean([e.test[m] for e in ease])) for m in metrics}},
           "popularity": {"test": {m: float(np.mean([p[m] for p in pop])) for m in pop[0]}}}
    return out, time.perf_counter() - t0, per_user


def analysis_config(cfg: Any) -> dict:
    """The pre-registered analysis, fixed by the config before any run (primary metric, margin, alpha, bootstrap)."""

    return ANALYSIS_DEFAULTS | {"margin": float(cfg.margin), "seed": int(ANALYSIS_DEFAULTS["seed"] + cfg.seed),
                                "fixed": "before any run, from the command line (--margin) and latentcheck's defaults"}


def _analysis(cfg: Any, ratings: Ratings, threshold: Optional[float], split_seeds: list[int], per_user: dict, acts: list[str], ref: str,
              metrics: list[str]) -> tuple[dict, dict]:
    """The per-user score block of the report and the pre-registered analysis computed from it."""

    users = {sp: task_split(ratings, split_spec(cfg, threshold, sp)).test_users
             for sp in split_seeds}
    ac = analysis_config(cfg)
    arms = list(acts) + [b for b in ("EASE", "popularity") if any(k[0] == b for k in per_user)]
    result = analyse(per_user, arms, ref, metrics, ac["margin"], ac["n_boot"], ac["seed"], primary=ac["primary"], alpha=ac["alpha"])
    return pack_per_user(per_user, users), result


# --------------------------------------------------------------------------- summary and tests


def summarise(runs: list[dict], per_user: dict, acts: list[str], metrics: list[str], ref: str, classes: dict) -> dict:
    per_act: dict[str, Any] = {}
    for a in acts:
        rs = [r for r in runs if r["activation"] == a]
        per_act[a] = {
            "class": classes[a], "hyper": rs[0]["hyper"], "hyper_by_split": {str(r["split_seed"]): r["hyper"] for r in rs}, "runs": len(rs), "capped_runs": sum(r["stop_reason"] == "cap" for r in rs),
            "metrics": {m: mean_ci([r["test"][m] for r in rs]) for m in metrics},
            "val_metrics": {m: mean_ci([r["val"][m] for r in rs]) for m in metrics},
            "best_epoch_median": float(np.median([r["best_epoch"] for r in rs])),
            "best_step_median": float(np.median([r["best_step"] for r in rs])),
            "audit": {k: mean_ci([r["audit"][k] for r in rs]) for k in AUDIT_KEYS}
            | {"p1": all(r["audit"]["p1"] for r in rs), "certified_p3": sum(r["audit"]["certified_p3"] for r in rs),
               "certified_p2": sum(r["audit"]["certified_p2"] for r in rs)},
        }
    return {"per_activation": per_act, "paired_vs_reference": paired_comparisons(runs, per_user, acts, metrics, ref),
            "correlations": correlations(runs, metrics), "falsifier": {r["activation"]: r["falsifier"] for r in runs if r.get("falsifier")}}


def _pairs(runs: list[dict], a: str, b: str, m: str) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    idx = {(r["split_seed"], r["seed"]): r["test"][m] for r in runs if r["activation"] == b}
    keys = sorted((r["split_seed"], r["seed"]) for r in runs if r["activation"] == a and (r["split_seed"], r["seed"]) in idx)
    xa = {(r["split_seed"], r["seed"]): r["test"][m] for r in runs if r["activation"] == a}
    return np.array([xa[k] for k in keys]), np.array([idx[k] for k in keys]), keys


def compare(runs: list[dict], per_user: dict, a: str, b: str, m: str) -> dict:
    """``a`` against ``b`` on metric ``m``: paired over runs (t, Wilcoxon), over split means (t) and over test users (t)."""
    xa, xb, keys = _pairs(runs, a, b, m)
    splits = sorted({k[0] for k in keys})
    sa = [np.mean([x for x, k in zip(xa, keys) if k[0] == s]) for s in splits]
    sb = [np.mean([x for x, k in zip(xb, keys) if k[0] == s]) for s in splits]
    ua, ub = [], []
    for s in splits:  # per split: each test user's metric averaged over the training seeds
        seeds = [k[1] for k in keys if k[0] == s]
        ua.append(np.nanmean(np.stack([per_user[(a, s, t)][m] for t in seeds]), axis=0))
        ub.append(np.nanmean(np.stack([per_user[(b, s, t)][m] for t in seeds]), axis=0))
    return {"runs_t": paired_t_test(xa, xb), "runs_wilcoxon": wilcoxon_test(xa, xb), "splits_t": paired_t_test(sa, sb),
            "users_t": paired_t_test(np.concatenate(ua), np.concatenate(ub)) if ua else paired_t_test([], [])}


def paired_comparisons(runs: list[dict], per_user: dict, acts: list[str], metrics: list[str], ref: str) -> dict:
    """Every activation against ``ref``; Holm-adjusted p-values across the activations compared, per metric and test."""
    others = [a for a in acts if a != ref]
    out: dict[str, dict] = {a: {} for a in others}
    for m in metrics:
        comps = {a: compare(runs, per_user, a, ref, m) for a in others}
        for test in ("runs_t", "runs_wilcoxon", "splits_t", "users_t"):
            adj = holm([comps[a][test]["p"] for a in others])
            for a, p in zip(others, adj):
                comps[a][test]["p_holm"] = p
        for a in others:
            out[a][m] = comps[a]
    return out


def correlations(runs: list[dict], metrics: list[str]) -> dict:
    """Across runs: property against accuracy (Pearson, Spearman) and within activation (means subtracted)."""
    out: dict[str, Any] = {}
    groups = [r["activation"] for r in runs]
    for prop in ("zero_rate", "concordance", "kendall_tau_b", "p2_violation_rate", "dead_units"):
        for m in ("NDCG@100", "Recall@20"):
            if m not in metrics:
                continue
            x = np.asarray([r["audit"][prop] for r in runs], dtype=np.float64)
            y = np.asarray([r["test"][m] for r in runs], dtype=np.float64)
            r_p = pearson(x, y)
            xw, yw = x.copy(), y.copy()
            for g in set(groups):
                sel = np.array([gg == g for gg in groups])
                xw[sel] -= x[sel].mean()
                yw[sel] -= y[sel].mean()
            r_w = pearson(xw, yw) if np.ptp(xw) > 1e-15 else float("nan")
            n_eff = len(x) - len(set(groups)) + 1  # correlation_p uses n_eff - 2 = n - k - 1 degrees of freedom
            out[f"{prop}~{m}"] = {"property": prop, "metric": m, "pearson": r_p, "pearson_p": correlation_p(r_p, len(x)),
                                  "spearman": spearman(x, y), "n": len(x),
                                  "note": "property constant across runs: correlation undefined" if np.ptp(x) == 0 else "",
                                  "within_activation_pearson": r_w, "within_activation_p": correlation_p(r_w, n_eff)}
    return out


# --------------------------------------------------------------------------- conclusion


def _least_claim(runs: list[dict], per_act: dict) -> dict:
    """Is the activation with the lowest mean test NDCG@100 below every other one (paired t over runs, Holm)?"""
    means = {a: st["metrics"][PRIMARY]["mean"] for a, st in per_act.items()}
    least = min(means, key=lambda a: means[a])
    others = [a for a in means if a != least]
    tests = [paired_t_test(*_pairs(runs, least, b, PRIMARY)[:2]) for b in others]
    adj = holm([t["p"] for t in tests])
    supported = bool(others) and all(t["diff"] < 0 and p < ALPHA for t, p in zip(tests, adj))
    return {"least": least, "supported": supported, "against": {b: {"diff": t["diff"], "p_holm": p} for b, t, p in zip(others, tests, adj)}}


def _tuning_caveat(tm: dict, sel: dict) -> str:
    """How the settings were chosen, and whether every chosen value is bracketed (interior or at a stated limit)."""
    searches = [(a, sp, v) for a, st in sel.items() for sp, v in st.get("by_split", {}).items() if v.get("axes")]
    edges = [f"{a} split {sp} {ax}" for a, sp, v in searches for ax, r in v["axes"].items() if r["status"].startswith("edge")]
    br = tm.get("bracketing", {})
    head = (f"Tuning ({len(tm.get('trials', []))} initial trials, {tm.get('search')}; bracketing up to {br.get('max_rounds', 0)} rounds over "
            f"{', '.join(br.get('axes', {})) or 'no axis'}) used each split's own validation users, {len(tm.get('seeds_per_trial', [0]))} seed(s) per trial; "
            "the test users were evaluated once per final run, after selection.")
    if not searches:
        return head
    return head + (f" Every chosen value is interior or at a stated limit ({len(searches)} searches)." if not edges else
                   f" NOT bracketed (still at an edge when the rounds ran out): {', '.join(edges)}; raise --bracket-rounds.")


def _analysis_claims(an: Optional[dict]) -> tuple[list[str], list[str]]:
    """The pre-registered verdicts (primary test) as claims: equivalent / better / worse are supported, inconclusive is not."""
    if not an:
        return [], []
    supported, unsupported = [], []
    m, mg, ref = an["primary"], an["margin"], an["reference"]
    for arm, v in an["verdicts"].items():
        c = an["comparisons"][arm][m]
        where = (f"{m} difference {c['diff']:+.4f} [{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}], "
                 f"superiority Holm p = {c['p_superiority_holm']:.2g}, TOST at +-{mg:g} Holm p = {c['p_tost_holm']:.2g}")
        if v == "equivalent":
            supported.append(f"**pre-registered:** `{arm}` is as accurate as `{ref}` within +-{mg:g} {m} (TOST; {where}).")
        elif v in ("better", "worse"):
            supported.append(f"**pre-registered:** `{arm}` is {'more' if v == 'better' else 'less'} accurate than `{ref}` ({where}).")
        else:
            unsupported.append(f"**pre-registered:** neither a difference nor equivalence within +-{mg:g} between `{arm}` and `{ref}` ({where}).")
    return supported, unsupported


def conclusion(report: dict, synthetic: bool) -> dict:
    """Plain-language findings: what the runs support, what they do not, and the caveats (cap, data, tests)."""
    s, meta = report["summary"], report["meta"]
    per_act, ref = s["per_activation"], meta["reference_activation"]
    n_runs = next(iter(per_act.values()))["runs"]
    order = sorted(per_act, key=lambda a: -per_act[a]["metrics"][PRIMARY]["mean"])
    supported, unsupported = _analysis_claims(s.get("analysis"))
    caveats: list[str] = []
    ranking = ", ".join(f"{a} {per_act[a]['metrics'][PRIMARY]['mean']:.4f}" for a in order)
    for a, comp in s["paired_vs_reference"].items():
        c = comp[PRIMARY]
        rt, ut = c["runs_t"], c["users_t"]
        if rt["p_holm"] < ALPHA and ut["p_holm"] < ALPHA and np.sign(rt["diff"]) == np.sign(ut["diff"]):
            word = "more" if rt["diff"] > 0 else "less"
            supported.append(f"`{a}` is {word} accurate than `{ref}`: test {PRIMARY} difference {rt['diff']:+.4f} "
                             f"[{rt['lo']:+.4f}, {rt['hi']:+.4f}] over {rt['n']} paired runs (Holm p = {rt['p_holm']:.2g}; over test users Holm p = {ut['p_holm']:.2g}).")
        else:
            unsupported.append(f"a difference between `{a}` and `{ref}`: {rt['diff']:+.4f} [{rt['lo']:+.4f}, {rt['hi']:+.4f}] "
                               f"(Holm p = {rt['p_holm']:.2g} over runs, {ut['p_holm']:.2g} over test users); this does not show they are equal.")
    least = _least_claim(report["runs"], per_act) if len(per_act) > 1 else {"least": order[0], "supported": False, "against": {}}
    claim = f"`{least['least']}` is the least accurate latent activation"
    (supported if least["supported"] else unsupported if least["against"] else []).append(
        claim + (" (below every other activation, Holm-adjusted paired t over runs)." if least["supported"] else
                 f" (lowest mean, but not significantly below every other activation after Holm: adjusted p "
                 + ", ".join(f"{b} {v['p_holm']:.2g}" for b, v in least["against"].items()) + ")."))
    if "sigmoid" in per_act and least["least"] != "sigmoid":
        unsupported.append("the old headline \"the sigmoid latent is the least accurate Mult-DAE\": with each activation tuned, "
                           f"sigmoid is not the lowest here (lowest: `{least['least']}`).")
    cap = s["capped"]
    if cap["final"] or cap["tuning"]:
        caveats.append(f"{len(cap['final'])} of {cap['n_final_runs']} final runs and {len(cap['tuning'])} of {cap['n_tuning_runs']} tuning runs "
                       "stopped at the step cap while still improving: those models may be under-trained; rerun with a larger --max-steps.")
    else:
        caveats.append(f"No run stopped at the cap: every run stopped after {meta['train_config']['patience_steps']} optimiser steps without a better validation score.")
    caveats.append(f"One dataset ({meta['protocol']['source']}), {meta['protocol']['test_users']} test users per split, "
                   f"{len(meta['split_seeds'])} splits x {n_runs // max(1, len(meta['split_seeds']))} training seeds = {n_runs} runs per activation; "
                   "the run-level tests treat runs on the same split as independent although they share test users (the split-mean and test-user tests do not).")
    caveats.append(_tuning_caveat(meta["tuning"], s.get("tuning", {})))
    caveats.append("Correlations between latent properties and accuracy are descriptive across runs, not causal.")
    if synthetic:
        caveats.insert(0, "SYNTHETIC DATA: these numbers say nothing about real users.")
    return {"ranking": ranking, "supported": supported, "not_supported": unsupported, "caveats": caveats, "least_accurate": least}
