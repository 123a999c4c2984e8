"""The mechanism ablation (``latentcheck study --ablation WIDTHS``): does the paper's mechanism show in trained models?

The paper argues that a latent activation which maps inputs to zero (P3)
or breaks the order of dot products (P2) is a worse encoder. The accuracy
study compares activations; this ablation varies the **latent width and the
activation** together and measures, for every trained Mult-DAE:

* **exact-zero users**: users whose float32 latent vector is exactly 0, and
  how many of them (up to ``certify``) were re-checked exactly at the
  rational value of the input (:func:`audit_encoder`: exact rationals for a
  piecewise-linear latent, interval arithmetic otherwise);
* **dead units**: latent units exactly 0 for every user;
* **P2-delta violation rates** at several ``delta`` (:func:`p2_delta_rate`:
  triples whose input order is clear by ``delta |x|^2`` and whose latent
  order is strictly reversed), and the P2 violation rate (ties included);
* **accuracy**: test NDCG@100 and Recall@20.

Then, **within each activation** (so that the activation's own level does
not drive the result), a least-squares regression of accuracy on each
property across the runs (``scipy.stats.linregress``), and the same pooled
over activations with each activation's means removed (``n - k - 1``
degrees of freedom). Every regression is stated, significant or not; a
property constant within an activation has no slope (said so). Width moves
both accuracy and the properties, so a slope is an association across
widths, not an effect of the property alone.

All runs share one split and fixed hyperparameters (no tuning): the
ablation measures the mechanism, not the best accuracy.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence

import numpy as np
import lazy_loader as lazy

from .audit import audit_encoder
from .data import ImplicitSplit
from .models import MultDAE
from .train import TrainConfig, train_multdae_seeds
from ...theorems.activations import get_activation
from ...theorems.classify import class_name
from ...theorems.errors import InvalidArgument
from .._io import atomic_write_text
from .report import _json_clean as json_clean

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never fits a regression.
stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

__all__ = ["AblationConfig", "parse_widths", "ablation_config", "ablation_run", "regress", "pooled_regress", "regressions", "run_ablation", "ablation_markdown",
           "write_ablation", "DEFAULT_WIDTHS", "DEFAULT_DELTAS", "PROPERTIES"]

DEFAULT_WIDTHS: tuple[int, ...] = (16, 64, 200)
DEFAULT_DELTAS: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1)
ACCURACY = ("NDCG@100", "Recall@20")


@dataclass(frozen=True)
class AblationConfig:
    """The grid (activations x widths x seeds) and the fixed training setting of every run."""

    activations: tuple[str, ...] = ("relu", "tanh", "sigmoid", "identity")
    widths: tuple[int, ...] = DEFAULT_WIDTHS
    seeds: int = 1
    seed: int = 0
    lr: float = 3e-3
    lam: float = 0.0
    dropout: float = 0.5
    epochs: int = 300
    eval_every: int = 5
    patience: Optional[int] = None
    batch_size: int = 500
    triples: int = 20_000
    deltas: tuple[float, ...] = DEFAULT_DELTAS
    certify: int = 5

    def __post_init__(self) -> None:
        if not self.activations or not self.widths or any(w < 1 for w in self.widths):
            raise InvalidArgument(f"the ablation needs activations and widths >= 1, got {self.activations!r} and {self.widths!r}; e.g. --ablation 16,64,200")
        if self.seeds < 1 or self.epochs < 1 or self.triples < 3 or any(d < 0 for d in self.deltas):
            raise InvalidArgument("the ablation needs seeds >= 1, epochs >= 1, triples >= 3 and deltas >= 0")


#: The properties regressed against accuracy (``p2_delta:D`` for each delta of the config).
PROPERTIES: tuple[str, ...] = ("zero_rate", "dead_units", "p2_violation_rate")


def parse_widths(text: str) -> tuple[int, ...]:
    """``--ablation 16,64,200`` as latent widths; anything else is refused (exit 2)."""
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        widths = ()
    if not widths or any(w < 1 for w in widths):
        raise InvalidArgument(f"--ablation {text!r} must list latent widths >= 1, e.g. 16,64,200")
    return widths


def ablation_config(cfg: Any, widths: tuple[int, ...], given: frozenset = frozenset()) -> AblationConfig:
    """The ablation's settings from a study config: activations, seeds, lr, lam, epochs and patience where given, else the ablation's own."""
    base = AblationConfig()
    pick = lambda name, value, default: value if (name in given and value is not None) else default  # noqa: E731
    return AblationConfig(activations=tuple(cfg.activations) if "activations" in given else base.activations, widths=widths,
                          seeds=pick("seeds", cfg.seeds, base.seeds), seed=cfg.seed, lr=pick("lr", cfg.lr, base.lr), lam=pick("lam", cfg.lam, base.lam),
                          epochs=pick("epochs", cfg.epochs, base.epochs), patience=pick("patience", cfg.patience, base.patience),
                          eval_every=cfg.eval_every, triples=cfg.triples, certify=max(cfg.certify, base.certify) if "certify" not in given else cfg.certify)


def ablation_run(split: ImplicitSplit, act: str, width: int, seed: int, cfg: AblationConfig) -> dict:
    """Train one Mult-DAE (latent ``act``, width ``width``), evaluate the test users, audit its encoder on every user."""
    t0 = time.perf_counter()
    model = MultDAE(n_items=split.n_items, hidden=(int(width),), latent=act, lam=cfg.lam, dropout=cfg.dropout)
    tc = TrainConfig(epochs=cfg.epochs, batch_size=min(cfg.batch_size, split.train.n_rows), lr=cfg.lr, eval_every=cfg.eval_every,
                     patience=cfg.patience)
    res = train_multdae_seeds(model, split, tc, [seed], test=True)[0]
    au = audit_encoder(model.encoder(res.params), split.all_rows(), normalise="l2", seed=seed, n_triples=cfg.triples,
                       certify=cfg.certify, deltas=tuple(cfg.deltas))
    s = au.summary()
    return {"activation": act, "class": class_name(act), "width": int(width), "seed": int(seed), "test": res.test, "val": res.val,
            "best_step": res.best_step, "steps": res.steps, "stop_reason": res.stop_reason, "users": au.rows,
            "zero_users": au.zero_rows, "zero_rate": au.zero_rate, "certified_zero_users": s["certified_p3"],
            "dead_units": au.dead_units, "p2_violation_rate": au.p2_violation_rate,
            **{f"p2_delta:{k}": v for k, v in au.p2_delta_rates.items()}, "seconds": time.perf_counter() - t0}


def _p_from_r(r: float, df: int) -> float:
    if not math.isfinite(r) or df < 1:
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt(df / (1.0 - r * r))
    return float(2 * stats.t.sf(abs(t), df))


def regress(x: Sequence[float], y: Sequence[float]) -> dict:
    """Least squares ``y = a + b x`` (``scipy.stats.linregress``): slope, its standard error, r, two-sided p, n; no slope when x is constant."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = int(xa.size)
    if n < 3 or np.ptp(xa) == 0 or not np.all(np.isfinite(xa)) or not np.all(np.isfinite(ya)):
        why = "fewer than 3 runs" if n < 3 else ("property constant: no slope" if np.ptp(xa) == 0 else "a value is not finite")
        return {"n": n, "slope": float("nan"), "stderr": float("nan"), "r": float("nan"), "p": float("nan"), "note": why}
    fit = stats.linregress(xa, ya)
    return {"n": n, "slope": float(fit.slope), "stderr": float(fit.stderr), "r": float(fit.rvalue), "p": float(fit.pvalue), "note": ""}


def pooled_regress(x: Sequence[float], y: Sequence[float], groups: Sequence[str]) -> dict:
    """The within-group slope pooled over groups (each group's means removed; ``n - k - 1`` degrees of freedom)."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    g = np.asarray(groups)
    for k in set(groups):
        xa[g == k] -= xa[g == k].mean()
        ya[g == k] -= ya[g == k].mean()
    n, k = int(xa.size), len(set(groups))
    sxx = float(np.sum(xa * xa))
    if sxx == 0 or n - k - 1 < 1:
        return {"n": n, "groups": k, "slope": float("nan"), "r": float("nan"), "p": float("nan"),
                "note": "property constant within every activation: no slope" if sxx == 0 else "too few runs"}
    slope = float(np.sum(xa * ya) / sxx)
    syy = float(np.sum(ya * ya))
    r = float(np.sum(xa * ya) / math.sqrt(sxx * syy)) if syy > 0 else 0.0
    return {"n": n, "groups": k, "slope": slope, "r": r, "p": _p_from_r(r, n - k - 1), "note": ""}


def _statement(prop: str, metric: str, who: str, fit: dict, alpha: float = 0.05) -> str:
    if not math.isfinite(fit["slope"]):
        return f"{who}: {metric} on {prop}: no regression ({fit['note']}, n = {fit['n']})."
    word = "a significant" if fit["p"] < alpha else "no significant"
    sign = "higher" if fit["slope"] > 0 else "lower"
    return (f"{who}: {word} linear relation of {metric} to {prop} (slope {fit['slope']:+.4g}, r = {fit['r']:+.2f}, "
            f"p = {fit['p']:.2g}, n = {fit['n']})" + (f": more {prop} goes with {sign} {metric}." if fit["p"] < alpha else "."))


def regressions(runs: list[dict], properties: Sequence[str], metrics: Sequence[str] = ACCURACY) -> dict:
    """Per activation and pooled within activations: each metric regressed on each property, with a sentence for each."""
    acts = sorted({r["activation"] for r in runs})
    out: dict[str, Any] = {}
    for prop in properties:
        for m in metrics:
            per = {a: regress([r[prop] for r in runs if r["activation"] == a], [r["test"][m] for r in runs if r["activation"] == a]) for a in acts}
            pooled = pooled_regress([r[prop] for r in runs], [r["test"][m] for r in runs], [r["activation"] for r in runs])
            out[f"{m}~{prop}"] = {"property": prop, "metric": m, "per_activation": per, "pooled_within": pooled,
                                  "statements": [_statement(prop, m, a, f) for a, f in per.items()]
                                  + [_statement(prop, m, "pooled within activations", pooled)]}
    return out


def run_ablation(split: ImplicitSplit, cfg: AblationConfig, progress: Any = None, source: str = "") -> dict:
    """Every activation x width x seed: train, evaluate, audit; then the within-activation regressions."""
    acts = [get_activation(a).name for a in cfg.activations]
    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    grid = [(a, w, s) for a in acts for w in cfg.widths for s in seeds]
    t0 = time.perf_counter()
    if progress is not None:
        progress.start(len(grid), f"ablation: {len(acts)} activations x {len(cfg.widths)} widths x {len(seeds)} seeds")
    runs = []
    for a, w, s in grid:
        label = f"ablation {a} width {w} seed {s}"
        if progress is not None:
            progress.run_start(label, cfg.epochs)
        runs.append(ablation_run(split, a, w, s, cfg))
        if progress is not None:
            progress.run_end(label, {"test": runs[-1]["test"]})
    props = list(PROPERTIES) + [f"p2_delta:{d:g}" for d in cfg.deltas]
    return {"meta": {"config": asdict(cfg), "data": source, "split": split.meta, "properties": props,
                     "what": "Mult-DAE I-w-I, latent activation and width varied, fixed hyperparameters, one split; see checkers/study/ablation.py"},
            "runs": runs, "regressions": regressions(runs, props), "timing": {"total_seconds": time.perf_counter() - t0}}


def _runs_table(report: dict) -> list[str]:
    deltas = [p for p in report["meta"]["properties"] if p.startswith("p2_delta:")]
    head = ["activation", "width", "seed", "test NDCG@100", "Recall@20", "exact-zero users (certified)", "dead units", "P2 violation rate"]
    lines = ["| " + " | ".join(head + [f"P2-delta {d.split(':')[1]}" for d in deltas]) + " |", "|" + "---|" * (len(head) + len(deltas))]
    for r in report["runs"]:
        cells = [r["activation"], str(r["width"]), str(r["seed"]), f"{r['test']['NDCG@100']:.4f}", f"{r['test']['Recall@20']:.4f}",
                 f"{r['zero_users']} of {r['users']} ({r['certified_zero_users']})", str(r["dead_units"]), f"{r['p2_violation_rate']:.4f}"]
        lines.append("| " + " | ".join(cells + [f"{r[d]:.4f}" for d in deltas]) + " |")
    return lines


def _regression_table(report: dict, metric: str = "NDCG@100") -> list[str]:
    acts = sorted({r["activation"] for r in report["runs"]})
    lines = ["| property | " + " | ".join(f"{a}: slope (p)" for a in acts) + " | pooled within activations: slope (p) |",
             "|" + "---|" * (len(acts) + 2)]
    fmt = lambda f: f"{f['slope']:+.3g} ({f['p']:.2g})" if math.isfinite(f["slope"]) else f"- ({f['note']})"  # noqa: E731
    for key, reg in report["regressions"].items():
        if reg["metric"] == metric:
            lines.append(f"| {reg['property']} | " + " | ".join(fmt(reg["per_activation"][a]) for a in acts) + f" | {fmt(reg['pooled_within'])} |")
    return lines


def ablation_markdown(report: dict) -> str:
    """The ablation's report.md: what was run, the per-run table, the regression table and every statement."""
    c = report["meta"]["config"]
    sp = report["meta"]["split"]
    head = [f"# Mechanism ablation: latent width x activation ({report['meta']['data'] or sp.get('source')})", "",
            f"Mult-DAE I-w-I on split {sp['split_seed']} ({sp['train_users']} training / {sp['test_users']} test users, {sp['items']} items); "
            f"widths {', '.join(map(str, c['widths']))}; activations {', '.join(c['activations'])}; {c['seeds']} seed(s); fixed lr {c['lr']:g}, "
            f"weight decay {c['lam']:g}, dropout {c['dropout']:g}, {c['epochs']} epochs" + (f" (patience {c['patience']} steps)" if c["patience"] else "")
            + f", best validation epoch kept; {c['triples']} triples per audit; up to {c['certify']} zero users per run re-checked exactly. "
            f"{len(report['runs'])} runs, {report['timing']['total_seconds']:.0f} s.", "", "## Runs", ""]
    body = _runs_table(report) + ["", "## Accuracy (test NDCG@100) regressed on each property, within each activation", ""]
    body += _regression_table(report) + ["", "## Every regression, stated either way", ""]
    body += [f"- {s}" for reg in report["regressions"].values() for s in reg["statements"]]
    return "\n".join(head + body) + "\n"


def write_ablation(report: dict, out: str) -> dict[str, str]:
    """``report.json`` and ``report.md`` under ``out``, each written atomically."""
    os.makedirs(out, exist_ok=True)
    paths = {"json": os.path.join(out, "report.json"), "markdown": os.path.join(out, "report.md")}
    atomic_write_text(paths["json"], json.dumps(json_clean(report), indent=2, sort_keys=True) + "\n")
    atomic_write_text(paths["markdown"], ablation_markdown(report))
    return paths
