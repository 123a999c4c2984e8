"""docs/study.md's results and README's study headline are generated from the committed study (docs/gen_study_tables.py) and match it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STUDY = os.path.join(ROOT, "docs", "gallery", "study-default")
DOC = os.path.join(ROOT, "docs", "study.md")
README = os.path.join(ROOT, "README.md")
GEN = os.path.join(ROOT, "docs", "gen_study_tables.py")
DATASETS = ("ml-100k", "lastfm")
#: How the headline words each verdict: written here independently of the generator.
WORDS = {"equivalent": "equivalent", "better": "more accurate", "worse": "less accurate", "inconclusive": "inconclusive"}


def _gen(study, *args):
    return subprocess.run([sys.executable, GEN, study, *args], capture_output=True, text=True)


def _report(name):
    with open(os.path.join(STUDY, name, "report.json"), encoding="utf-8") as fh:
        return json.load(fh)


def test_committed_blocks_match_the_committed_reports():
    res = _gen(STUDY, "--check")
    assert res.returncode == 0, res.stderr


def test_a_changed_report_number_makes_the_check_fail(tmp_path):
    study = tmp_path / "study-default"
    shutil.copytree(STUDY, study)
    assert _gen(str(study), "--doc", DOC, "--readme", README, "--check").returncode == 0  # the copy itself is not stale
    path = study / "ml-100k" / "report.json"
    rep = json.loads(path.read_text())
    rep["baselines"]["ease"]["test"]["NDCG@100"] += 0.01
    path.write_text(json.dumps(rep))
    res = _gen(str(study), "--doc", DOC, "--readme", README, "--check")
    assert res.returncode == 1 and "differ" in res.stderr


def _bullet(text, name):
    lines = [ln for ln in text.splitlines() if ln.startswith(f"- **{name}**")]
    assert len(lines) == 1, f"one headline bullet for {name}, found {len(lines)}"
    return lines[0]


def _stated(bullet):
    """arm -> verdict word, read from a bullet "...: `a`, `b`: **word**; `c`: **word**; EASE ..."."""
    body = bullet.split("Holm): ", 1)[1]
    out = {}
    for part in body.split("; "):
        if "**" not in part or not part.startswith("`"):
            continue
        arms, word = part.rsplit(": **", 1)
        for arm in arms.split(", "):
            out[arm.strip("`")] = word.split("**")[0]
    return out


@pytest.mark.parametrize("name", DATASETS)
def test_the_headline_states_each_verdict_of_the_report(name):
    verdicts = _report(name)["summary"]["analysis"]["verdicts"]
    want = {arm: WORDS[v] for arm, v in verdicts.items()}
    for path in (DOC, README):
        with open(path, encoding="utf-8") as fh:
            assert _stated(_bullet(fh.read(), name)) == want, path


@pytest.mark.parametrize("name", DATASETS)
def test_the_reports_hold_per_user_scores_for_every_final_run(name):
    rep = _report(name)
    finals = {(r["activation"], r["split_seed"], r["seed"]) for r in rep["runs"]}
    assert finals and rep["per_user"]["scores"]
    keys = set(rep["per_user"]["scores"])
    assert all(f"{a}|{sp}|{sd}" in keys for a, sp, sd in finals), sorted(keys)[:5]


@pytest.mark.parametrize("name", DATASETS)
def test_study_stats_reproduces_every_analysis_number_of_the_committed_report(name):
    """The numbers docs/study.md quotes from the analysis come back from the per-user scores alone (exit 0, nothing differs)."""
    from typer.testing import CliRunner

    from latentcheck.checkers.cli.app import app

    res = CliRunner().invoke(app, ["study-stats", os.path.join(STUDY, name), "--json"])
    assert res.exit_code == 0, res.output[-2000:]
    out = json.loads(res.stdout)
    assert out["disagree"] == [] and out["compared"] > 300


def test_no_superseded_figure_is_quoted_as_current():
    doc = open(DOC, encoding="utf-8").read()
    for old in ("r = 0.97", "131 of 200", "0.09-0.16", "no unit is dead", "-0.009 NDCG@100", "study-table:"):
        assert old not in doc, old


EXTRA = os.path.join(ROOT, "docs", "gen_study_extra.py")
ABLATION = os.path.join(ROOT, "docs", "gallery", "ablation-ml100k", "report.json")


def test_profile_and_ablation_tables_match_their_json():
    res = subprocess.run([sys.executable, EXTRA, "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    doc = open(DOC).read()
    for name in ("profile", "ablation", "ablation-statements", "ablation-narrow", "ablation-lastfm-narrow", "ablation-lastfm-narrow-statements"):
        assert doc.count(f"<!-- study-extra:{name} begin -->") == 1 and doc.count(f"<!-- study-extra:{name} end -->") == 1


def test_a_changed_ablation_number_makes_the_extra_check_fail(tmp_path):
    rep = json.load(open(ABLATION))
    rep["runs"][0]["test"]["NDCG@100"] += 0.01
    bad = tmp_path / "a.json"
    bad.write_text(json.dumps(rep))
    res = subprocess.run([sys.executable, EXTRA, "--ablation", str(bad), "--check"], capture_output=True, text=True)
    assert res.returncode == 1 and "differ" in res.stderr
