"""The bracketing search on a fake trainer with a known validation surface (no training)."""

from __future__ import annotations

import math

import pytest

from latentcheck.checkers.study.tuning import AXES, Bracket, step


def _surface(h):
    """Peak at lr = 9e-3 (log scale), lam = 1e-4, dropout = 0.3, width 600; smooth, unimodal along every axis."""
    lam = math.log10(h["lam"]) if h["lam"] > 0 else -6.0
    return -((math.log10(h["lr"]) - math.log10(9e-3)) ** 2 + 0.5 * (lam + 4) ** 2 + (h["dropout"] - 0.3) ** 2
             + (math.log10(h["width"]) - math.log10(600)) ** 2)


def _run(b, f=_surface):
    calls = 0
    while todo := b.pending():
        for h in todo:
            b.record(h, f(h))
            calls += 1
    return calls


GRID = [{"lr": lr, "lam": lam, "dropout": 0.5, "width": 200} for lr in (1e-3, 3e-3) for lam in (1e-3, 1e-2)]


def test_widening_reaches_the_interior_optimum_of_every_axis():
    b = Bracket(GRID, ["lr", "lam", "dropout", "width"], max_rounds=20)
    _run(b)
    rep = b.report()
    assert rep["chosen"] == {"lr": 0.009, "lam": 1e-4, "dropout": 0.3, "width": 600.0}
    assert {a: v["status"] for a, v in rep["axes"].items()} == dict.fromkeys(("lr", "lam", "dropout", "width"), "interior")
    assert rep["bracketed"] and rep["rounds"] < 20
    for a, v in rep["axes"].items():  # the reported curve is the line through the optimum, rising then falling
        xs, ys = zip(*v["curve"])
        i = xs.index(rep["chosen"][a])
        assert 0 < i < len(xs) - 1 and ys[i] == max(ys)


def test_widening_stops_at_the_stated_limits():
    b = Bracket(GRID, ["lr", "lam", "dropout", "width"], max_rounds=30)
    _run(b, lambda h: h["lr"] - h["lam"] + h["dropout"] + h["width"])  # best at every upper limit, lam at 0
    rep = b.report()
    assert rep["chosen"] == {"lr": AXES["lr"].hi, "lam": 0.0, "dropout": AXES["dropout"].hi, "width": AXES["width"].hi}
    assert rep["axes"]["lr"]["status"] == "at the upper limit 0.03" and rep["axes"]["lam"]["status"] == "at the lower limit 0"
    assert rep["bracketed"]  # a stated limit counts as bracketed, and is said so


def test_rounds_exhausted_is_reported_as_not_bracketed():
    b = Bracket(GRID, ["lr"], max_rounds=1)
    n = _run(b, lambda h: h["lr"])
    assert n == len(GRID) + 1 and b.report()["axes"]["lr"]["status"].startswith("edge") and not b.report()["bracketed"]
    b0 = Bracket(GRID, ["lr"], max_rounds=0)
    assert _run(b0, lambda h: h["lr"]) == len(GRID)  # 0 rounds: the old fixed grid


def test_fixed_axes_are_not_widened_and_steps_are_as_stated():
    b = Bracket(GRID, ["lam"], max_rounds=10)
    _run(b)
    assert {t["hyper"]["lr"] for t in b.trials} == {1e-3, 3e-3} and {t["hyper"]["width"] for t in b.trials} == {200}
    assert step(AXES["lam"], 1e-5, up=False) == 0.0 and step(AXES["lam"], 0.0, up=True) == 1e-5
    assert step(AXES["lr"], 3e-3, up=True) == 0.009 and step(AXES["lr"], 0.027, up=True) == 0.03 and step(AXES["lr"], 0.03, up=True) is None
    assert step(AXES["width"], 200, up=False) == 67.0 and step(AXES["dropout"], 0.1, up=False) == 0.0


def test_pending_refuses_before_every_score_is_recorded():
    b = Bracket(GRID, ["lr"], max_rounds=2)
    b.pending()
    with pytest.raises(RuntimeError):
        b.pending()


# --------------------------------------------------------------------------- in the study (tiny synthetic run)


@pytest.mark.slow  # a whole study run twice or more: outside the 10-minute CI tier (pytest -m slow)
def test_study_tunes_every_split_on_its_own_validation_users(tmp_path):
    import glob
    import json

    from typer.testing import CliRunner

    from latentcheck.checkers.cli.app import app

    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["study", "--seeds", "1", "--split-seeds", "2", "--epochs", "1", "--activations", "relu", "--lr-grid", "1e-3,3e-3",
                                   "--lam", "0", "--hidden", "8", "--triples", "50", "--falsify-budget", "0", "--no-ease", "--batch-size", "250",
                                   "--bracket-rounds", "1", "--bracket-axes", "lr", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rep = json.loads((out / "report.json").read_text())
    tuning = rep["summary"]["tuning"]["relu"]
    assert sorted(tuning["by_split"]) == ["98765", "98766"] and rep["meta"]["tuning"]["seeds_per_trial"] == [0, 1]
    stored = [json.loads(open(f).read()) for f in glob.glob(str(out / "runs" / "*.json"))]
    tune = [s for s in stored if s["task"]["kind"] == "tune"]
    for sp, sel in tuning["by_split"].items():
        assert sel["n_trials"] == len(sel["trials"]) == 3  # 2 initial, 1 widening step along lr from the best edge
        for t in sel["trials"]:  # each score: the mean validation NDCG@100 of 2 seeds trained on this split only
            (task,) = [s for s in tune if s["task"]["split"]["seed"] == int(sp) and s["task"]["hyper"] == t["hyper"]]
            assert task["task"]["seeds"] == [0, 1]
            assert t["score"] == sum(r["val"]["NDCG@100"] for r in task["result"]["runs"]) / 2
        finals = [r for r in rep["runs"] if r["split_seed"] == int(sp)]
        assert all(r["hyper"] == sel["chosen"] for r in finals)  # the split's final runs use the split's own choice
        assert sel["chosen"] == max(sel["trials"], key=lambda t: t["score"])["hyper"]
        assert set(sel["axes"]) == {"lr"} and "lr" in sel["axes"]
    assert "bracketing" in res.stderr and "[7/" in res.stderr  # 2 splits x 3 trials + ... the total grew with the widening round


def test_multvae_annealing_is_scaled_to_the_run_unless_fixed():
    from latentcheck.checkers.study.models import MultVAE
    from latentcheck.checkers.study.experiment import StudyConfig
    from latentcheck.checkers.study.implicit import anneal_steps

    total = anneal_steps(None, 0.1, 50_000)
    m = MultVAE(n_items=10, hidden=(4,), total_anneal_steps=total)
    # beta (independently: min(0.2, step / total)) reaches 0.2 after 10% of a 50,000-step cap, and not before
    assert float(m.beta(5_000)) == pytest.approx(0.2) and float(m.beta(4_000)) < 0.2
    assert anneal_steps(200_000, 0.1, 50_000) == 200_000  # the old default, kept under --anneal-steps
    cmd = StudyConfig(model="multvae").command()
    assert "--anneal-fraction 0.1" in cmd and "--anneal-steps 200000" in StudyConfig(model="multvae", anneal_steps=200_000).command()
