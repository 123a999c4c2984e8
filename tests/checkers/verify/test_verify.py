"""``latentcheck verify``: encoders whose P3 answer is known by construction.

Each encoder is built so that its answer follows from a short argument in the
test's docstring, not from the program. Refutations are re-checked with a
Fraction forward pass written here; proofs are re-checked with the
standalone ``docs/recheck_certificate.py`` (no latentcheck import), and a
planted corruption of a certificate must be rejected by it.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from latentcheck.checkers.verify.pl import NotPiecewiseLinear, piecewise_linear
from latentcheck.checkers.verify import verify
from latentcheck.theorems.encoder import Encoder
from latentcheck import load_encoder, save_encoder

ROOT = Path(__file__).resolve().parents[3]


def _recheck_module():
    spec = importlib.util.spec_from_file_location("recheck_certificate", ROOT / "docs" / "recheck_certificate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RECHECK = _recheck_module()


# ------------------------------------------------------------------ an independent forward pass
def _act(name: str, t: Fraction) -> Fraction:
    return {"relu": max(t, Fraction(0)), "identity": t, "leaky_relu": max(t, t / 100),
            "hard_tanh": max(Fraction(-1), min(Fraction(1), t))}[name]


def _enc_exact(Ws, bs, acts, x):
    h = [Fraction(v) for v in x]
    for W, b, a in zip(Ws, bs, acts):
        h = [_act(a, sum((Fraction(float(w)) * v for w, v in zip(row, h)), Fraction(0)) + Fraction(float(bi)))
             for row, bi in zip(np.asarray(W).tolist(), np.asarray(b).tolist())]
    return h


def _assert_refuted(res, Ws, bs, acts, lo=None, hi=None, binary=False):
    assert res.verdict == "refuted", res.reason
    x = [Fraction(v) for v in res.counterexample]
    assert any(v != 0 for v in x)
    if lo is not None:
        assert all(lo <= v <= hi for v in x)
    if binary:
        assert all(v in (0, 1) for v in x)
    assert all(v == 0 for v in _enc_exact(Ws, bs, acts, x))


def _recheck(res, enc, tmp_path):
    assert res.verdict == "proved", res.reason
    save_encoder(enc, tmp_path / "encoder.npz")
    cert = dict(res.certificate)
    leaves, _ = RECHECK.recheck(cert, tmp_path / "encoder.npz")
    assert leaves >= 1
    return cert


# ------------------------------------------------------------------ piecewise-linear detection
def test_pl_knots_by_hand():
    assert piecewise_linear("relu").knots == (0,)
    h = piecewise_linear("hard_sigmoid")
    assert h.knots == (-3, 3) and h.values == (0, 1)
    assert piecewise_linear("Abs(t) - 1")(Fraction(-3)) == 2
    assert piecewise_linear("leaky_relu").slope_left == Fraction(1, 100)
    for name in ("tanh", "t**2", "sigmoid"):
        with pytest.raises(NotPiecewiseLinear):
            piecewise_linear(name)


# ------------------------------------------------------------------ unsatisfiable by construction
def test_positive_weights_positive_bias_proved_on_nonneg_and_binary(tmp_path):
    """W >= 0, b > 0: W x + b >= b > 0 for x >= 0, so relu(Wx + b) > 0: P3 holds on nonneg and binary."""
    W = np.abs(np.random.default_rng(0).normal(size=(4, 6)))
    enc = Encoder.from_arrays([W], [np.ones(4)], ["relu"])
    for dom in ("nonneg", "binary", "box:0,3"):
        _recheck(verify(enc, "p3", domain=dom, timeout=30), enc, tmp_path)


def test_positive_weights_refuted_on_reals():
    """Same encoder on the reals: x = -c (1, ..., 1) with c large makes every unit negative."""
    W = np.abs(np.random.default_rng(0).normal(size=(4, 6)))
    enc = Encoder.from_arrays([W], [np.ones(4)], ["relu"])
    _assert_refuted(verify(enc, "p3", domain="reals", timeout=30), [W], [np.ones(4)], ["relu"])


def test_cancelling_units_need_branching(tmp_path):
    """h1 = h2 = relu(x1 - x2); latent = relu(h1 - h2 + 1/2) = 1/2 for every x: P3 holds.

    Intervals alone give h1 - h2 + 1/2 in [-3/2, 5/2]; only the branch on x1 - x2 closes it.
    """
    W1 = np.array([[1.0, -1.0], [1.0, -1.0]])
    W2 = np.array([[1.0, -1.0]])
    enc = Encoder.from_arrays([W1, W2], [np.zeros(2), np.array([0.5])], ["relu", "relu"])
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    cert = _recheck(res, enc, tmp_path)
    assert res.stats["leaves_farkas"] >= 1 or res.stats["nodes"] >= 2
    assert cert["nonzero"]["kind"] == "enc0-nonzero"


def test_binary_sum_row(tmp_path):
    """relu(x1 + x2 - 1/2) = 0 iff x1 + x2 <= 1/2: only the zero user on {0,1}^2, so P3 holds (the sum row)."""
    enc = Encoder.from_arrays([np.array([[1.0, 1.0]])], [np.array([-0.5])], ["relu"])
    res = verify(enc, "p3", domain="binary", timeout=30)
    cert = _recheck(res, enc, tmp_path)
    assert cert["nonzero"]["kind"] == "binary-sum"
    # on the box [-1, 1]^2 the same encoder maps (-1, 0) to 0
    _assert_refuted(verify(enc, "p3", domain="box:-1,1", timeout=30), [np.array([[1.0, 1.0]])], [np.array([-0.5])],
                    ["relu"], Fraction(-1), Fraction(1))


def test_two_layer_binary_unsat(tmp_path):
    """Hidden h = relu(x1 + x2 + x3) >= 1 for a nonzero user; latent relu(h - 1/2) >= 1/2 > 0: P3 holds."""
    enc = Encoder.from_arrays([np.ones((1, 3)), np.ones((1, 1))], [np.zeros(1), np.array([-0.5])], ["relu", "relu"])
    _recheck(verify(enc, "p3", domain="binary", timeout=30), enc, tmp_path)


# ------------------------------------------------------------------ satisfiable by construction
def test_kernel_vector_refuted():
    """Zero biases and W1 (1, 1, 1) = 0: x = c (1, 1, 1) maps to enc(0) = 0."""
    W1 = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    W2 = np.array([[1.0, 2.0], [-1.0, 1.0]])
    Ws, bs = [W1, W2], [np.zeros(2), np.zeros(2)]
    enc = Encoder.from_arrays(Ws, bs, ["relu", "relu"])
    _assert_refuted(verify(enc, "p3", domain="box:-1,1", timeout=30), Ws, bs, ["relu", "relu"], Fraction(-1), Fraction(1))


def test_identity_latent_with_kernel_refuted():
    """identity latent, W (1, 1, 1) = 0, no bias: an equality zero set, reached exactly."""
    W = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    enc = Encoder.from_arrays([W], [np.zeros(2)], ["identity"])
    _assert_refuted(verify(enc, "p3", domain="box:-1,1", timeout=30), [W], [np.zeros(2)], ["identity"])


def test_binary_single_item_refuted():
    """Column 2 is <= -1 in every row and b = 1/2: the user {item 2} gives W e_2 + b < 0, so relu(...) = 0."""
    W = np.array([[1.0, 2.0, -1.0, 0.5], [0.5, 1.0, -2.0, 1.0]])
    b = np.array([0.5, 0.5])
    enc = Encoder.from_arrays([W], [b], ["relu"])
    _assert_refuted(verify(enc, "p3", domain="binary", timeout=30), [W], [b], ["relu"], binary=True)


def test_binary_pair_needed():
    """relu(-x0 - x1 + 3/2) = 0 iff x0 = x1 = 1; relu(x2 - 1/2) = 0 iff x2 = 0: only (1, 1, 0) (no singleton)."""
    W = np.array([[-1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
    b = np.array([1.5, -0.5])
    enc = Encoder.from_arrays([W], [b], ["relu"])
    res = verify(enc, "p3", domain="binary", timeout=30)
    _assert_refuted(res, [W], [b], ["relu"], binary=True)
    assert [Fraction(v) for v in res.counterexample] == [1, 1, 0]


def test_binary_three_constraints_unsat(tmp_path):
    """x0 + x1 + 3 x2 <= 3/2, -3 x0 + x1 + x2 <= -1/2, x0 - 3 x1 + x2 <= -1/2 force x0 = x1 = 1, then 2 <= 3/2: P3 holds."""
    W = np.array([[1.0, 1.0, 3.0], [-3.0, 1.0, 1.0], [1.0, -3.0, 1.0]])
    enc = Encoder.from_arrays([W], [np.array([-1.5, 0.5, 0.5])], ["relu"])
    _recheck(verify(enc, "p3", domain="binary", timeout=30), enc, tmp_path)


def test_random_deep_box_answers_agree_with_recheck(tmp_path):
    """Random 2-layer encoders: whatever the verdict, a proof re-checks and a refutation evaluates to 0."""
    for seed in range(3):
        enc = Encoder.random([6, 5, 3], "relu", seed=seed)
        res = verify(enc, "p3", domain="box:1,2", timeout=30)
        Ws, bs = [l.W for l in enc.layers], [l.b for l in enc.layers]
        if res.verdict == "proved":
            _recheck(res, enc, tmp_path)
        else:
            _assert_refuted(res, Ws, bs, ["relu", "relu"], Fraction(1), Fraction(2))


# ------------------------------------------------------------------ outside the piecewise-linear scope
def test_t2_and_unknown():
    enc = Encoder.random([5, 3], "sigmoid", seed=0)
    res = verify(enc, "p3", domain="binary", timeout=10)
    assert res.verdict == "proved" and res.method == "T2"
    enc = Encoder.random([5, 3], "tanh", seed=0)
    res = verify(enc, "p3", domain="binary", timeout=10)
    assert res.verdict == "unknown" and "piecewise linear" in res.reason


# ------------------------------------------------------------------ planted bugs: the re-checker must refuse
def _farkas_cert(tmp_path):
    W1 = np.array([[1.0, -1.0], [1.0, -1.0]])
    W2 = np.array([[1.0, -1.0]])
    enc = Encoder.from_arrays([W1, W2], [np.zeros(2), np.array([0.5])], ["relu", "relu"])
    res = verify(enc, "p3", domain="box:-1,1", timeout=30)
    cert = _recheck(res, enc, tmp_path)
    return cert, tmp_path / "encoder.npz"


def _leaves(node):
    if "leaf" in node:
        return [node]
    return _leaves(node["le"]) + _leaves(node["ge"])


def test_recheck_rejects_corrupted_multiplier(tmp_path):
    cert, enc_path = _farkas_cert(tmp_path)
    bad = copy.deepcopy(cert)
    farkas = [lf for t in bad["trees"] for lf in _leaves(t["root"]) if lf["leaf"] == "farkas"]
    assert farkas, "the construction needs a Farkas leaf"
    row = next(r for r in farkas[0]["rows"] if r[0] == "aff")
    row[3] = str(Fraction(row[3]) * 3 + 1)
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, enc_path)


def test_recheck_rejects_invalid_line_and_false_interval_leaf(tmp_path):
    cert, enc_path = _farkas_cert(tmp_path)
    bad = copy.deepcopy(cert)
    farkas = [lf for t in bad["trees"] for lf in _leaves(t["root"]) if lf["leaf"] == "farkas"]
    hull = next(r for lf in farkas for r in lf["rows"] if r[0] == "hull")
    hull[4] = str(Fraction(hull[4]) + (1 if hull[5] == "ge" else -1))  # move the line past the graph
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, enc_path)
    bad = copy.deepcopy(cert)
    bad["trees"][0]["root"] = {"leaf": "interval"}
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, enc_path)
    bad = copy.deepcopy(cert)
    bad["activations"][0]["knots"] = ["1"]
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, enc_path)


def test_engine_check_rejects_corruption(tmp_path):
    """The engine's own exact check (counterexamples.certificate) refuses the same corruption."""
    from latentcheck.counterexamples.certificate import check_certificate

    cert, enc_path = _farkas_cert(tmp_path)
    enc = load_encoder(enc_path)
    Ws, bs = [l.W for l in enc.layers], [l.b for l in enc.layers]
    assert check_certificate(cert, Ws, bs).ok
    bad = copy.deepcopy(cert)
    farkas = [lf for t in bad["trees"] for lf in _leaves(t["root"]) if lf["leaf"] == "farkas"]
    row = next(r for r in farkas[0]["rows"] if r[0] == "aff")
    row[3] = str(Fraction(row[3]) * 3 + 1)
    assert not check_certificate(bad, Ws, bs).ok


# ------------------------------------------------------------------ command line
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "verify", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=120)


def test_cli_exit_codes_and_certificate_file(tmp_path):
    W = np.abs(np.random.default_rng(0).normal(size=(3, 4)))
    enc = Encoder.from_arrays([W], [np.ones(3)], ["relu"])
    save_encoder(enc, tmp_path / "w.npz")
    r = _cli("--weights", str(tmp_path / "w.npz"), "--domain", "nonneg", "--out", str(tmp_path / "out"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] == "proved"
    chk = subprocess.run([sys.executable, str(ROOT / "docs" / "recheck_certificate.py"), str(tmp_path / "out" / "certificate.json")],
                         capture_output=True, text=True, timeout=120)
    assert chk.returncode == 0 and chk.stdout.startswith("OK"), chk.stdout
    assert _cli("--weights", str(tmp_path / "w.npz"), "--domain", "reals").returncode == 1
    assert _cli("--layers", "5,3", "--activation", "tanh", "--domain", "binary").returncode == 3
    bad = _cli("--layers", "5,3", "--activation", "relu", "--domain", "box:2,1")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")


# ------------------------------------------------------------------ falsify uses verify
def test_falsify_records_verify_proof_but_never_claims_none_exists_for_floats():
    """W >= 0, b > 0 on nonneg: verify proves P3 over the reals; relu's float zero set is not empty, so not none-exists."""
    from latentcheck.checkers.falsify import falsify

    W = np.abs(np.random.default_rng(0).normal(size=(3, 5)))
    enc = Encoder.from_arrays([W], [np.ones(3)], ["relu"])
    res = falsify(enc, "p3", domain="nonneg", budget=10.0, seed=0, max_rounds=1)  # one round leaves budget for verify
    assert res.status == "none-found"
    assert res.info["verify"]["verdict"] == "proved"


def test_cone_argument_when_zero_maps_to_zero(tmp_path):
    """relu(x1), relu(x2), relu(-x1 - x2) all 0 iff x1 <= 0, x2 <= 0, x1 + x2 >= 0 iff x = 0: P3 holds
    although enc(0) = 0 (zero biases: the zero set is a cone, one tree per coordinate and sign)."""
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    enc = Encoder.from_arrays([W], [np.zeros(3)], ["relu"])
    for dom, cases in (("reals", 4), ("box:-1,2", 4), ("nonneg", 2)):
        res = verify(enc, "p3", domain=dom, timeout=30)
        cert = _recheck(res, enc, tmp_path)
        assert cert["nonzero"]["kind"] == "cone" and len(cert["trees"]) == cases
    # drop the third unit: x = (-1, -1) maps to 0
    W2, b2 = W[:2], np.zeros(2)
    _assert_refuted(verify(Encoder.from_arrays([W2], [b2], ["relu"]), "p3", domain="reals", timeout=30), [W2], [b2], ["relu"])


def test_cli_reads_recorded_normalisation(tmp_path):
    """A weight file that records l2 input normalisation is verified as such: zero biases and relu make the
    answer the un-normalised one (here refuted: x = (1, 0) gives relu(-1) = 0); with a bias the l2 engine
    decides it (relu(-1 + 1) = 0 at x = (1, 0), |x| = 1), and relu6 stays unknown."""
    W = np.array([[-1.0, 1.0]])
    np.savez(tmp_path / "h.npz", W0=W, b0=np.zeros(1), activations=np.array(["relu"]), latentcheck_normalise=np.array("l2"))
    r = _cli("--weights", str(tmp_path / "h.npz"), "--domain", "binary", "--json")
    assert r.returncode == 1 and "l2 normalisation does not change" in json.loads(r.stdout)["reason"]
    np.savez(tmp_path / "b.npz", W0=W, b0=np.ones(1), activations=np.array(["relu"]), latentcheck_normalise=np.array("l2"))
    r = _cli("--weights", str(tmp_path / "b.npz"), "--domain", "binary", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["counterexample"] == ["1", "0"]
    np.savez(tmp_path / "r6.npz", W0=W, b0=np.ones(1), activations=np.array(["relu6"]), latentcheck_normalise=np.array("l2"))
    r = _cli("--weights", str(tmp_path / "r6.npz"), "--domain", "binary", "--json")
    assert r.returncode == 3 and "positively homogeneous" in json.loads(r.stdout)["reason"]


def test_recheck_rejects_overclaimed_derived_bound(tmp_path):
    """A derived bound tighter than its multipliers imply is refused by both exact checkers."""
    from latentcheck.counterexamples.certificate import check_certificate

    cert, enc_path = _farkas_cert(tmp_path)
    entries = cert["trees"][0]["bounds"]
    assert entries, "the construction needs derived bounds"
    bad = copy.deepcopy(cert)
    e = bad["trees"][0]["bounds"][0]
    e[3] = str(Fraction(e[3]) + (1 if e[2] == "ge" else -1) * Fraction(1, 2))  # claim more than follows
    with pytest.raises(RECHECK.Rejected):
        RECHECK.recheck(bad, enc_path)
    enc = load_encoder(enc_path)
    assert not check_certificate(bad, [l.W for l in enc.layers], [l.b for l in enc.layers]).ok


def test_weights_float64_cannot_hold_are_not_verified(tmp_path) -> None:
    """Long double weights are never rounded into a certificate: verify answers unknown (soundness)."""
    import numpy as np

    from latentcheck.checkers.verify import verify
    from latentcheck.theorems.encoder import Encoder

    if np.finfo(np.longdouble).nmant <= 52:
        pytest.skip("long double is float64 on this platform")
    W = np.array([[1 + np.longdouble(2) ** -60, -1.0]], dtype=np.longdouble)
    path = tmp_path / "ld.npz"
    np.savez(path, W0=W, b0=np.zeros(1, dtype=np.longdouble))
    enc = load_encoder(str(path), activation="relu")
    res = verify(enc, "p3", domain="box:-1,1", timeout=10)
    assert res.verdict == "unknown" and "float64" in res.reason


def test_verify_reads_models_with_model_option(tmp_path):
    """--model on verify: a safetensors encoder (issue 12). relu(x1 + x2 + 1) never vanishes; relu(-x1 - x2) erases e_1."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    import subprocess
    import sys

    safetensors_numpy.save_file({"encoder.0.weight": np.array([[1.0, 1.0]], np.float32),
                                 "encoder.0.bias": np.array([1.0], np.float32)}, str(tmp_path / "ok.safetensors"))
    safetensors_numpy.save_file({"encoder.0.weight": np.array([[-1.0, -1.0]], np.float32),
                                 "encoder.0.bias": np.array([0.0], np.float32)}, str(tmp_path / "bad.safetensors"))
    codes = {}
    for name in ("ok", "bad"):
        out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "verify", "--model", str(tmp_path / f"{name}.safetensors"),
                              "--activations", "relu", "--domain", "binary", "--timeout", "30"], capture_output=True, text=True, timeout=300)
        codes[name] = out.returncode
    assert codes == {"ok": 0, "bad": 1}
    both = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "verify", "--model", str(tmp_path / "ok.safetensors"),
                           "--layers", "3,2"], capture_output=True, text=True, timeout=300)
    assert both.returncode == 2 and both.stderr.startswith("error:") and "Traceback" not in both.stderr


def test_abs_matrix_belongs_to_its_own_network() -> None:
    """Regression: |W| was cached by id(net); a new network reusing a freed id got another network's matrix."""
    from latentcheck.checkers.verify.pl import piecewise_linear
    from latentcheck.counterexamples.certificate import ExactNet
    from latentcheck.theorems.activations import get_activation

    acts = [piecewise_linear(get_activation("relu")).to_json()]
    for size in (2, 3, 4, 5, 6, 2, 3):
        W = -np.arange(1, size * (size + 1) + 1, dtype=np.float64).reshape(size, size + 1) * (size % 3 + 1)
        net = ExactNet.build([W], [np.zeros(size)], acts)
        M = net.Wi[0].abs.fractions()
        assert M.shape == W.shape
        assert all(M[i, j] == abs(int(W[i, j])) for i in range(size) for j in range(size + 1))
        del net


def test_cli_verdict_names_the_model_file_and_the_tensors_read(tmp_path):
    """Regression (issue 17's end-to-end check): verify's verdict named neither the file nor the tensors it checked.

    A safetensors Mult-DAE (encoder + decoder): the JSON, verdict.json and the text name the file, its SHA-256
    and exactly the encoder's tensors (not the decoder's).
    """
    st = pytest.importorskip("safetensors.numpy")
    import hashlib

    rng = np.random.default_rng(7)
    arrays = {"encoder.0.weight": np.abs(rng.normal(size=(3, 4))).astype(np.float32), "encoder.0.bias": np.ones(3, np.float32),
              "decoder.weight": rng.normal(size=(4, 3)).astype(np.float32), "decoder.bias": np.zeros(4, np.float32)}
    path = tmp_path / "dae.safetensors"
    st.save_file(arrays, str(path))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    r = _cli("--model", str(path), "--activations", "relu", "--domain", "nonneg", "--json", "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    for doc in (json.loads(r.stdout), json.loads((tmp_path / "o" / "verdict.json").read_text())):
        prov = doc["encoder"]["provenance"]
        assert prov["sha256"] == sha and prov["path"] == str(path) and prov["format"] == "safetensors"
        assert sorted(prov["tensors_used"]) == ["encoder.0.bias", "encoder.0.weight"]
        assert doc["encoder"]["sizes"] == [4, 3] and doc["encoder"]["activations"] == ["relu"]
    text = _cli("--model", str(path), "--activations", "relu", "--domain", "nonneg")
    assert sha in text.stdout and "encoder.0.weight" in text.stdout and "decoder.weight" not in text.stdout


# ------------------------------------------------------------------ start-up: no sympy for catalogue PL encoders
_FRESH_VERIFY = """
import json, sys
from latentcheck.checkers.verify import verify
from latentcheck.theorems.formats import load_encoder
out = {{}}
for path in sys.argv[1:]:
    enc = load_encoder(path)
    res = verify(enc, "p3", domain="box:-1,1", timeout=60)
    out[path] = [res.verdict, res.certificate]
    {touch}
print(json.dumps({{"results": out, "sympy": sorted(m for m in sys.modules if m.split(".")[0] == "sympy")}}))
"""


def _cancelling(act: str) -> Encoder:
    """h1 = h2 = s(x1 - x2), latent s(h1 - h2 + 1/2) = s(1/2) > 0 for s = relu or leaky_relu: P3 holds."""
    W1 = np.array([[1.0, -1.0], [1.0, -1.0]])
    return Encoder.from_arrays([W1, np.array([[1.0, -1.0]])], [np.zeros(2), np.array([0.5])], [act, act])


def _verify_fresh(tmp_path, encoders: dict, touch: str = "pass") -> dict:
    """``verify`` on each encoder (saved as ``.npz``) in a fresh Python process: verdicts, certificates and the
    sympy modules that process imported."""
    paths = []
    for name, enc in encoders.items():
        save_encoder(enc, tmp_path / f"{name}.npz")
        paths.append(str(tmp_path / f"{name}.npz"))
    out = subprocess.run([sys.executable, "-c", _FRESH_VERIFY.format(touch=touch), *paths], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    return {"results": {Path(p).stem: v for p, v in got["results"].items()}, "sympy": got["sympy"]}


def test_verify_on_catalogue_pl_encoders_never_imports_sympy(tmp_path):
    """issue 19: the verify path of a catalogue piecewise-linear encoder (loading, solving, certificate) needs no
    sympy. ``_cancelling`` holds P3; s(x1 + x2 - 1/2) maps (-1, 0) to 0 on the box (relu), s(x1 - x2) maps (1, 1)."""
    encoders = {"relu_proved": _cancelling("relu"), "leaky_proved": _cancelling("leaky_relu"),
                "relu_refuted": Encoder.from_arrays([np.array([[1.0, 1.0]])], [np.array([-0.5])], ["relu"]),
                "leaky_refuted": Encoder.from_arrays([np.array([[1.0, -1.0]])], [np.zeros(1)], ["leaky_relu"])}
    got = _verify_fresh(tmp_path, encoders)
    assert {k: v[0] for k, v in got["results"].items()} == {"relu_proved": "proved", "leaky_proved": "proved",
                                                            "relu_refuted": "refuted", "leaky_refuted": "refuted"}
    assert got["sympy"] == []


def test_the_sympy_check_sees_an_import(tmp_path):
    """Planted: the same process using the activation's sympy expression after verify is seen importing sympy."""
    got = _verify_fresh(tmp_path, {"relu_proved": _cancelling("relu")}, touch="enc.activation.expr")
    assert got["results"]["relu_proved"][0] == "proved"
    assert "sympy" in got["sympy"] and "sympy.core" in got["sympy"]


def test_catalogue_table_and_sympy_derivation_give_one_certificate(tmp_path):
    """The catalogue's PL table (relu) and the form sympy derives from the same formula written out ('Max(0, t)')
    give the same certificate, each in a fresh process (the names of the activations aside)."""
    table = _verify_fresh(tmp_path, {"enc": _cancelling("relu")})["results"]["enc"]
    derived = _verify_fresh(tmp_path, {"enc": _cancelling("Max(0, t)")})["results"]["enc"]
    assert table[0] == derived[0] == "proved"
    names = (table[1].pop("activation_names"), derived[1].pop("activation_names"))
    assert names == (["relu", "relu"], ["Max(0, t)", "Max(0, t)"])
    table[1]["model"].pop("sha256"), derived[1]["model"].pop("sha256")  # the files differ in their activations
    assert table[1] == derived[1]


_FRESH_CLI = """
import json, sys
from latentcheck.checkers.cli.app import main
try:
    main(["verify", "--weights", sys.argv[1], "--domain", "box:-1,1"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "sympy": sorted(m for m in sys.modules if m.split(".")[0] == "sympy")}))
"""


def test_the_verify_command_never_imports_sympy(tmp_path):
    """The command line imports every command (falsify, prove, ...), each without sympy at import, so
    ``latentcheck verify`` on a catalogue PL encoder runs without it too (exit 0: ``_cancelling`` holds P3)."""
    save_encoder(_cancelling("leaky_relu"), tmp_path / "enc.npz")
    out = subprocess.run([sys.executable, "-c", _FRESH_CLI, str(tmp_path / "enc.npz")], capture_output=True, text=True,
                         timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"code": 0, "sympy": []}, out.stdout + out.stderr
