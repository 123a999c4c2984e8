"""Reports are self-contained (issue 8, item 11): the weights file's SHA-256 and, up to 10^4 parameters,
the exact weights, so a witness can be re-checked from report.json alone.

The re-check below reads only the JSON (and, for the hash, the file's bytes): Fractions parsed from the
exact strings, activations by hand-written rules (tests/_recheck.py). No code from theorems/ or
counterexamples/ evaluates anything.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction

import numpy as np
import pytest

import _recheck as rc
from latentcheck.checkers.falsify import falsify
from latentcheck.counterexamples.report import render_markdown, write_report
from latentcheck.theorems import Encoder
from latentcheck import load_encoder


def recheck_report(data: dict) -> bool:
    """Every certified P3 witness in a report dict, re-checked from the JSON alone."""
    layers = data["weights"]
    Ws = [[[Fraction(v) for v in row] for row in layer["W"]] for layer in layers]
    bs = [[Fraction(v) for v in layer["b"]] for layer in layers]
    acts = [layer["activation"] for layer in layers]
    cxs = data["counterexamples"]
    return bool(cxs) and all(rc.p3_witness_holds(Ws, bs, acts, [Fraction(v) for v in cx["witness"]["x"]]) for cx in cxs)


@pytest.fixture
def weights_file(tmp_path):
    rng = np.random.default_rng(5)
    path = tmp_path / "enc.npz"
    np.savez(path, W0=rng.normal(size=(3, 8)), b0=rng.normal(size=3) * 0.1, W1=rng.normal(size=(2, 3)),
             b1=np.zeros(2), activations=np.array(["relu", "relu"]))
    return path


def test_report_rechecks_from_json_alone(weights_file, tmp_path) -> None:
    res = falsify(load_encoder(weights_file), "p3", budget=3, seed=0)
    paths = write_report(res, tmp_path / "out", plots=False)
    data = json.loads(paths["json"].read_text())
    assert data["encoder"]["weights_sha256"] == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    # the recorded weights are the file's, exactly
    with np.load(weights_file) as f:
        assert [[Fraction(v) for v in row] for row in data["weights"][0]["W"]] == rc.exact_matrix(f["W0"])
    assert recheck_report(data)
    md = paths["markdown"].read_text()
    assert data["encoder"]["weights_sha256"] in md


def test_planted_wrong_weights_in_report_are_caught(tmp_path) -> None:
    """A report whose recorded weights are off by 2**-40 (as a lossy writer would make them) fails the re-check."""
    rng = np.random.default_rng(1)
    path = tmp_path / "lin.npz"
    np.savez(path, W0=rng.normal(size=(2, 5)), b0=np.zeros(2), activations=np.array(["identity"]))
    res = falsify(load_encoder(path), "p3", budget=3, seed=0)
    data = json.loads(json.dumps(res.to_json()))
    assert recheck_report(data)  # the true record passes (kernel witness of the linear map)
    x = [Fraction(v) for v in data["counterexamples"][0]["witness"]["x"]]
    j = next(i for i, v in enumerate(x) if v != 0)
    row = data["weights"][0]["W"][0]
    row[j] = str(Fraction(row[j]) + Fraction(1, 2**40))
    assert not recheck_report(data)


def test_no_weights_above_ten_thousand_parameters() -> None:
    enc = Encoder.random([2000, 5], "relu", seed=0)
    assert enc.parameters > 10_000
    res = falsify(enc, "p3", budget=1, seed=0, shrink=False, max_rounds=0)
    assert "weights" not in res.to_json()


def test_markdown_names_runtime_and_undecided() -> None:
    report = {
        "property": "P3", "status": "undecided", "dtype": "float32", "float_runtime": "xla-cpu",
        "encoder": {"sizes": [2, 1], "activations": ["tanh"], "weights_sha256": "ab" * 32, "weights_file": "w.npz"},
        "stats": {}, "counterexamples": [],
        "float_only": [{"certified": "float-only", "dtype": "float32", "runtime": "xla-cpu", "ieee_reproduces": False,
                        "witness": {"x": ["1", "0"]}, "notes": []}],
        "undecided": [{"certified": "undecided", "dtype": "float32", "runtime": "xla-cpu", "witness": {"x": ["1", "0"]}}],
    }
    md = render_markdown(report)
    assert "Undecided" in md and "under xla-cpu" in md and "holds only under flush-to-zero" in md
    assert "ab" * 32 in md
