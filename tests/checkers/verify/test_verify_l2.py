"""``verify --input-normalise l2`` on binary users: encoders with biases whose answer the test knows.

The oracle is a brute force over every nonzero binary user of a small ``n``,
evaluating ``enc(x / |x|_2)`` in sympy's exact arithmetic (``sqrt(k)`` symbolic,
weights as exact rationals, ``Max``): it shares no code with the engine or its
certificate checker.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from latentcheck.checkers.verify import verify
from latentcheck.theorems.encoder import Encoder
from latentcheck import save_encoder

ROOT = Path(__file__).resolve().parents[3]
RECHECK = ROOT / "docs" / "recheck_certificate.py"


def _act(name: str, z: sp.Expr) -> sp.Expr:
    if name == "relu":
        return sp.Max(0, z)
    if name == "leaky_relu":
        return sp.Max(z, sp.Rational(1, 100) * z)
    if name == "identity":
        return z
    raise AssertionError(name)


def _zero_users(Ws: list, bs: list, acts: list) -> list[tuple[int, ...]]:
    """Every nonzero binary user with enc(x/|x|_2) = 0, in exact sympy arithmetic."""
    n = Ws[0].shape[1]
    Wq = [[[sp.Rational(*float(v).as_integer_ratio()) for v in row] for row in W.tolist()] for W in Ws]
    bq = [[sp.Rational(*float(v).as_integer_ratio()) for v in b.tolist()] for b in bs]
    hits = []
    for bits in itertools.product((0, 1), repeat=n):
        k = sum(bits)
        if k == 0:
            continue
        h = [sp.Integer(v) / sp.sqrt(k) for v in bits]
        for W, b, a in zip(Wq, bq, acts):
            h = [_act(a, sp.expand(sum((w * v for w, v in zip(row, h)), sp.Integer(0)) + c)) for row, c in zip(W, b)]
        if all(v == 0 for v in h):  # a + b sqrt(k) in sympy's canonical form is 0 only when it is the number 0
            hits.append(bits)
    return hits


def _random_encoder(seed: int, sizes: list[int], acts: list[str], bias_scale: float = 0.5) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    Ws = [np.round(rng.normal(size=(sizes[i + 1], sizes[i])), 3) for i in range(len(sizes) - 1)]
    bs = [np.round(rng.normal(size=sizes[i + 1]) * bias_scale, 3) for i in range(len(sizes) - 1)]
    return Ws, bs


def _encoder(Ws: list, bs: list, acts: list) -> Encoder:
    return Encoder.from_arrays([W.tolist() for W in Ws], [b.tolist() for b in bs], acts)


def _planted(seed: int, n: int, user: tuple[int, ...], m: int = 5) -> tuple[list, list]:
    """One relu layer whose latent vanishes at ``user / |user|`` with margin 0.05 and no singleton vanishes (for most seeds)."""
    rng = np.random.default_rng(seed)
    W = np.round(rng.normal(size=(m, n)), 3)
    x = np.asarray(user, dtype=float)
    b = np.round(-(W @ x) / np.sqrt(x.sum()) - 0.05, 3)
    return [W], [b]


CASES = [(seed, sizes, acts) for seed in range(6) for sizes, acts in
         (([6, 4], ["relu"]), ([6, 5, 3], ["relu", "relu"]), ([5, 4, 3], ["leaky_relu", "relu"]))]


@pytest.mark.parametrize("seed,sizes,acts", CASES)
def test_random_encoders_match_brute_force(seed: int, sizes: list, acts: list) -> None:
    Ws, bs = _random_encoder(seed, sizes, acts, bias_scale=0.3 + 0.2 * (seed % 3))
    truth = _zero_users(Ws, bs, acts)
    res = verify(_encoder(Ws, bs, acts), "p3", domain="binary", input_normalise="l2", timeout=60)
    if truth:
        assert res.verdict == "refuted", res.reason
        assert tuple(int(v) for v in res.counterexample) in truth
    else:
        assert res.verdict == "proved", res.reason
        assert res.certificate["schema"] == "latentcheck.verify-certificate-l2/1"


@pytest.mark.parametrize("seed", range(4))
def test_planted_user_is_found(seed: int) -> None:
    user = (0, 1, 1, 0, 1, 0, 1)
    Ws, bs = _planted(seed, 7, user)
    truth = _zero_users(Ws, bs, ["relu"])
    assert user in truth  # the construction works
    res = verify(_encoder(Ws, bs, ["relu"]), "p3", domain="binary", input_normalise="l2", timeout=60)
    assert res.verdict == "refuted"
    assert tuple(int(v) for v in res.counterexample) in truth


def test_needs_branching_proof() -> None:
    """A two-layer encoder whose relaxation is feasible at the root: the proof needs splits and Farkas leaves."""
    for seed in range(40):
        Ws, bs = _random_encoder(100 + seed, [6, 6, 3], ["relu", "relu"], bias_scale=0.4)
        res = verify(_encoder(Ws, bs, ["relu", "relu"]), "p3", domain="binary", input_normalise="l2", timeout=60)
        if res.verdict == "proved" and res.stats["leaves_farkas"] > 1:
            assert not _zero_users(Ws, bs, ["relu", "relu"])
            return
    pytest.fail("no seed needed branching")


def test_out_of_scope_answers_unknown_with_reason() -> None:
    Ws, bs = _random_encoder(0, [4, 3], ["relu6"])
    res = verify(_encoder(Ws, bs, ["relu6"]), "p3", domain="binary", input_normalise="l2", timeout=10)
    assert res.verdict == "unknown" and "positively homogeneous" in res.reason
    Ws, bs = _random_encoder(0, [4, 3], ["relu"])
    res = verify(_encoder(Ws, bs, ["relu"]), "p3", domain="box:-1,1", input_normalise="l2", timeout=10)
    assert res.verdict == "unknown" and "binary" in res.reason


def _proved_case() -> tuple[list, list, list, dict]:
    for seed in range(40):
        Ws, bs = _random_encoder(200 + seed, [6, 5, 3], ["relu", "relu"], bias_scale=0.5)
        res = verify(_encoder(Ws, bs, ["relu", "relu"]), "p3", domain="binary", input_normalise="l2", timeout=60)
        if res.verdict == "proved" and res.stats["leaves_farkas"] >= 1:
            return Ws, bs, ["relu", "relu"], res.certificate
    raise AssertionError("no proved case with Farkas leaves")


def _farkas_leaf(node: dict) -> dict | None:
    if node.get("leaf") == "farkas":
        return node
    for side in ("le", "ge"):
        if side in node:
            got = _farkas_leaf(node[side])
            if got is not None:
                return got
    return None


def test_planted_bugs_are_rejected() -> None:
    from latentcheck.counterexamples.certificate_l2 import check_l2_certificate

    Ws, bs, acts, cert = _proved_case()
    assert check_l2_certificate(cert, Ws, bs).ok
    bad = json.loads(json.dumps(cert))
    bad["cover"] = bad["cover"][1:] if len(bad["cover"]) > 1 else [dict(bad["cover"][0], k=[2, bad["n"]])]
    assert not check_l2_certificate(bad, Ws, bs).ok  # a k left uncovered
    bad = json.loads(json.dumps(cert))
    e = next(e for e in bad["cover"] if e["proof"]["kind"] == "tree" and _farkas_leaf(e["proof"]["root"]))
    e["s"][1] = str(Fraction(e["s"][1]) - Fraction(1, 1000))
    assert not check_l2_certificate(bad, Ws, bs).ok  # s_hi below sqrt(k_hi)
    bad = json.loads(json.dumps(cert))
    e = next(e for e in bad["cover"] if e["proof"]["kind"] == "tree" and _farkas_leaf(e["proof"]["root"]))
    leaf = _farkas_leaf(e["proof"]["root"])
    leaf["rows"] = [r for r in leaf["rows"] if r[0] != "hull"]
    assert not check_l2_certificate(bad, Ws, bs).ok  # the multipliers no longer add up to a contradiction
    bad = json.loads(json.dumps(cert))
    bad["activations"][0] = {"knots": ["1"], "values": ["0"], "slope_left": "0", "slope_right": "1", "offset": "0"}
    assert not check_l2_certificate(bad, Ws, bs).ok  # not positively homogeneous


def _standalone(cert: dict, Ws: list, bs: list, acts: list, tmp: Path) -> subprocess.CompletedProcess:
    import hashlib

    from latentcheck.counterexamples.certificate import save_bound_encoder

    enc = tmp / "encoder.npz"  # as verify --out writes it: the normalisation recorded, the hash in the certificate
    save_bound_encoder(_encoder(Ws, bs, acts), "l2", enc)
    sha = hashlib.sha256(enc.read_bytes()).hexdigest()
    (tmp / "certificate.json").write_text(json.dumps(dict(cert, encoder_file="encoder.npz", encoder_sha256=sha)))
    return subprocess.run([sys.executable, str(RECHECK), str(tmp / "certificate.json")], capture_output=True, text=True, timeout=120)


def test_standalone_rechecker_accepts_and_rejects(tmp_path: Path) -> None:
    """docs/recheck_certificate.py (Fractions only, no latentcheck import) is the independent re-checker."""
    Ws, bs, acts, cert = _proved_case()
    ok = _standalone(cert, Ws, bs, acts, tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    bad = json.loads(json.dumps(cert))
    e = next(e for e in bad["cover"] if e["proof"]["kind"] == "tree" and _farkas_leaf(e["proof"]["root"]))
    leaf = _farkas_leaf(e["proof"]["root"])
    leaf["rows"] = [r if r[0] != "hull" else r[:6] + [str(Fraction(r[6]) / 2)] for r in leaf["rows"]]
    rej = _standalone(bad, Ws, bs, acts, tmp_path)
    assert rej.returncode == 1 and "REJECTED" in rej.stdout
    bad = json.loads(json.dumps(cert))
    bad["cover"] = sorted(bad["cover"], key=lambda e: e["k"][0])
    if bad["cover"][0]["k"][1] > 1:
        bad["cover"][0]["k"][0] = 2
    else:
        bad["cover"] = bad["cover"][1:]
    rej = _standalone(bad, Ws, bs, acts, tmp_path)
    assert rej.returncode == 1 and "not covered" in rej.stdout


def test_unit_proof_and_standalone(tmp_path: Path) -> None:
    """One layer, a unit whose weights and bias are all positive: every k is closed by the exact unit argument."""
    rng = np.random.default_rng(5)
    W = np.round(rng.normal(size=(3, 6)), 3)
    W[1] = np.abs(W[1]) + 0.1
    b = np.array([0.2, 0.1, -0.3])
    res = verify(_encoder([W], [b], ["relu"]), "p3", domain="binary", input_normalise="l2", timeout=30)
    assert res.verdict == "proved" and not _zero_users([W], [b], ["relu"])
    assert all(e["proof"]["kind"] == "unit" for e in res.certificate["cover"])
    assert _standalone(res.certificate, [W], [b], ["relu"], tmp_path).returncode == 0
    bad = json.loads(json.dumps(res.certificate))
    bad["cover"][0]["proof"]["j"] = 2  # a unit with a negative bias and mixed weights does not stay positive
    assert _standalone(bad, [W], [b], ["relu"], tmp_path).returncode == 1


def test_cli_l2_verdict_and_certificate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from latentcheck.checkers.cli.app import app

    Ws, bs, acts, cert = _proved_case()
    enc = tmp_path / "enc.npz"
    save_encoder(_encoder(Ws, bs, acts), enc)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["verify", "--weights", str(enc), "--domain", "binary", "--input-normalise", "l2",
                                 "--timeout", "60", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["verdict"] == "proved"
    chk = subprocess.run([sys.executable, str(RECHECK), str(out / "certificate.json")], capture_output=True, text=True, timeout=120)
    assert chk.returncode == 0, chk.stdout


def test_zero_at_a_perfect_square_k() -> None:
    """relu(-x_1 + x_2 + |x|) vanishes at x = (1, 0), where -1 + sqrt(1) = 0 with both parts nonzero; and at
    x = (1, 1, 1, 1, 0) ... with k = 4: -4 + 2 * 2 = 0 (the bias is 2, sqrt(4) = 2)."""
    res = verify(_encoder([np.array([[-1.0, 1.0]])], [np.array([1.0])], ["relu"]), "p3", domain="binary",
                 input_normalise="l2", timeout=30)
    assert res.verdict == "refuted" and res.counterexample == ["1", "0"]
    W = np.array([[-1.0, -1.0, -1.0, -1.0, 3.0]])
    res = verify(_encoder([W], [np.array([2.0])], ["relu"]), "p3", domain="binary", input_normalise="l2", timeout=30)
    truth = _zero_users([W], [np.array([2.0])], ["relu"])
    assert truth == [(1, 1, 1, 1, 0)]
    assert res.verdict == "refuted" and tuple(int(v) for v in res.counterexample) == truth[0]


def test_counterexample_check_can_fail() -> None:
    """The exact Q(sqrt k) check refuses users that are not encoded as 0, including near misses."""
    from latentcheck.counterexamples.certificate_l2 import l2_counterexample_ok

    relu = [{"knots": ["0"], "values": ["0"], "slope_left": "0", "slope_right": "1", "offset": "0"}]
    W, b = [np.array([[-1.0, 1.0]])], [np.array([1.0])]
    assert l2_counterexample_ok(W, b, relu, [1, 0])
    assert not l2_counterexample_ok(W, b, relu, [0, 1]) and not l2_counterexample_ok(W, b, relu, [1, 1])
    assert not l2_counterexample_ok(W, b, relu, [0, 0])
    # relu(-(x_1 + x_2)/sqrt(2) + b) at x = (1, 1) is relu(b - sqrt(2)): float64's sqrt(2) is above sqrt(2) by ~1e-16
    near = [np.array([[-1.0, -1.0]])]
    assert not l2_counterexample_ok(near, [np.array([np.sqrt(2.0)])], relu, [1, 1])
    assert l2_counterexample_ok(near, [np.array([np.nextafter(np.sqrt(2.0), 0.0)])], relu, [1, 1])


def test_interior_point_fallback_gives_the_same_verdict_and_a_certificate_that_rechecks(monkeypatch, tmp_path: Path) -> None:
    """Every LP over the time limit switches the network to HiGHS's IPM: same verdicts, and the proof still re-checks."""
    from latentcheck.checkers.verify import l2

    Ws, bs, acts, _ = _proved_case()
    monkeypatch.setattr(l2, "_SIMPLEX_SECONDS", 1e-9)  # every first simplex attempt hits the limit
    res = verify(_encoder(Ws, bs, acts), "p3", domain="binary", input_normalise="l2", timeout=60)
    assert res.verdict == "proved" and res.stats["lp_fallbacks"] == 1, (res.verdict, res.stats)
    ok = _standalone(res.certificate, Ws, bs, acts, tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    for seed in range(3):  # and the refutations agree with brute force
        Ws, bs = _random_encoder(seed, [6, 3], ["relu"])
        res = verify(_encoder(Ws, bs, ["relu"]), "p3", domain="binary", input_normalise="l2", timeout=60)
        assert (res.verdict == "refuted") == bool(_zero_users(Ws, bs, ["relu"])), (seed, res.verdict)
