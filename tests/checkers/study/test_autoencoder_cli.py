"""``latentcheck study`` and ``latentcheck audit`` end to end on synthetic data (tiny epochs)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from latentcheck.checkers.cli.app import app

runner = CliRunner()

STUDY = ["study", "--seeds", "2", "--epochs", "3", "--bracket-rounds", "0", "--tune-seeds", "1", "--activations", "tanh,relu", "--triples", "300",
         "--falsify-budget", "0", "--batch-size", "200", "--eval-every", "1", "--split-seeds", "1", "--lr-grid", "1e-3,3e-3", "--lam", "0"]


def _strip_timing(report: dict) -> dict:
    out = dict(report)
    out.pop("timing")
    return out


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    res = runner.invoke(app, STUDY + ["--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    # 3 epochs with the default patience of 1000 steps: every run is stopped by the cap, and the console says so.
    assert "stopped at the step cap" in res.output
    return out


def test_study_writes_the_report(study_dir):
    for name in ("report.json", "report.md", "metrics.png", "audit.png", "correlation.png", "curves.png"):
        assert (study_dir / name).exists(), name
    report = json.loads((study_dir / "report.json").read_text())
    assert report["meta"]["synthetic"] is True and report["meta"]["seeds"] == [0, 1]
    assert report["meta"]["dtype"] == "float32" and "jax" in report["meta"]["versions"]
    assert set(report["summary"]["per_activation"]) == {"tanh", "relu"}
    assert "relu" in report["summary"]["paired_vs_reference"]  # tanh is the reference
    assert "ease" in report["baselines"] and "popularity" in report["baselines"]
    assert len(report["runs"]) == 4 and all((study_dir / r["encoder"]).exists() for r in report["runs"])
    md = (study_dir / "report.md").read_text()
    assert "SYNTHETIC DATA" in md and "EASE" in md and "Paired comparison" in md
    # The conclusion leads; capped runs are flagged there and in the table; the tuning grid is reported.
    assert md.index("## Conclusion") < md.index("accuracy on held-out test users")
    assert "stopped at the step cap" in md and "**2 of 2**" in md and "## Tuning" in md
    assert all(r["stop_reason"] == "cap" for r in report["runs"])
    tuning = report["summary"]["tuning"]
    assert [len(tuning[a]["trials"]) for a in ("tanh", "relu")] == [2, 2]
    for a in ("tanh", "relu"):  # the chosen trial is the best validation score (ties: the first)
        scores = [t["val"]["NDCG@100"] for t in tuning[a]["trials"]]
        assert tuning[a]["chosen"] == tuning[a]["trials"][scores.index(max(scores))]["hyper"]
        assert report["summary"]["per_activation"][a]["hyper"] == tuning[a]["chosen"]
    assert "p_holm" in report["summary"]["paired_vs_reference"]["relu"]["NDCG@100"]["runs_t"]
    assert (study_dir / "tuning.png").exists()


def test_resume_reuses_finished_runs(study_dir, tmp_path):
    before = json.loads((study_dir / "report.json").read_text())
    res = runner.invoke(app, STUDY + ["--out", str(study_dir), "--resume"])
    assert res.exit_code == 0, res.output
    assert res.output.count("reused finished task") == 6  # 2 activations x (2 tuning trials + 1 final task)
    assert _strip_timing(json.loads((study_dir / "report.json").read_text())) == _strip_timing(before)


@pytest.mark.slow
def test_study_on_a_generic_csv_with_multvae(tmp_path):
    from latentcheck.checkers.study.data import synthetic_ratings

    r = synthetic_ratings(n_users=200, n_items=80, seed=2)
    f = tmp_path / "log.csv"
    f.write_text("who;what;stars\n" + "".join(f"u{u};i{i};{v:g}\n" for u, i, v in zip(r.users, r.items, r.ratings)))
    res = runner.invoke(app, ["study", "--data", str(f), "--columns", "who,what,stars", "--threshold", "3", "--architecture", "multvae",
                              "--activations", "tanh,sigmoid", "--seeds", "1", "--split-seeds", "2", "--epochs", "2", "--lr", "3e-3",
                              "--lam", "0", "--hidden", "16", "--triples", "100", "--falsify-budget", "0", "--no-ease", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["meta"]["model"] == "multvae" and report["meta"]["data"]["format"] == "delimited"
    assert report["meta"]["protocol"]["threshold"] == 3.0 and report["meta"]["split_seeds"] == [98765, 98766]
    assert len(report["runs"]) == 4 and "Mult-VAE" in (tmp_path / "o" / "report.md").read_text()


@pytest.mark.slow  # a whole study run twice or more: outside the 10-minute CI tier (pytest -m slow)
def test_same_command_same_report(study_dir, tmp_path):
    res = runner.invoke(app, STUDY + ["--out", str(study_dir)])  # same out dir: same command
    assert res.exit_code == 0, res.output
    again = json.loads((study_dir / "report.json").read_text())
    first_dir = tmp_path / "b"
    res = runner.invoke(app, STUDY + ["--out", str(first_dir)])
    assert res.exit_code == 0
    other = json.loads((first_dir / "report.json").read_text())
    assert _strip_timing(again) == _strip_timing(other)


def test_audit_command_on_exported_encoder(study_dir):
    report = json.loads((study_dir / "report.json").read_text())
    enc = study_dir / report["runs"][2]["encoder"]  # relu seed 0
    res = runner.invoke(app, ["audit", "--weights", str(enc), "--json", "--triples", "200", "--falsify-budget", "0", "--seed", "3"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["activation"] == "relu" and payload["seed"] == 3 and payload["data"]["synthetic"] is True
    assert payload["inputs"]["columns"] == "input ids stored in the weight file"
    assert 0.0 <= payload["zero_rate"] <= 1.0 and payload["triples"] == 200
    res = runner.invoke(app, ["audit", "--weights", str(enc), "--triples", "100", "--falsify-budget", "0"])
    assert res.exit_code == 0 and "ordering concordance" in res.output


def test_autorec_study_smoke(tmp_path):
    res = runner.invoke(app, ["study", "--architecture", "autorec", "--seeds", "2", "--epochs", "3", "--lam", "1", "--hidden", "16",
                              "--activations", "sigmoid/identity,identity/identity", "--triples", "200", "--falsify-budget", "0",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "report.json").read_text())
    per = report["summary"]["per_config"]
    assert per["sigmoid/identity"]["published_ml1m"] == 0.831 and per["identity/identity"]["published_ml1m"] == 0.872
    assert "published constant" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "rmse.png").exists()


def test_bad_input_exits_2_with_one_line(tmp_path):
    from latentcheck.checkers.cli.app import main

    for argv in (["study", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)],
                 ["study", "--architecture", "vae", "--out", str(tmp_path)],
                 ["study", "--activations", "tanh,nonsense_fn", "--epochs", "1", "--seeds", "1", "--out", str(tmp_path)],
                 ["study", "--data", str(_csv(tmp_path)), "--columns", "a,nope", "--out", str(tmp_path)],
                 ["study", "--data", str(_csv(tmp_path)), "--columns", "0,1", "--threshold", "3", "--out", str(tmp_path)],
                 ["study", "--search", "random:x", "--out", str(tmp_path)]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2


def _csv(tmp_path):
    f = tmp_path / "tiny.csv"
    f.write_text("a,b\n1,2\n3,4\n")
    return f


@pytest.mark.slow
def test_ray_executor_gives_the_in_process_report(study_dir, tmp_path, monkeypatch):
    """The same study as Ray tasks on a local Ray instance: the same report (metrics run by run, then everything but timing).

    A relative --out, run from another folder: the workers must write the encoders where the driver reads them.
    """
    pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, STUDY + ["--out", "ray-out", "--executor", "ray"])
    assert res.exit_code == 0, res.output
    ours = json.loads((tmp_path / "ray-out" / "report.json").read_text())
    ref = json.loads((study_dir / "report.json").read_text())
    key = lambda r: (r["activation"], r["split_seed"], r["seed"])  # noqa: E731
    assert {key(r): r["test"] for r in ours["runs"]} == {key(r): r["test"] for r in ref["runs"]}
    assert {key(r): r["audit"] for r in ours["runs"]} == {key(r): r["audit"] for r in ref["runs"]}
    assert all((tmp_path / "ray-out" / r["encoder"]).is_file() for r in ours["runs"])
    assert ours["meta"].pop("executor") == "ray" and ref["meta"].pop("executor") == "inprocess"
    assert _strip_timing(ours) == _strip_timing(ref)
