"""Regenerate docs/study.md's cost-profile and ablation tables from their JSON (no hand-copied numbers).

    python docs/gen_study_extra.py            # rewrite docs/study.md
    python docs/gen_study_extra.py --check    # exit 1 if a table is stale

``<!-- study-extra:profile begin/end -->`` is built from benchmarks/results/study_profile.json
(benchmarks/study_profile.py), ``<!-- study-extra:ablation begin/end -->`` and
``<!-- study-extra:ablation-statements begin/end -->`` from docs/gallery/ablation-ml100k/report.json
(benchmarks/study_ablation.py, or ``latentcheck study --ablation``), and the ``ablation-narrow`` pair from
docs/gallery/ablation-ml100k-narrow/report.json, the ``ablation-lastfm-narrow`` pair from
docs/gallery/ablation-lastfm-narrow/report.json. tests/checkers/study/test_study_docs.py checks them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "study.md")
PROFILE = os.path.join(HERE, "..", "benchmarks", "results", "study_profile.json")
ABLATION = os.path.join(HERE, "gallery", "ablation-ml100k", "report.json")
NARROW = os.path.join(HERE, "gallery", "ablation-ml100k-narrow", "report.json")
LASTFM_NARROW = os.path.join(HERE, "gallery", "ablation-lastfm-narrow", "report.json")


def _table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows])


def profile(p: dict) -> str:
    """Per data set: shape, measured CPU costs, runs, steps per run and the estimated CPU minutes; then the totals."""
    rows = []
    for name, d in p["datasets"].items():
        e, k, sh = d["estimate"], d["estimate"]["costs"], d["shape"]
        conv = d.get("convergence", {})
        rows.append([name, f"{sh['items']:,} items, {sh['train_users']:,} / {sh['val_users']} / {sh['test_users']} users",
                     f"{k['step'] * 1e3:.1f}", f"{k['validation'] * 1e3:.1f}", f"{k['overhead']:.2f}", f"{k['audit']:.2f}",
                     f"{e['runs']['tune_runs']:g} + {e['runs']['final_runs']}", f"{e['steps_per_run']:,} (best {e['best_step']:g})",
                     f"{conv['median_best_step']:g} ({len(conv['runs'])} runs)" if conv else "-",
                     f"{e['cpu_seconds']['total'] / 60:.1f} (at most {e['cpu_seconds']['total_max'] / 60:.1f})"])
    w = p["wall_minutes_at_parallelism"]
    head = ["data set", "shape (split 98765)", "CPU ms / step", "CPU ms / validation", "CPU s / run overhead", "CPU s / audit",
            "runs (tuning + final)", "steps / run (expected best step)", "measured best step, median", "CPU minutes"]
    foot = (f"\n\nTotal {p['total_cpu_minutes']:.1f} CPU minutes: wall {w['1.0']:.1f} min at one busy core, {w['1.6']:.1f} at 1.6, "
            f"{w['2.0']:.1f} at 2. Load average while measuring: {p['load_average_before'][0]:.1f} before, {p['load_average_after'][0]:.1f} after; "
            f"{p['environment']['machine']}.")
    return _table(head, rows) + foot


def ablation(r: dict) -> str:
    """The per-run table and the regression table of the ablation report, as the report renders them."""
    sys.path.insert(0, os.path.join(HERE, ".."))
    from latentcheck.checkers.study.ablation import _regression_table, _runs_table

    return "\n".join(_runs_table(r) + ["", "Test NDCG@100 regressed on each property, within each activation (slope and two-sided p):", ""]
                     + _regression_table(_nan(r)))


def _nan(obj: Any) -> Any:
    """JSON's null (a NaN in the report) back to NaN."""
    if isinstance(obj, dict):
        return {k: _nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan(v) for v in obj]
    return float("nan") if obj is None else obj


def statements(r: dict) -> str:
    return "\n".join(f"- {s}" for reg in r["regressions"].values() if reg["metric"] == "NDCG@100" for s in reg["statements"])


TABLES: dict[str, tuple[str, Callable[[dict], str]]] = {"profile": (PROFILE, profile), "ablation": (ABLATION, ablation),
                                                         "ablation-statements": (ABLATION, statements), "ablation-narrow": (NARROW, ablation),
                                                         "ablation-narrow-statements": (NARROW, statements),
                                                         "ablation-lastfm-narrow": (LASTFM_NARROW, ablation),
                                                         "ablation-lastfm-narrow-statements": (LASTFM_NARROW, statements)}


def render(doc: str, sources: dict[str, dict]) -> str:
    for name, (path, fn) in TABLES.items():
        pat = re.compile(rf"(<!-- study-extra:{name} begin -->).*?(<!-- study-extra:{name} end -->)", re.S)
        doc = pat.sub(lambda m, fn=fn, path=path: m.group(1) + "\n" + fn(sources[path]) + "\n" + m.group(2), doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc", default=DOC)
    ap.add_argument("--profile", default=PROFILE)
    ap.add_argument("--ablation", default=ABLATION)
    ap.add_argument("--narrow", default=NARROW)
    ap.add_argument("--lastfm-narrow", default=LASTFM_NARROW)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    src = {}
    for key, path in ((PROFILE, a.profile), (ABLATION, a.ablation), (NARROW, a.narrow), (LASTFM_NARROW, a.lastfm_narrow)):
        with open(path, encoding="utf-8") as fh:
            src[key] = json.load(fh)
    doc = open(a.doc, encoding="utf-8").read()
    new = render(doc, src)
    if a.check:
        if new != doc:
            print(f"{a.doc}: the profile or ablation tables differ from their JSON; run python docs/gen_study_extra.py", file=sys.stderr)
            return 1
        return 0
    if new != doc:
        with open(a.doc + ".tmp", "w", encoding="utf-8") as fh:
            fh.write(new)
        os.replace(a.doc + ".tmp", a.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
