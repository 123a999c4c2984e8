"""``latentcheck report`` re-checks before it renders, and ``latentcheck recheck`` re-checks falsify reports
(issue 17, item 4): an edited report.json is never re-rendered as "Refuted".

The witnesses are re-checked here independently too (tests/_recheck.py: Fractions and hand-written rules).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import _recheck as rc
from latentcheck.checkers.cli.app import main
from latentcheck.checkers.falsify import falsify
from latentcheck.checkers.report_check import ReportRejected, recheck_report_witnesses
from latentcheck.counterexamples import recheck as R
from latentcheck.counterexamples.report import write_report
from latentcheck.theorems import Encoder
from latentcheck import load_encoder


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("rep")
    rng = np.random.default_rng(5)
    path = tmp / "enc.npz"
    np.savez(path, W0=rng.normal(size=(3, 8)), b0=rng.normal(size=3) * 0.1, W1=rng.normal(size=(2, 3)),
             b1=np.zeros(2), activations=np.array(["relu", "relu"]))
    res = falsify(load_encoder(path), "p3", budget=3, seed=0)
    paths = write_report(res, tmp / "out", plots=False)
    data = json.loads(paths["json"].read_text())
    assert data["status"] == "counterexample" and data["counterexamples"]
    Ws = [[[Fraction(v) for v in row] for row in layer["W"]] for layer in data["weights"]]
    bs = [[Fraction(v) for v in layer["b"]] for layer in data["weights"]]
    for c in data["counterexamples"]:  # the independent re-check agrees with what the report claims
        assert rc.p3_witness_holds(Ws, bs, ["relu", "relu"], [Fraction(v) for v in c["witness"]["x"]])
    return paths["json"], path


def _edit(src: Path, dst: Path, fn) -> Path:
    data = json.loads(src.read_text())
    fn(data)
    dst.write_text(json.dumps(data))
    return dst


def _report_cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["report", *argv])
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def _no_zero(d: dict) -> None:
    d["counterexamples"][0]["witness"]["x"] = ["1"] * len(d["counterexamples"][0]["witness"]["x"])


def test_report_records_what_it_is_about(report) -> None:
    data = json.loads(report[0].read_text())
    assert data["inputs"]["normalise"] == "none"
    assert data["model"]["path"] == str(report[1]) and len(data["model"]["sha256"]) == 64
    assert data["domain"]["certificate"] == {"kind": "reals"}


def test_genuine_report_renders(report, capsys) -> None:
    code, out, err = _report_cli(capsys, str(report[0]))
    assert code == 0 and "**Refuted.**" in out, err
    assert recheck_report_witnesses(json.loads(report[0].read_text())) == len(json.loads(report[0].read_text())["counterexamples"])


def test_tampered_witness_is_not_rendered(report, tmp_path, capsys) -> None:
    bad = _edit(report[0], tmp_path / "r.json", _no_zero)
    code, out, err = _report_cli(capsys, str(bad))
    assert code == 1 and "Refuted" not in out and err.startswith("REJECTED: counterexample 1"), (out, err)


@pytest.mark.parametrize("edit,why", [
    (lambda d: d["encoder"].__setitem__("activations", ["relu", "leaky_relu"]), "claims activations"),
    (lambda d: d["encoder"].__setitem__("sizes", [8, 3, 3]), "claims sizes"),
    (lambda d: d["counterexamples"][0]["witness"].__setitem__("x", ["0"] * 7), "entries"),
    (lambda d: d["counterexamples"][0].__setitem__("certified", "float-only"), "not labelled"),
    (lambda d: d["weights"][0]["W"][0].__setitem__(0, "abc"), "not an exact number"),
])
def test_edited_reports_rejected(report, tmp_path, edit, why) -> None:
    bad = json.loads(_edit(report[0], tmp_path / "r.json", edit).read_text())
    with pytest.raises(ReportRejected, match=why):
        recheck_report_witnesses(bad)


def test_report_without_weights_needs_the_model(report, tmp_path, capsys) -> None:
    def strip(d: dict) -> None:
        del d["weights"]
        d["encoder"]["weights_file"] = str(tmp_path / "gone.npz")

    bare = _edit(report[0], tmp_path / "bare.json", strip)
    code, out, err = _report_cli(capsys, str(bare))
    assert code == 2 and err.startswith("error:") and "--model" in err, err
    code, out, err = _report_cli(capsys, str(bare), "--model", str(report[1]))
    assert code == 0 and "**Refuted.**" in out, err
    other = tmp_path / "other.npz"
    np.savez(other, W0=np.eye(8)[:3], b0=np.zeros(3), W1=np.ones((2, 3)), b1=np.zeros(2), activations=np.array(["relu", "relu"]))
    code, out, err = _report_cli(capsys, str(bare), "--model", str(other))
    assert code == 1 and "SHA-256 differs" in err, err


def test_planted_bug_a_renderer_without_recheck_shows_the_tampered_report(report, tmp_path, capsys, monkeypatch) -> None:
    """With the re-check planted away, the tampered report renders as Refuted: the re-check is what stops it."""
    import latentcheck.checkers.report_check as rcheck

    bad = _edit(report[0], tmp_path / "r.json", _no_zero)
    monkeypatch.setattr(rcheck, "recheck_report_witnesses", lambda data, model=None: 0)
    code, out, _ = _report_cli(capsys, str(bad))
    assert code == 0 and "**Refuted.**" in out


# ------------------------------------------------------------------ the standalone re-checker on reports
def test_standalone_recheck_of_reports(report, tmp_path) -> None:
    code, text = R.recheck_path(str(report[0]))
    assert code == 0 and text.startswith("OK: "), text
    code, text = R.recheck_path(str(_edit(report[0], tmp_path / "t.json", _no_zero)))
    assert code == 1 and text == "REJECTED: the witness is not encoded as exactly 0", text
    code, text = R.recheck_path(str(_edit(report[0], tmp_path / "a.json",
                                          lambda d: d["encoder"].__setitem__("activations", ["relu", "relu6"]))))
    assert code == 1 and "claims activations" in text, text


def test_standalone_report_out_of_reach_is_not_ok(report, tmp_path) -> None:
    def interval(d: dict) -> None:
        for c in d["counterexamples"]:
            c["certified"] = "interval"

    code, text = R.recheck_path(str(_edit(report[0], tmp_path / "i.json", interval)))
    assert code == 3 and text.startswith("NOT RE-CHECKED"), text


# ------------------------------------------------------------------ P2 and P2-delta flips
@pytest.fixture(scope="module")
def p2_report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("p2")
    rng = np.random.default_rng(7)
    path = tmp / "p2.npz"
    np.savez(path, W0=rng.normal(size=(3, 6)), b0=rng.normal(size=3) * 0.1, activations=np.array(["relu"]))
    res = falsify(load_encoder(path), "p2-delta:1/10", budget=3, seed=0)
    out = write_report(res, tmp / "out", plots=False)["json"]
    data = json.loads(out.read_text())
    assert data["status"] == "counterexample" and all(c["certified"] == "exact" for c in data["counterexamples"])
    with np.load(path) as f:  # an independent check of each flip: Fractions, relu by hand
        W, b = rc.exact_matrix(f["W0"]), rc.exact_matrix(f["b0"])
    enc = lambda x: [max(Fraction(0), sum((w * v for w, v in zip(row, x)), Fraction(0)) + bi) for row, bi in zip(W, b)]  # noqa: E731
    dot = lambda a, c: sum((p * q for p, q in zip(a, c)), Fraction(0))  # noqa: E731
    for c in data["counterexamples"]:
        x, u, v = ([Fraction(s) for s in c["witness"][k]] for k in "xuv")
        assert dot(x, v) - dot(x, u) >= Fraction(1, 10) * dot(x, x) and dot(enc(x), enc(u)) > dot(enc(x), enc(v))
    return out


def _swap_uv(d: dict) -> None:
    w = d["counterexamples"][0]["witness"]
    w["u"], w["v"] = w["v"], w["u"]


def _bigger_delta(d: dict) -> None:
    d["property"] = "P2-delta:1000"
    for c in d["counterexamples"]:
        c["property"] = "P2-delta:1000"


def test_p2_flips_recheck_standalone_and_in_report(p2_report, tmp_path, capsys) -> None:
    code, text = R.recheck_path(str(p2_report))
    n = len(json.loads(p2_report.read_text())["counterexamples"])
    assert code == 0 and text.startswith(f"OK: {n} of {n} certified"), text
    code, out, err = _report_cli(capsys, str(p2_report))
    assert code == 0 and "**Refuted.**" in out, err
    for edit in (_swap_uv, _bigger_delta):
        bad = _edit(p2_report, tmp_path / f"{edit.__name__}.json", edit)
        code, text = R.recheck_path(str(bad))
        assert code == 1 and text.startswith("REJECTED: the flip's premise"), text
        code, out, err = _report_cli(capsys, str(bad))
        assert code == 1 and "Refuted" not in out and "premise fails" in err, err
