"""Issue 17 item 1: one input-semantics object, read from the model file and honoured by every command and API.

The regression of the issue: a ReLU encoder saved with ``latentcheck_normalise = l2`` (as ``study`` exports it)
got ``verify --domain binary`` -> proved but ``falsify -p p3 --domain binary`` -> a "certified exact" zero of the
un-normalised chain. Now falsify, verify, audit and the assertions check ``enc(N(x))``; certified zeros and flips
of the normalised encoder are re-checked here independently (``tests/_indep.py``: Fractions and mpmath only).
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from typer.testing import CliRunner

from tests import _indep
from latentcheck.checkers.study.audit import read_input_meta, save_encoder
from latentcheck.checkers.cli.app import app, main
from latentcheck.checkers.falsify import falsify
from latentcheck.checkers.verify import verify
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.errors import InvalidArgument
from latentcheck.theorems.inputs import InputSemantics, inputs_from_arrays, with_input_normalise
from latentcheck import load_encoder
from latentcheck import save_encoder as write_encoder  # the model writer; save_encoder here is the study's

runner = CliRunner()


def _exit(argv, capsys):
    """``latentcheck ARGV`` as the console runs it: (exit code, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err
W4 = np.array([[-1.0, -1.0, -1.0, -1.0]])


def _save(path, b, normalise="l2", act="relu", W=W4):
    enc = Encoder.from_arrays([W], [np.array([b])], [act])
    save_encoder(path, enc, normalise=normalise, rows="users", values="binary", input_ids=np.arange(W.shape[1]))
    return path


@pytest.fixture
def healthy(tmp_path):
    """Raw chain: relu(2.5 - k) is 0 for binary users with k >= 3 items; normalised: relu(2.5 - sqrt(k)) > 0 for k <= 4."""
    return _save(tmp_path / "healthy.npz", 2.5)


@pytest.fixture
def broken(tmp_path):
    """Both vanish: relu(1.5 - sqrt(k)) = 0 for k = 3 (irrational sqrt) and k = 4; relu(1.5 - k) for k >= 2."""
    return _save(tmp_path / "broken.npz", 1.5)


def _layers(path):
    enc = load_encoder(path)
    return _indep.layers_of(enc, [layer.activation.name for layer in enc.layers])


# ----------------------------------------------------------------------------- the object, read and written
def test_load_fills_inputs_from_the_file_and_save_writes_them_back(healthy, tmp_path):
    enc = load_encoder(healthy)
    assert enc.inputs.normalise == "l2" and enc.inputs.origin == "file"
    assert enc.inputs.rows == "users" and enc.inputs.values == "binary" and enc.inputs.input_ids == (0, 1, 2, 3)
    write_encoder(enc, tmp_path / "again.npz")
    again = load_encoder(tmp_path / "again.npz")
    assert again.inputs == enc.inputs
    assert load_encoder(tmp_path / "again.npz").inputs.record()["normalise_from"] == "file"
    plain = Encoder.from_arrays([W4], [[2.5]], ["relu"])
    write_encoder(plain, tmp_path / "plain.npz")
    assert load_encoder(tmp_path / "plain.npz").inputs == InputSemantics()  # nothing recorded: none, origin default


def test_save_encoder_keeps_its_public_behaviour(tmp_path):
    enc = Encoder.random([3, 2], "relu", seed=0)
    save_encoder(tmp_path / "e.npz", enc, normalise="divide:5", rows="items", values="ratings", input_names=np.array(["a", "b", "c"]),
                 threshold=3.5)
    meta = read_input_meta(tmp_path / "e.npz")
    assert meta["normalise"] == "divide:5" and meta["rows"] == "items" and meta["values"] == "ratings" and meta["threshold"] == 3.5
    assert meta["input_names"].tolist() == ["a", "b", "c"]
    assert load_encoder(tmp_path / "e.npz").inputs.input_names == ("a", "b", "c")
    with pytest.raises(InvalidArgument, match="input_names"):
        save_encoder(tmp_path / "f.npz", enc, normalise="l2", rows="users", values="binary", input_names=np.array(["a"]))
    with pytest.raises(InvalidArgument, match="input_ids must be integers"):
        save_encoder(tmp_path / "g.npz", enc, normalise="l2", rows="users", values="binary", input_ids=np.array(["a", "b", "c"]))


def test_malformed_meta_is_refused_with_the_key_named(tmp_path, capsys):
    with pytest.raises(InvalidArgument, match="latentcheck_normalise"):
        inputs_from_arrays({"latentcheck_normalise": np.array([1.0])}, "x.npz")
    with pytest.raises(InvalidArgument, match="malformed.*l3"):
        inputs_from_arrays({"latentcheck_normalise": np.array("l3")}, "x.npz")
    with pytest.raises(InvalidArgument, match="lists 2 ids but the encoder takes n=3"):
        inputs_from_arrays({"latentcheck_input_ids": np.array([1, 2])}, "x.npz", n=3)
    np.savez(tmp_path / "bad.npz", W0=W4, b0=np.array([1.0]), activations=np.array(["relu"]),
             latentcheck_input_ids=np.array([1.5, 2, 3, 4]))
    code, err = _exit(["falsify", "-p", "p3", "--weights", str(tmp_path / "bad.npz"), "--budget", "1"], capsys)
    assert code == 2 and err.startswith("error:") and "latentcheck_input_ids" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- the regression: verify and falsify agree
def test_healthy_l2_encoder_is_proved_by_verify_and_not_refuted_by_falsify(healthy):
    enc = load_encoder(healthy)
    v = verify(enc, "p3", domain="binary", timeout=20)
    assert v.verdict == "proved" and v.inputs["normalise"] == "l2" and v.inputs["normalise_from"] == "file"
    f = falsify(enc, "p3", domain="binary", budget=1.0, seed=0)
    assert not f.found and f.info["inputs"]["normalise"] == "l2"
    # Independently: no binary user of the 15 is a zero of the normalised encoder, while 5 are zeros of the raw chain.
    users = [[(m >> i) & 1 for i in range(4)] for m in range(1, 16)]
    assert not any(_indep.l2_zero(_layers(healthy), x) for x in users)
    raw = [x for x in users if all(z == 0 for z in _indep.encode(_layers(healthy), x))]
    assert len(raw) == 5


def test_override_none_checks_the_raw_chain(healthy):
    enc = load_encoder(healthy)
    f = falsify(enc, "p3", domain="binary", budget=1.0, seed=0, input_normalise="none")
    assert f.found and f.info["inputs"] == {"normalise": "none", "normalise_from": "option", "rows": "users", "values": "binary",
                                            "input_ids": 4}
    x = [Fraction(s) for s in f.counterexamples[0].witness[0]]
    assert all(z == 0 for z in _indep.encode(_layers(healthy), x))
    assert verify(enc, "p3", domain="binary", input_normalise="none", timeout=20).verdict == "refuted"


def test_cli_verify_and_falsify_agree_on_the_file(healthy, broken):
    for path, want_verify, want_falsify in ((healthy, 0, 0), (broken, 1, 1)):
        v = runner.invoke(app, ["verify", "--weights", str(path), "--domain", "binary", "--timeout", "20", "--json"])
        f = runner.invoke(app, ["falsify", "-p", "p3", "--weights", str(path), "--domain", "binary", "--budget", "2", "--json"])
        assert (v.exit_code, f.exit_code) == (want_verify, want_falsify), (v.output, f.output)
        vj, fj = json.loads(v.stdout), json.loads(f.stdout)
        assert vj["inputs"]["normalise"] == fj["inputs"]["normalise"] == "l2"
        for cx in fj["counterexamples"]:
            assert _indep.l2_zero(_layers(path), [Fraction(s) for s in cx["witness"]["x"]])


def test_broken_l2_zero_is_certified_exactly_at_an_irrational_norm(broken):
    """k = 3: x/|x| is irrational; enc(x/|x|) = relu(1.5 - sqrt 3) = 0 is decided in Q(sqrt 3)."""
    from latentcheck.counterexamples.candidate import certify_candidate
    from latentcheck.theorems.properties import get_property

    enc = load_encoder(broken)
    p3 = get_property("p3")
    cert = certify_candidate(p3, enc, [[1, 1, 1, 0]])
    assert cert.status == "exact" and _indep.l2_zero(_layers(broken), [1, 1, 1, 0])
    assert certify_candidate(p3, enc, [[1, 1, 0, 0]]).status == "refuted"  # 1.5 - sqrt 2 > 0
    assert not _indep.l2_zero(_layers(broken), [1, 1, 0, 0])
    assert certify_candidate(p3, enc, [[1, 1, 1, 1]]).status == "exact"  # sqrt 4 = 2: rational, the exact rational path


@pytest.mark.parametrize("hidden", ["relu", "identity"])
def test_two_layer_l2_zero_against_the_independent_checker(hidden):
    """Hidden relu or identity (whose slope left of 0 is 1, not s(-1) = -1), latent relu: every verdict of the
    Q(sqrt D) evaluation agrees with the independent one."""
    W0 = np.array([[1.0, -2.0, 0.5], [-1.0, 1.0, 1.0]])
    b0 = np.array([0.25, -0.5])
    W1 = np.array([[-1.0, -1.0]])
    b1 = np.array([0.75])
    enc = with_input_normalise(Encoder.from_arrays([W0, W1], [b0, b1], [hidden, "relu"]), "l2")
    layers = [(W0, b0, hidden), (W1, b1, "relu")]
    from latentcheck.counterexamples.candidate import certify_candidate
    from latentcheck.theorems.properties import get_property

    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        x = [Fraction(int(v), 4) for v in rng.integers(-8, 9, size=3)]
        if not any(x):
            continue
        cert = certify_candidate(get_property("p3"), enc, [x])
        want = _indep.l2_zero(layers, x)
        assert (cert.status == "exact") == want, (x, cert)
        seen.add(want)
    assert seen == {True, False}  # both outcomes were exercised


def test_non_homogeneous_activation_is_certified_by_intervals():
    """Latent Max(0, t - 1): not positively homogeneous; at k = 3 the pre-activation 2.5 - sqrt 3 ~ 0.77 < 1: interval."""
    from latentcheck.counterexamples.candidate import certify_candidate
    from latentcheck.theorems.properties import get_property

    enc = with_input_normalise(Encoder.from_arrays([W4], [[2.5]], ["Max(0, t - 1)"]), "l2")
    cert = certify_candidate(get_property("p3"), enc, [[1, 1, 1, 0]])
    assert cert.status == "interval"
    assert certify_candidate(get_property("p3"), enc, [[1, 1, 0, 0]]).status == "refuted"  # 2.5 - sqrt 2 ~ 1.09 > 1
    assert certify_candidate(get_property("p3"), enc, [[1, 0, 0, 0]]).status == "refuted"


def test_p2_on_normalised_inputs_is_certified_and_rechecked():
    """enc(x) = x_0: at x = (1,1), u = (1,0), v = (1,2): <Nx,Nu> = 1/sqrt2 < 3/sqrt10 = <Nx,Nv>, latents reversed."""
    from latentcheck.counterexamples.candidate import certify_candidate
    from latentcheck.theorems.properties import get_property

    W, b = np.array([[1.0, 0.0]]), np.array([0.0])
    enc = with_input_normalise(Encoder.from_arrays([W], [b], ["identity"]), "l2")
    x, u, v = [1, 1], [1, 0], [1, 2]
    cert = certify_candidate(get_property("p2"), enc, [x, u, v])
    assert cert.status == "interval"
    assert _indep.l2_flip_violated([(W, b, "identity")], x, u, v)
    # Un-normalised, the premise fails (<x,u> = 1 < 3 = <x,v>) but so does the flip (1 < 1): no counterexample.
    assert certify_candidate(get_property("p2"), with_input_normalise(enc, "none"), [x, u, v]).status == "refuted"
    assert certify_candidate(get_property("p2"), enc, [x, v, u]).status == "refuted"  # premise reversed


def test_falsify_p2_with_l2_from_the_file(broken):
    res = falsify(load_encoder(broken), "p2", domain="nonneg", budget=2.0, seed=0)
    assert res.found
    for cx in res.counterexamples:
        x, u, v = ([Fraction(s) for s in vec] for vec in cx.witness)
        assert _indep.l2_flip_violated(_layers(broken), x, u, v) or cx.certified == "exact"


def test_divide_k_is_applied_exactly(tmp_path):
    """relu(1 - x): raw zeros for x >= 1; with divide:5 zeros only for x >= 5 (none in box:0,2)."""
    path = _save(tmp_path / "d.npz", 1.0, normalise="divide:5", W=np.array([[-1.0]]))
    enc = load_encoder(path)
    assert enc.inputs.normalise == "divide:5"
    assert not falsify(enc, "p3", domain="box:0,2", budget=1.0, seed=0).found
    assert falsify(enc, "p3", domain="box:0,2", budget=1.0, seed=0, input_normalise="none").found
    res = falsify(enc, "p3", domain="box:0,8", budget=1.0, seed=0)
    assert res.found
    x = Fraction(res.counterexamples[0].witness[0][0])
    assert x >= 5 and 1 - x / 5 <= 0  # the witness is the domain point; enc sees x/5
    v = verify(enc, "p3", domain="reals", timeout=10)
    assert v.verdict == "refuted" and Fraction(v.counterexample[0]) / 5 >= 1


def test_shrinking_keeps_a_zero_of_the_normalised_encoder(broken):
    res = falsify(load_encoder(broken), "p3", domain="nonneg", budget=2.0, seed=1, max_counterexamples=2)
    assert res.found
    for cx in res.counterexamples:
        assert _indep.l2_zero(_layers(broken), [Fraction(s) for s in cx.witness[0]])


def test_planted_bug_in_the_qsqrt_sign_is_caught_by_the_independent_checker(healthy, monkeypatch):
    """A wrong sign rule in Q(sqrt D) (the sqrt term alone) 'certifies' zeros of the healthy encoder; the
    independent re-check rejects every one of them (and agrees with the engine once the bug is gone)."""
    import latentcheck.counterexamples.normalised as nm
    from latentcheck.counterexamples.candidate import certify_candidate
    from latentcheck.theorems.properties import get_property

    enc, p3 = load_encoder(healthy), get_property("p3")
    users = [[(m >> i) & 1 for i in range(4)] for m in range(1, 16)]
    honest = [certify_candidate(p3, enc, [x]).status for x in users]
    assert all(st == "refuted" for st in honest)
    monkeypatch.setattr(nm, "_sign", lambda a, c, d: (c > 0) - (c < 0) if c else (a > 0) - (a < 0))
    claimed = [x for x in users if certify_candidate(p3, enc, [x]).status == "exact"]
    assert claimed, "the planted bug should make the engine claim a zero"
    assert {sum(x) for x in claimed} <= {2, 3}  # the irrational norms, where the sign rule is used
    assert not any(_indep.l2_zero(_layers(healthy), x) for x in claimed)


# ----------------------------------------------------------------------------- the assertions and strategies
def test_assert_nonvanishing_does_not_fail_a_healthy_l2_encoder(healthy, tmp_path):
    from latentcheck import assert_nonvanishing

    enc = load_encoder(healthy)
    assert_nonvanishing(enc, domain="binary", budget=1, seed=0, report_dir=tmp_path)
    with pytest.raises(AssertionError):
        assert_nonvanishing(enc, domain="binary", budget=1, seed=0, input_normalise="none", report_dir=tmp_path)


def test_assert_nonvanishing_fails_a_broken_l2_encoder_with_a_true_zero(broken, tmp_path):
    from latentcheck import assert_nonvanishing

    with pytest.raises(AssertionError, match=r"input normalisation l2 \(from file\)"):
        assert_nonvanishing(load_encoder(broken), domain="binary", budget=1, seed=0, report_dir=tmp_path)


def test_assert_order_preserving_compares_normalised_inputs(tmp_path):
    from latentcheck import assert_order_preserving

    W, b = np.array([[1.0, 0.0]]), np.array([0.0])
    enc = Encoder.from_arrays([W], [b], ["identity"])
    rows = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 2.0]])
    with pytest.raises(AssertionError):
        assert_order_preserving(enc, domain=rows, tolerance=0.1, samples=256, seed=0, budget=1, input_normalise="l2",
                                report_dir=tmp_path)
    # the raw inputs: no flip
    raw = assert_order_preserving(enc, domain=rows, tolerance=0.1, samples=256, seed=0, budget=1, report_dir=tmp_path)
    assert raw.flips == 0


def test_strategy_draws_encoders_with_the_normalisation():
    from hypothesis import given, settings

    from latentcheck.checkers.testing import encoders

    @settings(max_examples=5, deadline=None)
    @given(encoders(n=3, m=1, activation="relu", input_normalise="l2"))
    def check(enc):
        assert enc.inputs.normalise == "l2" and enc.inputs.origin == "option"

    check()
    with pytest.raises(InvalidArgument):
        encoders(n=3, input_normalise="l3")


# ----------------------------------------------------------------------------- reports print the choice
def test_reports_print_the_normalisation_and_its_source(broken, tmp_path):
    out = tmp_path / "rep"
    res = runner.invoke(app, ["falsify", "-p", "p3", "--weights", str(broken), "--domain", "binary", "--budget", "1",
                              "--out", str(out), "--no-plots"])
    assert res.exit_code == 1, res.output
    md = (out / "report.md").read_text()
    assert "| input normalisation | l2 (from the model file)" in md
    data = json.loads((out / "report.json").read_text())
    assert data["inputs"]["normalise"] == "l2" and data["inputs"]["normalise_from"] == "file"
    again = runner.invoke(app, ["report", str(out / "report.json")])
    assert "input normalisation | l2 (from the model file)" in again.output
    res = runner.invoke(app, ["falsify", "-p", "p3", "--weights", str(broken), "--domain", "binary", "--budget", "1",
                              "--input-normalise", "none", "--json"])
    assert json.loads(res.stdout)["inputs"]["normalise_from"] == "option"
    v = runner.invoke(app, ["verify", "--weights", str(broken), "--domain", "binary", "--timeout", "10"])
    assert "input normalisation: l2 (from file)" in v.output


def test_bad_input_normalise_is_exit_2_on_every_command(broken, capsys):
    for cmd in (["falsify", "-p", "p3", "--budget", "1"], ["verify"], ["audit"]):
        code, err = _exit([*cmd, "--weights", str(broken), "--input-normalise", "l3"], capsys)
        assert code == 2 and "l3" in err and err.startswith("error:"), (cmd, err)


def test_saved_assertion_report_is_rechecked_with_the_normalisation(broken, tmp_path):
    """``python -m latentcheck.checkers.testing REPORT.json`` reloads encoder.npz, which keeps l2, and confirms
    the zero of enc(x/|x|_2) (the raw chain's check would not be the function that failed)."""
    import subprocess
    import sys

    from latentcheck import assert_nonvanishing

    with pytest.raises(AssertionError):
        assert_nonvanishing(load_encoder(broken), domain="binary", budget=1, seed=0, report_dir=tmp_path / "rep")
    reports = list((tmp_path / "rep").rglob("report.json"))
    assert len(reports) == 1
    assert load_encoder(reports[0].parent / "encoder.npz").inputs.normalise == "l2"
    assert json.loads(reports[0].read_text())["inputs"]["normalise"] == "l2"
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.testing", str(reports[0])], capture_output=True, text=True)
    assert out.returncode == 1 and "confirmed" in out.stdout and "NOT" not in out.stdout, out.stdout + out.stderr


def test_float16_hazard_of_the_normalised_encoder_is_float_only():
    """sigmoid(-30 * 1'x/|x|) never vanishes in the reals (T2) but is 0 in float16 at x = e_1: float-only, not certified."""
    enc = with_input_normalise(Encoder.from_arrays([np.array([[-30.0, -30.0, -30.0]])], [np.array([0.0])], ["sigmoid"]), "l2")
    res = falsify(enc, "p3", domain="nonneg", dtype="float16", budget=2, seed=0)
    assert not res.found and res.status == "float-only"
    for cx in res.float_only:
        x = [Fraction(s) for s in cx.witness[0]]
        z = _indep.l2_latent_iv([(np.array([[-30.0, -30.0, -30.0]]), np.array([0.0]), "sigmoid")], x)
        assert all(v.a > 0 for v in z)  # the real value is certified nonzero, independently
        xf = np.array([float(v) for v in x])
        pre = np.float16(-30.0 * xf.sum() / np.sqrt((xf * xf).sum()))
        with np.errstate(over="ignore"):
            assert np.float16(1) / (np.float16(1) + np.exp(-pre)) == 0  # and float16 rounds it to 0


def test_report_rechecks_normalised_witnesses_and_rejects_a_tampered_one(broken, tmp_path):
    """latentcheck report re-certifies an l2 report's zeros of enc(x/|x|) and refuses to render an edited witness."""
    out = tmp_path / "rep"
    res = runner.invoke(app, ["falsify", "-p", "p3", "--weights", str(broken), "--domain", "binary", "--budget", "1",
                              "--out", str(out), "--no-plots"])
    assert res.exit_code == 1, res.output
    data = json.loads((out / "report.json").read_text())
    assert runner.invoke(app, ["report", str(out / "report.json")]).exit_code == 0
    cxs = data["counterexamples"]
    assert cxs and all(c["certified"] in ("exact", "interval") for c in cxs)
    enc = load_encoder(str(broken))
    for c in cxs:  # an edited witness: a binary user the normalised encoder does not send to 0
        x = c["witness"]["x"]
        for j in range(len(x)):
            y = ["0"] * len(x)
            y[j] = "1"
            if any(abs(v) > 1e-9 for v in enc(np.array([float(t) for t in y]))):
                c["witness"]["x"] = y
                break
    assert any(c["witness"]["x"] != x for c in cxs)
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(data))
    again = runner.invoke(app, ["report", str(bad)])
    assert again.exit_code == 1 and "REJECTED" in again.output
