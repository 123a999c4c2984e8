"""``latentcheck recheck`` (counterexamples/recheck.py): certificates bind to their model, tampering is REJECTED.

The shipped re-checker is the independent checker of verify certificates (Fractions and NumPy's npz reader
only); these tests tamper with real certificates and encoder files and assert the verdict line and the exit
code, never a traceback. A planted-bug test shows the binding check is what catches a certificate that
claims another activation than the file stores.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentcheck.checkers.cli.verify import _write_outputs
from latentcheck.checkers.verify import verify
from latentcheck.counterexamples import recheck as R
from latentcheck.counterexamples.certificate import save_bound_encoder
from latentcheck.theorems.encoder import Encoder
from latentcheck import load_encoder, save_encoder

ROOT = Path(__file__).resolve().parents[2]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _farkas_case() -> tuple[Encoder, object]:
    """A two-layer relu encoder whose P3 proof on box:0,1 has Farkas leaves (aff and hull rows)."""
    for seed in range(60):
        rng = np.random.default_rng(300 + seed)
        enc = Encoder.from_arrays([rng.normal(size=(5, 6)), rng.normal(size=(3, 5))],
                                  [rng.normal(size=5) * 0.5, rng.normal(size=3) * 0.5 + 0.3], ["relu", "relu"])
        res = verify(enc, "p3", domain="binary", timeout=60)
        if res.verdict == "proved" and res.stats.get("leaves_farkas", 0) >= 1:
            return enc, res
    raise AssertionError("no proved case with Farkas leaves")


@pytest.fixture(scope="module")
def proved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("proved")
    enc, res = _farkas_case()
    _write_outputs(out, enc, res)
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("certificate.json", "encoder.npz"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def _cert(folder: Path) -> dict:
    return json.loads((folder / "certificate.json").read_text())


def _put(folder: Path, cert: object) -> None:
    (folder / "certificate.json").write_text(json.dumps(cert))


def _run(folder: Path, **opts: str) -> tuple[int, str]:
    return R.recheck_path(str(folder / "certificate.json"), opts.get("encoder"), opts.get("model"))


def _rewrite_npz(folder: Path, **changes: np.ndarray) -> None:
    """Rewrite encoder.npz with some arrays changed or added, and re-bind the certificate's hash to it."""
    with np.load(folder / "encoder.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    np.savez(folder / "encoder.npz", **arrays)
    cert = _cert(folder)
    cert["encoder_sha256"] = _sha(folder / "encoder.npz")
    _put(folder, cert)


def _farkas_leaf(node: dict) -> dict | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.get("leaf") == "farkas" and n.get("rows"):
            return n
        stack += [n[s] for s in ("le", "ge") if s in n]
    return None


# ------------------------------------------------------------------ accepted as written
def test_fresh_certificate_is_ok(proved: Path) -> None:
    code, text = _run(proved)
    assert code == 0 and text.startswith("OK: P3 holds on binary"), text
    assert _cert(proved)["sizes"] == [6, 5, 3] and _cert(proved)["activation_names"] == ["relu", "relu"]


def test_cli_command_ok_and_rejected(proved: Path, tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "recheck", str(proved / "certificate.json")],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    bad = _copy(proved, tmp_path / "bad")
    cert = _cert(bad)
    cert["sizes"] = [6, 5, 4]
    _put(bad, cert)
    rej = subprocess.run([sys.executable, str(ROOT / "docs" / "recheck_certificate.py"), str(bad / "certificate.json")],
                         capture_output=True, text=True, timeout=300)
    assert rej.returncode == 1 and rej.stdout.startswith("REJECTED: the certificate claims sizes"), rej.stdout + rej.stderr
    assert "Traceback" not in rej.stderr


# ------------------------------------------------------------------ tampering, each REJECTED with its reason
def test_flipped_multiplier_rejected(proved: Path, tmp_path: Path) -> None:
    bad = _copy(proved, tmp_path / "m")
    cert = _cert(bad)
    leaf = next(_farkas_leaf(t["root"]) for t in cert["trees"] if _farkas_leaf(t["root"]))
    leaf["rows"] = [r[:-1] + [str(-Fraction(r[-1]))] if r[0] in ("hull", "sum") and Fraction(r[-1]) != 0 else r
                    for r in leaf["rows"]]
    _put(bad, cert)
    code, text = _run(bad)
    assert code == 1 and text.startswith("REJECTED: negative multiplier"), text


def test_activation_claim_must_match_the_file(proved: Path, tmp_path: Path) -> None:
    bad = _copy(proved, tmp_path / "a")
    cert = _cert(bad)
    cert["activation_names"] = ["relu", "leaky_relu"]
    cert["activations"][1] = {"knots": ["0"], "values": ["0"], "slope_left": "1/100", "slope_right": "1", "offset": "0"}
    _put(bad, cert)
    code, text = _run(bad)
    assert code == 1 and "claims activations" in text and "stores ['relu', 'relu']" in text, text


def test_sizes_and_normalisation_must_match(proved: Path, tmp_path: Path) -> None:
    bad = _copy(proved, tmp_path / "s")
    cert = _cert(bad)
    cert["inputs"]["normalise"] = "l2"
    _put(bad, cert)
    code, text = _run(bad)
    assert code == 1 and "input normalisation 'l2'" in text, text
    _rewrite_npz(bad, latentcheck_normalise=np.array("l2"))  # the file agrees now, but the proof has biases
    code, text = _run(bad)
    assert code == 1 and "covers normalised ones only for zero biases" in text, text


def test_swapped_model_file_rejected(proved: Path, tmp_path: Path) -> None:
    bad = _copy(proved, tmp_path / "w")
    with np.load(bad / "encoder.npz") as data:
        W0 = data["W0"].copy()
    W0[0, 0] += 1.0
    np.savez(bad / "encoder.npz", **{**{k: v for k, v in np.load(proved / "encoder.npz").items()}, "W0": W0})
    code, text = _run(bad)
    assert code == 1 and "SHA-256 differs" in text, text
    code, text = _run(proved, model=str(proved / "encoder.npz"))  # not the file the encoder was read from
    assert code == 1 and "--model" in text, text


def test_model_option_binds_the_source_file(tmp_path: Path) -> None:
    W = np.abs(np.random.default_rng(0).normal(size=(3, 4)))
    src = tmp_path / "model.npz"
    save_encoder(Encoder.from_arrays([W], [np.ones(3)], ["relu"]), src)
    enc = load_encoder(src)
    _write_outputs(tmp_path / "out", enc, verify(enc, "p3", domain="nonneg", timeout=30))
    code, text = _run(tmp_path / "out", model=str(src))
    assert code == 0 and "matches the recorded SHA-256" in text, text
    other = tmp_path / "other.npz"
    other.write_bytes(src.read_bytes() + b"\0")
    code, text = _run(tmp_path / "out", model=str(other))
    assert code == 1 and "another SHA-256" in text, text


@pytest.mark.parametrize("row", [["aff", 99, 0, "1"], ["aff", 0, -1, "1"], ["hull", 1, 7, "0", "0", "ge", "1"],
                                 ["aff", "0", 0, "1"], ["aff", 0, 0, "abc"], ["aff", 0, 0, "9" * 5000],
                                 ["hull", 0, 0, "0", "0", "sideways", "1"], ["sum"], ["aff", 0, 0, None], ["zzz", 0]])
def test_malformed_rows_rejected_without_traceback(proved: Path, tmp_path: Path, row: list) -> None:
    bad = _copy(proved, tmp_path / "r")
    cert = _cert(bad)
    leaf = next(_farkas_leaf(t["root"]) for t in cert["trees"] if _farkas_leaf(t["root"]))
    leaf["rows"] = [row] + leaf["rows"]
    _put(bad, cert)
    code, text = _run(bad)
    assert code == 1 and text.startswith("REJECTED: ") and "malformed" not in text, text


@pytest.mark.parametrize("key", ["W01", "Wx", "b7", "extra"])
def test_extra_keys_in_the_encoder_file_rejected(proved: Path, tmp_path: Path, key: str) -> None:
    bad = _copy(proved, tmp_path / key)
    _rewrite_npz(bad, **{key: np.zeros((5, 6))})
    code, text = _run(bad)
    assert code == 1 and text.startswith("REJECTED: the encoder file"), text


@pytest.mark.parametrize("content,code", [(b"not json {", 2), (b"[1, 2, 3]", 1), (b'"text"', 1), (b"{}", 1),
                                          (b'{"schema": "latentcheck.verify-certificate/1"}', 1),
                                          (b"[" * 100000, 2), (b"\xff\xfe", 2)])
def test_unreadable_or_wrong_documents(tmp_path: Path, content: bytes, code: int) -> None:
    (tmp_path / "certificate.json").write_bytes(content)
    got, text = _run(tmp_path)
    assert got == code and text.startswith("REJECTED: "), text


def test_missing_files_exit_2(proved: Path, tmp_path: Path) -> None:
    assert R.recheck_path(str(tmp_path / "none.json"))[0] == 2
    code, text = _run(proved, encoder=str(tmp_path / "none.npz"))
    assert code == 2 and text.startswith("REJECTED: cannot read"), text


# ------------------------------------------------------------------ the case, and the planted bug
def _leaky_claim_on_relu_file(tmp_path: Path) -> Path:
    """verify proves P3 for leaky_relu(-x - 1) on box:0,1; then the file is swapped for relu, hash re-bound.
    relu(-x - 1) = 0 for every x in [0, 1]: the certificate must not be accepted for that file."""
    leaky = Encoder.from_arrays([np.array([[-1.0]])], [np.array([-1.0])], ["leaky_relu"])
    res = verify(leaky, "p3", domain="box:0,1", timeout=30)
    assert res.verdict == "proved", res.reason
    out = tmp_path / "leaky"
    _write_outputs(out, leaky, res)
    relu = Encoder.from_arrays([np.array([[-1.0]])], [np.array([-1.0])], ["relu"])
    save_bound_encoder(relu, "none", out / "encoder.npz")
    cert = _cert(out)
    cert["encoder_sha256"] = _sha(out / "encoder.npz")
    _put(out, cert)
    return out


def test_leaky_relu_certificate_for_a_relu_file_rejected(tmp_path: Path) -> None:
    code, text = _run(_leaky_claim_on_relu_file(tmp_path))
    assert code == 1 and "claims activations ['leaky_relu']" in text, text


def test_planted_bug_without_binding_the_leaky_claim_passes(tmp_path: Path, monkeypatch) -> None:
    """With the binding check planted away, the forged certificate is accepted: binding is what catches it."""
    out = _leaky_claim_on_relu_file(tmp_path)
    monkeypatch.setattr(R, "bind", lambda *a, **k: [])
    monkeypatch.setattr(R, "activations_for", lambda cert, names, L: ([R.PL(a) for a in cert["activations"]], []))
    code, text = _run(out)
    assert code == 0, text


def test_l2_certificate_binds_activation_and_normalisation(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    W = np.round(rng.normal(size=(3, 6)), 3)
    W[1] = np.abs(W[1]) + 0.1
    enc = Encoder.from_arrays([W], [np.array([0.2, 0.1, -0.3])], ["relu"])
    res = verify(enc, "p3", domain="binary", input_normalise="l2", timeout=30)
    assert res.verdict == "proved" and res.certificate["schema"] == R.SCHEMA_L2
    out = tmp_path / "l2"
    _write_outputs(out, enc, res)
    code, text = _run(out)
    assert code == 0 and text.startswith("OK: P3 holds on binary (l2"), text
    bad = _copy(out, tmp_path / "l2b")
    _rewrite_npz(bad, activations=np.array(["leaky_relu"]))
    code, text = _run(bad)
    assert code == 1 and "claims activations ['relu']" in text, text
    bad = _copy(out, tmp_path / "l2n")
    _rewrite_npz(bad, latentcheck_normalise=np.array("none"))
    code, text = _run(bad)
    assert code == 1 and "input normalisation 'l2'" in text, text


# ------------------------------------------------------------------ fuzz: OK or REJECTED, never an exception
JSONVAL = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 30, 10 ** 30) | st.floats() | st.text(max_size=8),
                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3), max_leaves=6)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_certificates(proved: Path, tmp_path_factory, data) -> None:
    cert = _cert(proved)
    paths = _paths(cert)[1:]
    mutated = copy.deepcopy(cert)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = mutated
        try:
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = data.draw(JSONVAL)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    folder = _copy(proved, tmp_path_factory.mktemp("fuzz"))
    _put(folder, mutated)
    code, text = _run(folder)
    assert (code, text[:3]) in ((0, "OK:"), (1, "REJ")), text


# ------------------------------------------------------------------ standalone: imports nothing of latentcheck
def test_recheck_module_is_standalone() -> None:
    tree = ast.parse((ROOT / "counterexamples" / "recheck.py").read_text())
    mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    mods |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    # mpmath: interval values of smooth activations at rational points (schema -smooth/1), nothing else
    assert mods <= {"__future__", "hashlib", "json", "os", "re", "sys", "fractions", "numpy", "math", "mpmath"}, mods


def test_l2_by_homogeneity_binds_the_normalisation(tmp_path: Path) -> None:
    """Zero biases, relu: verify decides l2 by enc(x/|x|) = enc(x)/|x| with the plain schema; the encoder file
    records l2 and the re-checker accepts the plain proof for it only because the encoder is a cone."""
    W = np.abs(np.random.default_rng(2).normal(size=(3, 5))) + 0.1
    enc = Encoder.from_arrays([W], [np.zeros(3)], ["relu"])
    res = verify(enc, "p3", domain="binary", input_normalise="l2", timeout=30)
    assert res.verdict == "proved" and res.certificate["schema"] == R.SCHEMA
    assert res.certificate["normalise"] == "none" and res.certificate["inputs"]["normalise"] == "l2"
    out = tmp_path / "cone"
    _write_outputs(out, enc, res)
    with np.load(out / "encoder.npz") as data:
        assert str(data["latentcheck_normalise"]) == "l2"
    code, text = _run(out)
    assert code == 0 and text.startswith("OK: P3 holds on binary (l2"), text
    _rewrite_npz(out, b0=np.array([0.0, 0.0, 1e-3]))  # a bias: the plain proof no longer covers x/|x|
    code, text = _run(out)
    assert code == 1 and "covers normalised ones only for zero biases" in text, text
