"""Regenerate the tables of docs/study.md from a study report (no hand-copied numbers).

    python docs/gen_study_tables.py docs/gallery/study-ml100k-tuned/summary.json            # rewrite docs/study.md
    python docs/gen_study_tables.py docs/gallery/study-ml100k-tuned/summary.json --check    # exit 1 if it is stale

Each table sits between ``<!-- study-table:NAME begin -->`` and
``<!-- study-table:NAME end -->`` in docs/study.md; everything between the
markers is replaced by the table built from the report (``results``,
``audit``, ``correlations``, ``timing``, and ``analysis`` when the report
carries the pre-registered analysis). tests/checkers/study/test_study_docs.py checks that
the committed tables match the committed report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Callable

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "study.md")


def _f(v: Any, d: int = 4) -> str:
    return "-" if v is None else f"{v:.{d}f}"


def _p(v: Any) -> str:
    return "-" if v is None else ("<1e-4" if v < 1e-4 else f"{v:.2g}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def results(rep: dict) -> str:
    """Per activation: class, chosen settings, test NDCG@100 / Recall@20, the paired difference with the reference; then the baselines."""
    s, ref = rep["summary"], rep["meta"]["reference_activation"]
    order = sorted(s["per_activation"], key=lambda a: -s["per_activation"][a]["metrics"]["NDCG@100"]["mean"])
    rows = []
    for a in order:
        st = s["per_activation"][a]
        m, h = st["metrics"]["NDCG@100"], st["hyper"]
        row = [a, st["class"], f"{h['lr']:g} / {h['lam']:g}", f"{_f(m['mean'])} [{_f(m['lo'])}, {_f(m['hi'])}] ({st['runs']} runs)",
               _f(st["metrics"]["Recall@20"]["mean"])]
        c = s["paired_vs_reference"].get(a, {}).get("NDCG@100")
        if c:
            t = c["runs_t"]
            row += [f"{t['diff']:+.4f} [{t['lo']:+.4f}, {t['hi']:+.4f}]", f"{_p(t.get('p_holm'))} / {_p(c['users_t'].get('p_holm'))}"]
        else:
            row += ["(reference)", ""]
        rows.append(row)
    for name, b in rep.get("baselines", {}).items():
        lam = f"lam {', '.join(f'{v:g}' for v in b['lam'])}" if "lam" in b else ""
        rows.append([name, "", lam, _f(b["test"]["NDCG@100"]), _f(b["test"]["Recall@20"]), "", ""])
    return _table(["latent activation", "class", "chosen lr / lam", "test NDCG@100 [95% interval]", "Recall@20",
                   f"paired difference with {ref} (NDCG@100, runs)", "Holm p (runs / test users)"], rows)


def audit(rep: dict) -> str:
    """Per activation over its final runs: exact-zero users, dead units, fewest live units of any user, concordance, P2 violations."""
    rows = []
    for a, st in rep["summary"]["per_activation"].items():
        rs = [r["audit"] for r in rep["runs"] if r["activation"] == a]
        rows.append([a, str(sum(r["zero_rate"] > 0 for r in rs)), f"{max(r['dead_units'] for r in rs):g}",
                     f"{min(r['fewest_nonzero_units'] for r in rs):g}", f"{100 * st['audit']['zero_unit_fraction']['mean']:.1f}%",
                     _f(st["audit"]["concordance"]["mean"], 3),
                     f"{100 * min(r['p2_violation_rate'] for r in rs):.0f}-{100 * max(r['p2_violation_rate'] for r in rs):.0f}%",
                     f"{st['audit']['certified_p2']} of {len(rs)}"])
    return _table(["latent activation", "runs with an exact-zero user", "most dead units in a run", "fewest nonzero units of any user",
                   "units exactly 0 per user (mean)", "ordering concordance (mean)", "P2 violation rate (range over runs)",
                   "runs with a certified P2 flip"], rows)


def correlations(rep: dict) -> str:
    rows = []
    for c in rep["summary"]["correlations"].values():
        rows.append([c["property"], c["metric"], _f(c["pearson"], 3), str(c["n"]), _f(c["within_activation_pearson"], 3),
                     _p(c["within_activation_p"]), c.get("note") or ""])
    return _table(["property", "metric", "Pearson r across runs", "runs", "within-activation r", "p", "note"], rows)


def timing(rep: dict) -> str:
    t = rep["timing"]
    me = list(t.get("median_epoch_seconds", {}).values())
    rows = [["wall time of the study", f"{t['total_seconds']:.0f} s"],
            ["median seconds per training epoch, final tasks (range over tasks)", f"{min(me):.3f}-{max(me):.3f} s" if me else "-"],
            ["machine", rep["meta"]["machine"]], ["device", rep["meta"]["device"]]]
    return _table(["what", "value"], rows)


def analysis(rep: dict) -> str:
    an = rep["summary"].get("analysis")
    if not an:
        return "(this report predates the pre-registered analysis: no per-user scores; rerun the study to fill this table)"
    m = an["primary"]
    rows = [[a, f"{c[m]['diff']:+.4f} [{c[m]['ci95'][0]:+.4f}, {c[m]['ci95'][1]:+.4f}]", _p(c[m].get("p_superiority_holm")),
             _p(c[m].get("p_tost_holm")), an["verdicts"][a]] for a, c in an["comparisons"].items()]
    return _table(["arm", f"{m} difference with {an['reference']} [95% cluster-bootstrap interval]", "superiority Holm p",
                   f"TOST at +-{an['margin']:g} Holm p", "verdict"], rows)


TABLES: dict[str, Callable[[dict], str]] = {"results": results, "audit": audit, "correlations": correlations, "timing": timing,
                                            "analysis": analysis}


def render(doc: str, rep: dict) -> str:
    """``doc`` with every marked table replaced by the one built from ``rep``."""
    for name, fn in TABLES.items():
        pat = re.compile(rf"(<!-- study-table:{name} begin -->).*?(<!-- study-table:{name} end -->)", re.S)
        doc = pat.sub(lambda mm, fn=fn: mm.group(1) + "\n" + fn(rep) + "\n" + mm.group(2), doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", help="the study's report.json (or the gallery's summary.json)")
    ap.add_argument("--doc", default=DOC)
    ap.add_argument("--check", action="store_true", help="exit 1 when the document's tables differ from the report's")
    a = ap.parse_args(argv)
    with open(a.report, encoding="utf-8") as fh:
        rep = json.load(fh)
    with open(a.doc, encoding="utf-8") as fh:
        doc = fh.read()
    new = render(doc, rep)
    if a.check:
        if new != doc:
            print(f"{a.doc}: tables differ from {a.report}; run python docs/gen_study_tables.py {a.report}", file=sys.stderr)
            return 1
        return 0
    if new != doc:
        tmp = a.doc + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(new)
        os.replace(tmp, a.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
