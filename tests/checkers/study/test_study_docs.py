"""docs/study.md's tables are generated from the committed report (docs/gen_study_tables.py) and match it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
REPORT = os.path.join(ROOT, "docs", "gallery", "study-ml100k-tuned", "summary.json")
DOC = os.path.join(ROOT, "docs", "study.md")
GEN = os.path.join(ROOT, "docs", "gen_study_tables.py")


def _gen(*args):
    return subprocess.run([sys.executable, GEN, REPORT, *args], capture_output=True, text=True)


def test_committed_tables_match_the_committed_report():
    res = _gen("--check")
    assert res.returncode == 0, res.stderr


def test_a_changed_report_number_makes_the_check_fail(tmp_path):
    rep = json.load(open(REPORT))
    rep["summary"]["per_activation"]["relu"]["metrics"]["NDCG@100"]["mean"] += 0.01
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps(rep))
    res = subprocess.run([sys.executable, GEN, str(bad), "--doc", DOC, "--check"], capture_output=True, text=True)
    assert res.returncode == 1 and "differ" in res.stderr


def test_every_table_is_marked_and_no_superseded_figure_is_quoted_as_current():
    doc = open(DOC).read()
    for name in ("results", "audit", "correlations", "timing", "analysis"):
        assert doc.count(f"<!-- study-table:{name} begin -->") == 1 and doc.count(f"<!-- study-table:{name} end -->") == 1
    rep = json.load(open(REPORT))
    rs = [r["audit"] for r in rep["runs"] if r["activation"] == "relu"]
    # the contradictions: the tuned report has a dead ReLU unit and fewer than 200 live units for some user
    assert max(r["dead_units"] for r in rs) >= 1 and "no unit is dead" not in doc
    assert "r = 0.97" not in doc and "131 of 200" not in doc and "0.09-0.16" not in doc
    fewest = min(r["fewest_nonzero_units"] for r in rs)
    assert f"| relu | 0 | {max(r['dead_units'] for r in rs):g} | {fewest:g} |" in doc  # the audit row, read independently


EXTRA = os.path.join(ROOT, "docs", "gen_study_extra.py")
ABLATION = os.path.join(ROOT, "docs", "gallery", "ablation-ml100k", "report.json")


def test_profile_and_ablation_tables_match_their_json():
    res = subprocess.run([sys.executable, EXTRA, "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    doc = open(DOC).read()
    for name in ("profile", "ablation", "ablation-statements"):
        assert doc.count(f"<!-- study-extra:{name} begin -->") == 1 and doc.count(f"<!-- study-extra:{name} end -->") == 1


def test_a_changed_ablation_number_makes_the_extra_check_fail(tmp_path):
    rep = json.load(open(ABLATION))
    rep["runs"][0]["test"]["NDCG@100"] += 0.01
    bad = tmp_path / "a.json"
    bad.write_text(json.dumps(rep))
    res = subprocess.run([sys.executable, EXTRA, "--ablation", str(bad), "--check"], capture_output=True, text=True)
    assert res.returncode == 1 and "differ" in res.stderr
