"""``latentcheck study-stats REPORT``: recompute every number of a study's analysis from its per-user scores.

From the per-user test scores stored in ``report.json`` (``per_user``, with
its SHA-256) this recomputes, with the same code paths as the study:

* each final run's test metrics (the mean over its test users);
* each activation's mean and 95% interval over runs;
* the paired comparisons against the reference (over runs, split means and
  test users, with Holm);
* the EASE and popularity test metrics (mean over splits);
* the pre-registered analysis (hierarchical cluster bootstrap, TOST at the
  declared margin, superiority, Holm per metric), with the bootstrap seed
  and resample count recorded in ``meta.analysis``;

and compares every number with the one in the report. Agreement means a
relative difference of at most 1e-9 (or both missing).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterator

import numpy as np

from ...theorems.errors import InvalidArgument

from .analysis import analyse, unpack_per_user
from .report import mean_ci
from .implicit import paired_comparisons
from .report import _json_clean

__all__ = ["load_study_report", "recompute", "compare_numbers", "flatten"]

RTOL = 1e-9


def load_study_report(path: str) -> dict:
    """Read a study ``report.json`` that carries per-user scores; :class:`InvalidArgument` (exit 2) otherwise."""
    p = os.path.join(path, "report.json") if os.path.isdir(path) else path
    try:
        with open(p, encoding="utf-8") as fh:
            report = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"REPORT {path!r} could not be read as JSON ({exc.__class__.__name__}); give a study's report.json") from None
    if not isinstance(report, dict) or "per_user" not in report or "analysis" not in report.get("meta", {}):
        raise InvalidArgument(f"REPORT {path!r} holds no per-user scores and pre-registered analysis; rerun the study with this latentcheck version")
    return report


def _none_to_nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _run_means(per_user: dict, runs: list[dict], metrics: list[str]) -> list[dict]:
    """The runs with ``test`` recomputed as each metric's mean over the run's test users (NaN users skipped)."""
    out = []
    for r in runs:
        scores = per_user[(r["activation"], r["split_seed"], r["seed"])]
        test = {m: float(np.nanmean(scores[m])) if np.any(np.isfinite(scores[m])) else float("nan") for m in metrics}
        out.append({**r, "test": test})
    return out


def recompute(report: dict) -> dict[str, Any]:
    """Every recomputable number, as a nested dict whose paths mirror the report's."""

    try:
        per_user, _ = unpack_per_user(report["per_user"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidArgument(f"the report's per-user scores are unusable: {exc}; use an unaltered report.json") from None
    meta, ac = report["meta"], report["meta"]["analysis"]
    metrics, ref = list(meta["metrics"]), meta["reference_activation"]
    acts = list(report["summary"]["per_activation"])
    runs = _run_means(per_user, report["runs"], metrics)
    act_user = {k: v for k, v in per_user.items() if k[0] in acts}
    out: dict[str, Any] = {"runs": [{"test": r["test"]} for r in runs], "summary": {
        "per_activation": {a: {"metrics": {m: mean_ci([r["test"][m] for r in runs if r["activation"] == a]) for m in metrics}} for a in acts},
        "paired_vs_reference": paired_comparisons(runs, act_user, acts, metrics, ref)}}
    baselines = sorted({k[0] for k in per_user if k[2] is None})
    out["baselines"] = {b.lower() if b == "EASE" else b: {"test": {m: float(np.mean([np.nanmean(v[m]) for k, v in sorted(per_user.items(), key=lambda kv: kv[0][1])
                                                                                if k[0] == b])) for m in metrics}} for b in baselines}
    out["summary"]["analysis"] = analyse(per_user, acts + baselines, ref, metrics, ac["margin"], ac["n_boot"], ac["seed"],
                                         primary=ac["primary"], alpha=ac["alpha"])
    return out


def flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, leaf)`` for every number, string or None leaf of nested dicts and lists."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def _get(report: Any, path: str) -> Any:
    cur = report
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            idx = int(part[1:-1])
            cur = cur[idx] if isinstance(cur, list) and idx < len(cur) else KeyError
        else:
            cur = cur.get(part, KeyError) if isinstance(cur, dict) else KeyError
        if cur is KeyError:
            return KeyError
    return cur


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str) or isinstance(a, bool) or isinstance(b, bool):
        return a == b
    x, y = _none_to_nan(a), _none_to_nan(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= RTOL * max(1.0, abs(x), abs(y))


def compare_numbers(report: dict, recomputed: dict) -> tuple[int, list[dict]]:
    """``(numbers compared, mismatches)``: every recomputed leaf against the report's value at the same path."""

    n, bad = 0, []
    for path, val in flatten(_json_clean(recomputed)):
        if isinstance(val, (int, float)) or val is None or isinstance(val, str):
            stored = _get(report, path)
            n += 1
            if stored is KeyError or not _same(stored, val):
                bad.append({"path": path, "report": None if stored is KeyError else stored, "recomputed": val})
    return n, bad
