"""``latentcheck study``: does the latent activation matter on real data?

For every activation and every seed, train the model, evaluate it on the
held-out users (or ratings), export its encoder, and audit the encoder's
latent properties on the data. Then summarise: per activation the mean and
95% interval of each metric, a paired test against the published choice
(tanh for Mult-DAE; sigmoid latent with identity output for I-AutoRec), the
audit figures, the correlation between properties and accuracy across runs,
and the linear reference (EASE) and popularity rows.

The report is deterministic given the command: the same data, options and
seeds give the same ``report.json`` apart from its ``timing`` keys.
"""

from __future__ import annotations

import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Optional, Sequence

import numpy as np

from .audit import audit_encoder, save_encoder
from .data import Ratings, load_or_synthetic, rating_split
from .models import AutoRec
from .report import (
    PUBLISHED_AUTOREC_ML1M,
    mean_ci,
    paired_t_test,
    sign_flip_test,
    write_report,
)
from .train import TrainConfig, train_autorec
from ...theorems.activations import get_activation
from ...theorems.errors import InvalidArgument
from ...theorems.classify import class_name
from .._env import jax_device, package_version as ver
from .implicit import DEFAULT_GRID, DEFAULT_MAX_STEPS, DEFAULT_PATIENCE, study_implicit

__all__ = [
    "StudyConfig",
    "StudyProgress",
    "run_study",
    "split_activation_list",
    "parse_autorec_pair",
    "DEFAULT_ACTIVATIONS",
    "DEFAULT_AUTOREC_PAIRS",
    "DEFAULT_EPOCHS",
    "environment",
    "mean_baselines",
]

#: Latent activations compared by default (Mult-DAE).
DEFAULT_ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "identity", "softplus")
#: (g latent, f output) pairs of the I-AutoRec table, as in Sedhain et al. 2015, Table 1(a).
DEFAULT_AUTOREC_PAIRS: tuple[str, ...] = ("identity/identity", "identity/sigmoid", "sigmoid/identity", "sigmoid/sigmoid")
#: Default epochs of I-AutoRec (Mult-DAE / Mult-VAE stop early: see study_implicit.DEFAULT_PATIENCE and DEFAULT_MAX_STEPS).
DEFAULT_EPOCHS = {"autorec": 250}
MODELS = ("multdae", "multvae", "autorec")


@dataclass(frozen=True)
class StudyConfig:
    """Everything that determines a study's numbers.

    ``None`` fields take the model's defaults. Mult-DAE / Mult-VAE: hidden
    200, batch 500, every activation tuned over the same trials (``lr_grid``
    x ``lam_grid`` x ``dropout_grid``, or ``search="random:N"``), early
    stopping after ``patience`` optimiser steps without a better validation
    NDCG@100, capped at ``max_steps`` (or ``epochs``, when given), over
    ``split_seeds`` splits x ``seeds`` training seeds. I-AutoRec: hidden
    500, full batch, Adam 1e-2, lam picked from ``autorec_lambdas`` on
    validation, 250 epochs.
    """

    data: Optional[str] = None
    model: str = "multdae"
    activations: tuple[str, ...] = ()
    seeds: int = 3
    seed: int = 0
    epochs: Optional[int] = None
    hidden: tuple[int, ...] = ()
    batch_size: Optional[int] = None
    lr: Optional[float] = None
    lam: Optional[float] = None
    autorec_lambdas: tuple[float, ...] = (3.0, 10.0, 30.0, 100.0, 300.0)
    eval_every: int = 5
    triples: int = 20_000
    certify: int = 1
    falsify_budget: float = 2.0
    ease: bool = True
    threshold: Optional[float] = None
    heldout: float = 0.1
    split_seed: int = 98765
    out: str = "runs/study"
    columns: Optional[str] = None
    min_user_items: int = 5
    min_item_users: int = 1
    split_seeds: int = 3
    patience: Optional[int] = None
    max_steps: Optional[int] = None
    lr_grid: tuple[float, ...] = ()
    lam_grid: tuple[float, ...] = ()
    dropout_grid: tuple[float, ...] = ()
    search: str = "grid"
    anneal_steps: Optional[int] = None
    anneal_fraction: float = 0.1
    executor: Optional[str] = None
    resume: bool = False
    margin: float = 0.01
    tune_seeds: int = 2
    bracket_rounds: int = 4
    bracket_axes: tuple[str, ...] = ("lr", "lam", "dropout", "width")

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise InvalidArgument(f"model={self.model!r} must be one of {', '.join(MODELS)}")
        if self.seeds < 1 or self.split_seeds < 1:
            raise InvalidArgument(f"seeds={self.seeds!r} and split_seeds={self.split_seeds!r} must be at least 1, e.g. 3")
        if self.epochs is not None and self.epochs < 1:
            raise InvalidArgument(f"epochs={self.epochs!r} must be at least 1")
        if self.triples < 0 or self.certify < 0 or self.falsify_budget < 0:
            raise InvalidArgument("triples, certify and falsify_budget must be >= 0")
        if (self.patience is not None and self.patience < 0) or (self.max_steps is not None and self.max_steps < 1):
            raise InvalidArgument(f"patience={self.patience!r} must be >= 0 steps (0: no early stopping) and max_steps={self.max_steps!r} >= 1")
        if self.min_user_items < 1 or self.min_item_users < 1:
            raise InvalidArgument(f"min_user_items={self.min_user_items!r} and min_item_users={self.min_item_users!r} must be at least 1, e.g. 5 and 1")
        if self.tune_seeds < 1 or self.bracket_rounds < 0:
            raise InvalidArgument(f"tune_seeds={self.tune_seeds!r} must be >= 1 (default 2) and bracket_rounds={self.bracket_rounds!r} >= 0 (0: no widening)")
        if not set(self.bracket_axes) <= {"lr", "lam", "dropout", "width"}:
            raise InvalidArgument(f"bracket_axes={self.bracket_axes!r} must be among lr, lam, dropout, width")
        if not (0 < self.anneal_fraction <= 1) or (self.anneal_steps is not None and self.anneal_steps < 1):
            raise InvalidArgument(f"anneal_fraction={self.anneal_fraction!r} must be in (0, 1] and anneal_steps={self.anneal_steps!r} >= 1 (or None)")
        if not (0 < self.margin < 1):
            raise InvalidArgument(f"margin={self.margin!r} must be in (0, 1): the equivalence margin on test NDCG@100, e.g. 0.01")

    def resolved(self) -> "StudyConfig":
        """The config with every default filled in."""

        m = self.model
        acts = self.activations or (DEFAULT_ACTIVATIONS if m != "autorec" else DEFAULT_AUTOREC_PAIRS)
        base = replace(self, activations=tuple(acts), hidden=self.hidden or ((500,) if m == "autorec" else (200,)),
                       batch_size=self.batch_size or (2048 if m == "autorec" else 500))
        if m == "autorec":
            return replace(base, epochs=self.epochs or DEFAULT_EPOCHS[m], lr=self.lr if self.lr is not None else 1e-2)
        grid = lambda fixed, given, key: (fixed,) if fixed is not None else (tuple(given) or DEFAULT_GRID[key])  # noqa: E731
        return replace(
            base,
            lr_grid=grid(self.lr, self.lr_grid, "lr"), lam_grid=grid(self.lam, self.lam_grid, "lam"), dropout_grid=tuple(self.dropout_grid) or DEFAULT_GRID["dropout"],
            patience=DEFAULT_PATIENCE if self.patience is None else self.patience, max_steps=self.max_steps or DEFAULT_MAX_STEPS,
        )

    def command(self) -> str:
        c = self.resolved()
        parts = ["latentcheck study"]
        if c.data:
            parts.append(f"--data {c.data}")
        if c.columns:
            parts.append(f"--columns {c.columns}")
        if c.threshold is not None:
            parts.append(f"--threshold {c.threshold:g}")
        if c.min_item_users > 1:
            parts.append(f"--min-item-users {c.min_item_users}")
        if c.min_user_items != 5:
            parts.append(f"--min-user-items {c.min_user_items}")
        parts += [f"--architecture {c.model}", f"--activations '{','.join(c.activations)}'", f"--seeds {c.seeds}"]
        if c.model == "autorec":
            parts.append(f"--epochs {c.epochs}")
        else:
            parts += _implicit_options(self, c)
        parts += _audit_options(c)
        if c.seed:
            parts.append(f"--seed {c.seed}")
        return " ".join(parts)


def _grid(values: Sequence[float]) -> str:
    return ",".join(f"{v:g}" for v in values)


def _implicit_options(given: "StudyConfig", c: "StudyConfig") -> list[str]:
    """The Mult-DAE / Mult-VAE options of the command: every grid and schedule spelled out (``c``: ``given`` resolved).

    A fixed learning rate or weight decay stays ``--lr`` / ``--lam`` and the
    width is printed only when it was given (``--hidden``): those choices
    also decide which axes the bracketing search may widen (:func:`tune_axes`).
    """
    out = [f"--anneal-steps {c.anneal_steps}" if c.anneal_steps else f"--anneal-fraction {c.anneal_fraction:g}"] if c.model == "multvae" else []
    out += [f"--hidden {','.join(str(h) for h in given.hidden)}"] if given.hidden else []
    out += [f"--batch-size {c.batch_size}", f"--split-seeds {c.split_seeds}",
            f"--lr {given.lr:g}" if given.lr is not None else f"--lr-grid {_grid(c.lr_grid)}",
            f"--lam {given.lam:g}" if given.lam is not None else f"--lam-grid {_grid(c.lam_grid)}",
            f"--dropout-grid {_grid(c.dropout_grid)}", f"--eval-every {c.eval_every}", f"--patience {c.patience}",
            f"--max-steps {c.max_steps}", f"--search {c.search}", f"--margin {c.margin:g}", f"--tune-seeds {c.tune_seeds}",
            f"--bracket-rounds {c.bracket_rounds}", f"--bracket-axes {','.join(c.bracket_axes) or 'none'}"]
    return out + ([f"--epochs {c.epochs}"] if c.epochs else [])


def _audit_options(c: "StudyConfig") -> list[str]:
    """The audit and baseline options that differ from their defaults."""
    d = StudyConfig()
    out = [f"--triples {c.triples}"] if c.triples != d.triples else []
    out += [f"--certify {c.certify}"] if c.certify != d.certify else []
    out += [f"--falsify-budget {c.falsify_budget:g}"] if c.falsify_budget != d.falsify_budget else []
    return out + ([] if c.ease else ["--no-ease"])


class StudyProgress:
    """Hooks for progress display; the default does nothing."""

    def start(self, total_runs: int, description: str) -> None: ...

    def run_start(self, label: str, epochs: int) -> None: ...

    def epoch(self, epoch: int, info: dict) -> None: ...

    def run_end(self, label: str, result: dict) -> None: ...

    def add_total(self, runs: int) -> None:
        """More runs than announced at :meth:`start` (the bracketing search widened an axis)."""

    def message(self, text: str) -> None: ...


def split_activation_list(text: str) -> tuple[str, ...]:
    """Split ``"tanh,Max(0, t-1),sigmoid"`` on commas outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if (ch == "," or ch == ";") and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    items = tuple(s for s in out if s)
    if not items:
        raise InvalidArgument(f"activations={text!r} lists no activation; give names such as tanh,sigmoid,relu")
    return items


def parse_autorec_pair(spec: str) -> tuple[str, str]:
    """``"g/f"`` or ``"g:f"`` -> (latent g, output f); a lone name means ``name/identity``.

    ``:`` separates formulas (``'t/(1+Abs(t)):identity'``); ``/`` is for catalog names.
    """
    s = spec.strip()
    if ":" in s:
        g, f = s.split(":", 1)
    elif "/" in s:
        g, f = s.split("/", 1)
        if "/" in f or "(" in g:
            raise InvalidArgument(f"AutoRec pair {spec!r} is ambiguous; separate formulas with ':' as in 'g:f'")
    else:
        g, f = s, "identity"
    return get_activation(g.strip()).name, get_activation(f.strip()).name


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    return s[:60] or "activation"


def environment() -> dict[str, Any]:
    """Versions, device and machine for the report."""
    import jax


    platform_name, kind, count = jax_device()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "versions": {"latentcheck": ver("latentcheck"), "jax": jax.__version__, "jaxlib": ver("jaxlib"), "optax": ver("optax"),
                     "numpy": np.__version__, "python": platform.python_version()},
        "device": f"{platform_name}:{kind} x{count}",
        "machine": f"{cpu}, {os.cpu_count()} logical cores",
    }


def _class_of(name: str) -> str:

    return class_name(name)


# --------------------------------------------------------------------------- Mult-DAE study


def _history_for_json(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


# --------------------------------------------------------------------------- I-AutoRec study


def mean_baselines(split: Any) -> tuple[float, float]:
    """Test RMSE of the global mean rating and of each item's mean training rating (global mean for unseen items)."""
    train, test = split.train, split.test
    mu = float(np.mean(train.data)) if train.nnz else 0.0
    truth = test.data.astype(np.float64)
    rows_tr = np.repeat(np.arange(train.n_rows), train.row_lengths())
    sums = np.bincount(rows_tr, weights=train.data.astype(np.float64), minlength=train.n_rows)
    cnt = train.row_lengths()
    item_mean = np.where(cnt > 0, sums / np.maximum(cnt, 1), mu)
    rows_te = np.repeat(np.arange(test.n_rows), test.row_lengths())
    return float(np.sqrt(np.mean((truth - mu) ** 2))), float(np.sqrt(np.mean((truth - item_mean[rows_te]) ** 2)))


def _study_autorec(cfg: StudyConfig, ratings: Ratings, progress: StudyProgress) -> dict:
    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    pairs = [parse_autorec_pair(p) for p in cfg.activations]
    if len(set(pairs)) != len(pairs):
        raise InvalidArgument(f"activations={cfg.activations!r} lists a (g, f) pair twice")
    lambdas = (cfg.lam,) if cfg.lam is not None else tuple(cfg.autorec_lambdas)
    tc = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, eval_every=cfg.eval_every)
    n_select = len(pairs) * len(lambdas) if len(lambdas) > 1 else 0
    progress.start(n_select + len(pairs) * len(seeds), f"I-AutoRec x {len(pairs)} (g, f) pairs x {len(seeds)} seeds")
    splits = {s: rating_split(ratings, seed=s) for s in seeds}
    runs: list[dict] = []
    selection: dict[str, Any] = {}
    timing = {"run_seconds": {}, "median_epoch_seconds": {}}
    for g, f in pairs:
        key = f"{g}/{f}"
        lam = lambdas[0]
        if len(lambdas) > 1:  # pick lam on the first seed's validation ratings
            selection[key] = _autorec_select_lambda(cfg, tc, splits[seeds[0]], g, f, lambdas, seeds[0], progress, timing)
            lam = selection[key]["chosen"]
        for seed in seeds:
            runs.append(_autorec_run(cfg, tc, splits[seed], g, f, lam, seed, seed == seeds[0], ratings.user_names, progress, timing))
    keys = [f"{g}/{f}" for g, f in pairs]
    ref = "sigmoid/identity" if "sigmoid/identity" in keys else keys[0]
    return {
        "meta": _autorec_meta(splits[seeds[0]], int(cfg.hidden[0]), lambdas, tc, ref),
        "runs": runs,
        "baselines": _autorec_baselines(splits, seeds),
        "summary": {"per_config": _autorec_per_config(runs, pairs), "paired_vs_reference": _autorec_paired(runs, keys, ref, seeds),
                    "lambda_selection": selection},
        "timing": timing,
    }


def _autorec_select_lambda(cfg: StudyConfig, tc: TrainConfig, split: Any, g: str, f: str, lambdas: Sequence[float], seed: int,
                           progress: StudyProgress, timing: dict) -> dict:
    """Validation RMSE of every lambda on one seed's split; the lowest is chosen (ties: the smaller lambda)."""
    scores = {}
    for lv in lambdas:
        label = f"{g}/{f} lam={lv} (selection, seed {seed})"
        progress.run_start(label, cfg.epochs)
        model = AutoRec(n_users=split.train.n_cols, hidden=int(cfg.hidden[0]), latent=g, output=f, lam=lv)
        res = train_autorec(model, split, replace(tc, seed=seed), on_epoch=progress.epoch)
        scores[str(lv)] = res.val["RMSE"]
        timing["run_seconds"][label] = res.total_seconds
        progress.run_end(label, {"val": res.val})
    return {"val_RMSE_by_lambda": scores, "chosen": float(min(scores, key=lambda k: (scores[k], float(k))))}


def _autorec_run(cfg: StudyConfig, tc: TrainConfig, sp: Any, g: str, f: str, lam: float, seed: int, first: bool,
                 user_names: Optional[np.ndarray], progress: StudyProgress, timing: dict) -> dict:
    """Train one (g, f) pair on one seed's split, export its encoder (inputs: users) and audit it on the items."""
    label = f"{g}/{f} seed {seed}"
    progress.run_start(label, cfg.epochs)
    model = AutoRec(n_users=sp.train.n_cols, hidden=int(cfg.hidden[0]), latent=g, output=f, lam=lam)
    res = train_autorec(model, sp, replace(tc, seed=seed), on_epoch=progress.epoch)
    enc = model.encoder(res.params)
    path = os.path.join(cfg.out, "encoders", f"autorec-{_slug(g)}-{_slug(f)}-seed{seed}.npz")
    ids, names = (sp.user_ids, None) if user_names is None else (None, user_names[sp.user_ids])
    save_encoder(path, enc, normalise=f"divide:{model.scale:g}", rows="items", values="ratings", input_ids=ids, input_names=names, threshold=None)
    audit = audit_encoder(enc, sp.train, normalise=f"divide:{model.scale:g}", seed=seed, n_triples=cfg.triples, certify=cfg.certify,
                          falsify_budget=cfg.falsify_budget if first else 0.0)
    run = {
        "config": f"{g}/{f}", "g": g, "f": f, "lam": lam, "seed": seed, "best_epoch": res.best_epoch, "val": res.val, "test": res.test,
        "audit": {**audit.summary(), "p1": audit.p1}, "certified": list(audit.certified), "falsifier": audit.falsifier,
        "encoder": os.path.relpath(path, cfg.out), "history": _history_for_json(res.history),
    }
    timing["run_seconds"][label] = res.total_seconds + audit.seconds
    timing["median_epoch_seconds"][label] = float(np.median(res.epoch_seconds))
    progress.run_end(label, run)
    return run


def _autorec_baselines(splits: dict, seeds: list[int]) -> dict:
    """Global-mean and item-mean test RMSE per seed, with their mean and interval."""
    base: dict[str, list[float]] = {"global mean": [], "item mean": []}
    for s in seeds:
        g_rmse, i_rmse = mean_baselines(splits[s])
        base["global mean"].append(g_rmse)
        base["item mean"].append(i_rmse)
    return {k: {"RMSE": mean_ci(v), "per_seed": v} for k, v in base.items()}


def _autorec_per_config(runs: list[dict], pairs: list[tuple[str, str]]) -> dict:
    per_cfg = {}
    for g, f in pairs:
        k = f"{g}/{f}"
        rs = [r for r in runs if r["config"] == k]
        per_cfg[k] = {
            "g": g, "f": f, "class_g": _class_of(g), "lam": rs[0]["lam"],
            "RMSE": mean_ci([r["test"]["RMSE"] for r in rs]),
            "val_RMSE": mean_ci([r["val"].get("RMSE", float("nan")) for r in rs]),
            "best_epoch_median": float(np.median([r["best_epoch"] for r in rs])),
            "published_ml1m": PUBLISHED_AUTOREC_ML1M.get((g, f)),
            "audit": {kk: mean_ci([r["audit"][kk] for r in rs]) for kk in ("zero_rate", "dead_units", "concordance", "kendall_tau_b", "p2_violation_rate")}
            | {"certified_p3": sum(r["audit"]["certified_p3"] for r in rs), "certified_p2": sum(r["audit"]["certified_p2"] for r in rs)},
        }
    return per_cfg


def _autorec_paired(runs: list[dict], keys: list[str], ref: str, seeds: list[int]) -> dict:
    """Each (g, f) against ``ref`` over the seeds: paired t and the exact sign-flip test."""
    paired = {}
    for k in keys:
        if k == ref:
            continue
        xa = [next(r["test"]["RMSE"] for r in runs if r["config"] == k and r["seed"] == s) for s in seeds]
        xr = [next(r["test"]["RMSE"] for r in runs if r["config"] == ref and r["seed"] == s) for s in seeds]
        paired[k] = {"t_test": paired_t_test(xa, xr), "sign_flip_seeds": sign_flip_test(np.subtract(xa, xr))}
    return paired


def _autorec_meta(split: Any, hidden: int, lambdas: Sequence[float], tc: TrainConfig, ref: str) -> dict:
    return {
        "model": "autorec",
        "protocol": split.meta | {"split_seed": "the run's seed"},
        "model_config": {"model": "autorec", "variant": "I-AutoRec", "hidden": hidden, "input": "item rating vectors / 5",
                         "lambda_grid": list(lambdas), "lambda_selection": "validation RMSE of the first seed" if len(lambdas) > 1 else "fixed"},
        "train_config": {k: v for k, v in asdict(tc).items() if k not in ("seed", "select")} | {"select": "validation RMSE"},
        "metrics": ["RMSE"],
        "reference_activation": ref,
        "published": {"source": "Sedhain et al. 2015, Table 1(a), MovieLens-1M, I-AutoRec",
                      "values": {f"{g}/{f}": v for (g, f), v in PUBLISHED_AUTOREC_ML1M.items()},
                      "note": "published constants displayed for comparison; not computed by latentcheck"},
    }


# --------------------------------------------------------------------------- entry


def run_study(config: StudyConfig, progress: Optional[StudyProgress] = None) -> tuple[dict, dict[str, str]]:
    """Run the study, write ``report.json``, ``report.md`` and plots under ``config.out``.

    Returns:
        ``(report, paths)``: the JSON-ready report and the written files.
    """
    progress = progress or StudyProgress()
    t0 = time.perf_counter()
    cfg = config.resolved()
    ratings = load_or_synthetic(cfg.data, columns=cfg.columns)
    if ratings.synthetic:
        progress.message(f"no --data given: using SYNTHETIC data {ratings.source}")
    os.makedirs(cfg.out, exist_ok=True)
    if cfg.model != "autorec":

        report = study_implicit(cfg, ratings, progress)
    else:
        if not ratings.has_value:
            raise InvalidArgument("--architecture autorec needs explicit ratings: give --columns USER,ITEM,VALUE")
        report = _study_autorec(cfg, ratings, progress)
    env = environment()
    report["meta"].update({
        "command": cfg.command(),
        "data": ratings.describe(),
        "seeds": list(range(cfg.seed, cfg.seed + cfg.seeds)),
        "executor": cfg.executor or "inprocess",
        "dtype": "float32",
        "device": env["device"],
        "machine": env["machine"],
        "versions": env["versions"],
        "synthetic": ratings.synthetic,
    })
    report["timing"]["total_seconds"] = time.perf_counter() - t0
    paths = write_report(report, cfg.out)
    return report, paths
