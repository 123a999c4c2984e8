"""Regenerate docs/study.md's results and README's study headline from a study folder (no hand-copied numbers).

    python docs/gen_study_tables.py docs/gallery/study-default            # rewrite docs/study.md and README.md
    python docs/gen_study_tables.py docs/gallery/study-default --check    # exit 1 if a block is stale

The folder is what ``latentcheck study --datasets ... --out DIR`` writes:
``index.json`` and one ``NAME/report.json`` per data set. Each block sits
between ``<!-- study:KEY begin -->`` and ``<!-- study:KEY end -->``:

- ``overview`` (docs/study.md): one row per data set: shape, runs, wall
  time, the best activation, EASE and popularity;
- ``headline`` (docs/study.md and README.md): per data set, which
  activations the pre-registered analysis finds equivalent to the
  reference within the declared margin (TOST), which differ, which are
  inconclusive, and EASE beside the best activation;
- ``report:NAME`` (docs/study.md): that data set's report.md
  (:func:`latentcheck.checkers.study.report.render_markdown`), its title
  dropped and its headings moved two levels down.

Everything between the markers is replaced. tests/checkers/study/test_study_docs.py
checks that the committed blocks match the committed reports, and reads
the verdicts from report.json itself to check the headline's statements.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "study.md")
README = os.path.join(HERE, "..", "README.md")

#: How the verdicts of the pre-registered analysis are worded in the headline.
VERDICT_WORDS = {"equivalent": "equivalent", "better": "more accurate", "worse": "less accurate", "inconclusive": "inconclusive"}


def load_study(folder: str) -> tuple[dict, dict[str, dict]]:
    """``index.json`` and each data set's report, in the index's order."""
    with open(os.path.join(folder, "index.json"), encoding="utf-8") as fh:
        index = json.load(fh)
    reports = {}
    for name, d in index["datasets"].items():
        with open(os.path.join(folder, d["out"], "report.json"), encoding="utf-8") as fh:
            reports[name] = json.load(fh)
    return index, reports


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def _best(rep: dict, metric: str) -> tuple[str, float]:
    per = rep["summary"]["per_activation"]
    act = max(per, key=lambda a: per[a]["metrics"][metric]["mean"])
    return act, per[act]["metrics"][metric]["mean"]


def overview(index: dict, reports: dict[str, dict]) -> str:
    """One row per data set: users x items, runs, wall minutes, the best activation, EASE and popularity (primary metric)."""
    rows = []
    for name, rep in reports.items():
        m = rep["summary"]["analysis"]["primary"]
        d, pr, cap = rep["meta"]["data"], rep["meta"]["protocol"], rep["summary"].get("capped", {})
        act, val = _best(rep, m)
        base = rep.get("baselines", {})
        rows.append([name, f"{pr['users_after_filter']} x {pr['items']} (of {d['users']} x {d['items']})", f"{cap.get('n_tuning_runs', '-')} / {cap.get('n_final_runs', '-')}",
                     f"{rep['timing']['total_seconds'] / 60:.1f}", f"{act} {val:.4f}",
                     f"{base['ease']['test'][m]:.4f}" if "ease" in base else "-",
                     f"{base['popularity']['test'][m]:.4f}" if "popularity" in base else "-"])
    rows.append(["all", "", "", f"{index['total_seconds'] / 60:.1f}", "", "", ""])
    return _table(["data set", "users x items kept (of the file's)", "training runs (tuning / final)", "wall minutes",
                   "best activation, test NDCG@100 (mean)", "EASE", "popularity"], rows)


def headline_lines(reports: dict[str, dict]) -> list[str]:
    """Per data set, one bullet: the verdict of every arm against the reference at the declared margin, and EASE."""
    out = []
    for name, rep in reports.items():
        an = rep["summary"]["analysis"]
        m, ref = an["primary"], an["reference"]
        groups: dict[str, list[str]] = {}
        for arm, v in an["verdicts"].items():
            groups.setdefault(v, []).append(f"`{arm}`")
        parts = [f"{', '.join(arms)}: **{VERDICT_WORDS.get(v, v)}**" for v, arms in sorted(groups.items())]
        act, val = _best(rep, m)
        ease = rep.get("baselines", {}).get("ease", {}).get("test", {}).get(m)
        tail = f"; EASE {ease:.4f} beside the best activation (`{act}`, {val:.4f})" if ease is not None else ""
        out.append(f"- **{name}** ({m} against `{ref}`, margin +-{an['margin']:g}, TOST and superiority, Holm): "
                   + "; ".join(parts) + tail + ".")
    return out


def headline(index: dict, reports: dict[str, dict]) -> str:
    tail = f"- Wall time of the whole study: {index['total_seconds'] / 60:.1f} min ({', '.join(rep['meta']['machine'] for rep in list(reports.values())[:1])})."
    return "\n".join(headline_lines(reports) + [tail])


def report_section(rep: dict, link: str) -> str:
    """The data set's report.md without its title and plots (linked instead: ``link``), headings two levels down."""
    from latentcheck.checkers.study.report import render_markdown

    out, skip = [], False
    for ln in render_markdown(rep).splitlines()[1:]:
        if ln.startswith("## "):
            skip = ln.strip() == "## Plots"
            if skip:
                out += ["#### Plots", "", f"In the study's own report: [{link}]({link}).", ""]
        if not skip:
            out.append(("##" + ln) if ln.startswith("#") else ln)
    return "\n".join(out).strip()


def blocks(index: dict, reports: dict[str, dict], folder: str) -> dict[str, str]:
    """Every generated block; the reports are linked as ``gallery/<folder's name>/NAME/report.md`` (docs/gallery)."""
    rel = "gallery/" + os.path.basename(os.path.normpath(folder))
    out = {"overview": overview(index, reports), "headline": headline(index, reports)}
    out |= {f"report:{name}": report_section(rep, f"{rel}/{index['datasets'][name]['out']}/report.md") for name, rep in reports.items()}
    return out


def render(doc: str, made: dict[str, str]) -> str:
    """``doc`` with every marked block it holds replaced by the generated one."""
    for key, text in made.items():
        pat = re.compile(rf"(<!-- study:{re.escape(key)} begin -->).*?(<!-- study:{re.escape(key)} end -->)", re.S)
        doc = pat.sub(lambda mm, t=text: mm.group(1) + "\n" + t + "\n" + mm.group(2), doc)
    return doc


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", help="a study folder written by latentcheck study --datasets (index.json, NAME/report.json)")
    ap.add_argument("--doc", default=DOC)
    ap.add_argument("--readme", default=README)
    ap.add_argument("--check", action="store_true", help="exit 1 when a block differs from the reports")
    a = ap.parse_args(argv)
    made = blocks(*load_study(a.study), a.study)
    stale = []
    for path in (a.doc, a.readme):
        with open(path, encoding="utf-8") as fh:
            doc = fh.read()
        new = render(doc, made)
        if new != doc:
            stale.append(path)
            if not a.check:
                _write(path, new)
    if a.check and stale:
        print(f"{', '.join(stale)}: blocks differ from {a.study}; run python docs/gen_study_tables.py {a.study}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
