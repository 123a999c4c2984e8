"""``latentcheck study`` and ``latentcheck audit`` end to end on synthetic data (tiny epochs)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from checkers.cli import app

runner = CliRunner()

STUDY = ["study", "--seeds", "2", "--epochs", "3", "--activations", "tanh,relu", "--triples", "300",
         "--falsify-budget", "0", "--batch-size", "200", "--eval-every", "1"]


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
    res = runner.invoke(app, ["study", "--model", "autorec", "--seeds", "2", "--epochs", "3", "--lam", "1", "--hidden", "16",
                              "--activations", "sigmoid/identity,identity/identity", "--triples", "200", "--falsify-budget", "0",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "report.json").read_text())
    per = report["summary"]["per_config"]
    assert per["sigmoid/identity"]["published_ml1m"] == 0.831 and per["identity/identity"]["published_ml1m"] == 0.872
    assert "published constant" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "rmse.png").exists()


def test_bad_input_exits_2_with_one_line(tmp_path):
    from checkers.cli import main

    for argv in (["study", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)],
                 ["study", "--model", "vae", "--out", str(tmp_path)],
                 ["study", "--activations", "tanh,nonsense_fn", "--epochs", "1", "--seeds", "1", "--out", str(tmp_path)]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
