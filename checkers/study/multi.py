"""The study over several named data sets (``latentcheck study --datasets default``) and its plan (``--plan``).

Each data set runs the same study into ``OUT/<name>/`` (its own report.json,
report.md, plots and encoders, and ``latentcheck study-stats OUT/<name>``
recomputes it); ``OUT/index.json`` and ``OUT/README.md`` list the data sets,
their shapes and each report's conclusion.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from typing import Any, Optional, Sequence

from .data import Ratings, liang_split, load_or_synthetic
from .ablation import ablation_config, parse_widths, run_ablation, write_ablation
from .datasets import DataSet, resolve_dataset
from .experiment import StudyConfig, StudyProgress, run_study
from .implicit import make_trials, resolve_threshold, tune_axes
from .plan import calibrate, estimate, expected_best_step, format_plan
from ...theorems.errors import InvalidArgument
from .._io import atomic_write_text

__all__ = ["dataset_config", "resolve_all", "plan_one", "plan_study", "run_datasets", "index_markdown", "single", "ablation_for"]


def dataset_config(cfg: StudyConfig, ds: DataSet, path: str) -> StudyConfig:
    """``cfg`` for one named data set: its path, columns, threshold and item filter (unless set), output under ``OUT/<name>``."""
    return replace(cfg, data=path, columns=ds.columns, threshold=cfg.threshold if cfg.threshold is not None else ds.threshold,
                   min_item_users=cfg.min_item_users if cfg.min_item_users > 1 else ds.min_item_users, out=os.path.join(cfg.out, ds.name))


def resolve_all(cfg: StudyConfig, names: Sequence[str], root: Optional[str]) -> list[tuple[str, StudyConfig]]:
    """Every named data set resolved (all checked before any work: a missing one is exit 2) with its config."""
    if cfg.data or cfg.columns:
        raise InvalidArgument("give --data FILE (with --columns) or --datasets NAMES, not both: each named data set knows its columns")
    if cfg.model == "autorec":
        raise InvalidArgument("--datasets runs the implicit-feedback study (multdae, multvae); for autorec give --data")
    out = []
    for n in names:
        ds, path = resolve_dataset(n, root)
        out.append((n, dataset_config(cfg, ds, path)))
    return out


def _first_split(cfg: StudyConfig, ratings: Ratings) -> Any:
    return liang_split(ratings, threshold=resolve_threshold(cfg.threshold, ratings), min_user_items=cfg.min_user_items,
                       heldout=cfg.heldout, seed=cfg.split_seed, min_item_users=cfg.min_item_users)


def plan_one(name: str, cfg: StudyConfig) -> dict:
    """Calibrate on the data's first split and estimate the study's cost (plan.py's model)."""
    c = cfg.resolved()
    if c.model == "autorec":
        raise InvalidArgument("--plan models the implicit-feedback study (multdae, multvae), not autorec")
    ratings = load_or_synthetic(c.data, columns=c.columns)
    split = _first_split(c, ratings)
    trials = make_trials(c.lr_grid, c.lam_grid, c.dropout_grid, c.search, c.seed)
    costs = calibrate(split, c)
    est = estimate(c, costs, len(trials), len(tune_axes(c)), best_step=expected_best_step(c.lr_grid))
    return {"name": name, "source": ratings.source, "synthetic": ratings.synthetic, "command": c.command(),
            "shape": {k: split.meta[k] for k in ("items", "train_users", "val_users", "test_users")}, "estimate": est}


def plan_study(items: list[tuple[str, StudyConfig]]) -> dict:
    """The plan of every data set and the totals; ``lines`` is the text to print."""
    plans = [plan_one(n, c) for n, c in items]
    cpu = sum(p["estimate"]["cpu_seconds"]["total"] for p in plans)
    wall = sum(p["estimate"]["wall_seconds"] for p in plans)
    runs = sum(p["estimate"]["runs"]["tune_runs"] + p["estimate"]["runs"]["final_runs"] for p in plans)
    lines = [ln for p in plans for ln in format_plan(p["name"] + (" (SYNTHETIC)" if p["synthetic"] else ""), p["estimate"])]
    lines.append(f"total: {runs:g} training runs, {cpu / 60:.1f} CPU minutes (an upper bound on the idle wall time of a process "
                 f"using at least one core), wall {wall / 60:.1f} min at the parallelism measured now; within 60 minutes at a parallelism "
                 f"(CPU seconds per wall second) of at least {cpu / 3600:.2f}; an estimate, not a measurement")
    return {"datasets": plans, "runs": runs, "cpu_seconds": cpu, "wall_seconds": wall, "lines": lines}


def run_datasets(items: list[tuple[str, StudyConfig]], out: str, progress: Optional[StudyProgress] = None) -> tuple[dict, dict[str, str]]:
    """Run the study on every data set in turn; write ``OUT/index.json`` and ``OUT/README.md``."""
    progress = progress or StudyProgress()
    t0 = time.perf_counter()
    done: dict[str, Any] = {}
    for name, c in items:
        progress.message(f"data set {name}: {c.data}")
        report, paths = run_study(c, progress)
        done[name] = {"out": os.path.relpath(c.out, out), "data": report["meta"].get("data"), "command": report["meta"].get("command"),
                      "conclusion": report["summary"].get("conclusion", {}), "seconds": report["timing"].get("total_seconds")}
    index = {"datasets": done, "total_seconds": time.perf_counter() - t0}
    os.makedirs(out, exist_ok=True)
    paths = {"json": os.path.join(out, "index.json"), "md": os.path.join(out, "README.md")}
    atomic_write_text(paths["json"], json.dumps(index, indent=2, sort_keys=True, default=str) + "\n")
    atomic_write_text(paths["md"], index_markdown(index))
    return index, paths


def index_markdown(index: dict) -> str:
    """The index of a several-data-set study: each data set's report and the claims it supports."""
    lines = ["# latentcheck study: every data set", ""]
    for name, d in index["datasets"].items():
        con = d.get("conclusion") or {}
        lines += [f"## {name}", "", f"Report: [{d['out']}/report.md]({d['out']}/report.md); `{d.get('command')}`; "
                  f"{(d.get('seconds') or 0) / 60:.1f} min.", ""]
        lines += ["Supported:"] + ([f"- {s}" for s in con.get("supported", [])] or ["- (nothing)"])
        lines += ["", "Not supported:"] + ([f"- {s}" for s in con.get("not_supported", [])] or ["- (nothing)"]) + [""]
    lines.append(f"Total: {index['total_seconds'] / 60:.1f} min.")
    return "\n".join(lines) + "\n"


def single(cfg: StudyConfig) -> list[tuple[str, StudyConfig]]:
    """The one data set of ``--data`` (or the synthetic set) as a one-item list, named by its file."""
    name = os.path.basename(os.path.normpath(cfg.data)) if cfg.data else "synthetic"
    return [(name, cfg)]


def ablation_for(items: list[tuple[str, StudyConfig]], widths: str, given: frozenset, progress: Optional[StudyProgress] = None) -> dict[str, str]:
    """The mechanism ablation on each data set (its first split), written to ``OUT`` (one data set) or ``OUT/<name>/ablation``."""
    results: dict[str, str] = {}
    for name, c in items:
        acfg = ablation_config(c, parse_widths(widths), given)
        ratings = load_or_synthetic(c.data, columns=c.columns)
        split = _first_split(c, ratings)
        report = run_ablation(split, acfg, progress, source=name + (" (SYNTHETIC)" if ratings.synthetic else ""))
        out = c.out if len(items) == 1 else os.path.join(c.out, "ablation")
        results |= {f"{name} {k}": v for k, v in write_ablation(report, out).items()}
    return results
