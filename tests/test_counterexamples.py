"""Counterexample records, certification labels, shrinking, reports and the command line."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from typer.testing import CliRunner

import counterexamples
from checkers.cli import app
from checkers.domains import parse_domain
from checkers.falsify import falsify
from counterexamples import (
    Counterexample,
    certify_flip,
    certify_zero,
    load_report,
    render_markdown,
    shrink,
    strip_timings,
    write_report,
)
from theorems import Encoder, check_flip, check_zero


def test_public_api_matches_all() -> None:
    for name in counterexamples.__all__:
        assert hasattr(counterexamples, name), name
    import checkers.falsify as f

    for name in f.__all__:
        assert hasattr(f, name), name


def test_counterexample_roundtrip_and_validation() -> None:
    cx = Counterexample.from_vectors("P2", [[0, 0], [Fraction(1, 3), 0], [0, -2]], margin="1/7", certified="exact",
                                     dtype="float32", domain="reals", origin="test")
    assert cx.witness == (("0", "0"), ("1/3", "0"), ("0", "-2"))
    assert Counterexample.from_json(cx.to_json()) == cx
    assert cx.nonzeros == 2 and cx.is_certified
    with pytest.raises(ValueError):
        Counterexample("P3", (("1",),), None, "maybe", None, "reals")
    with pytest.raises(ValueError):
        Counterexample("P2", (("1",),), None, "exact", None, "reals")


def test_certify_labels() -> None:
    enc = Encoder.from_arrays([[[1.0, -1.0]]], [[0.0]], ["relu"])
    assert certify_zero(enc, [0, 1]).status == "exact"
    assert certify_zero(enc, [1, 0]).status == "refuted"
    assert certify_zero(enc, [0, 0]).status == "outside"
    assert certify_zero(enc, [Fraction(1, 2), 1], domain=parse_domain("binary")).status == "outside"
    tiny = Encoder.from_arrays([[[0.0, 0.0]]], [[1e-30]], ["tanh"])
    c = certify_zero(tiny, [1, 0], dtype="float16")
    assert c.status == "float-only" and not c.certified
    sig = Encoder.from_arrays([[[1.0, 2.0]]], [[0.5]], ["sigmoid"])
    f = certify_flip(sig, [0, 0], [1, 0], [-1, 0])
    assert f.status == "interval" and f.certified


def test_shrink_gives_smaller_certified_witnesses() -> None:
    enc = Encoder.random([30, 4], "relu", seed=2)
    res = falsify(enc, "p3", budget=5, seed=0, shrink=False, max_counterexamples=2)
    dom = parse_domain("reals")
    for cx in res.counterexamples:
        small, used = shrink(cx, enc, domain=dom, max_checks=60)
        assert used >= 1
        assert (small.nonzeros, small.size) <= (cx.nonzeros, cx.size)
        assert small.size < cx.size
        assert check_zero(enc, small.vector("x")).violates is True
        assert small.certified == "exact"


def test_shrink_p2_keeps_the_flip() -> None:
    enc = Encoder.random([20, 5], "tanh", seed=3)
    res = falsify(enc, "p2", budget=5, seed=0, shrink=False)
    for cx in res.counterexamples:
        small, _ = shrink(cx, enc, domain=parse_domain("reals"), max_checks=40)
        v = small.vectors()
        assert check_flip(enc, v["x"], v["u"], v["v"]).violates is True
        assert (small.nonzeros, small.size) <= (cx.nonzeros, cx.size)


def test_shrink_binary_has_fewer_ones() -> None:
    rng = np.random.default_rng(0)
    enc = Encoder.from_arrays([rng.normal(size=(3, 24))], [np.full(3, 0.05)], ["relu"])
    x = None
    for _ in range(2000):  # a dense binary zero by rejection sampling
        cand = (rng.random(24) < 0.6).astype(float)
        if np.all(enc.pre_activations(cand) <= 0) and cand.sum() > 3:
            x = cand
            break
    assert x is not None
    cx = Counterexample.from_vectors("P3", [[int(v) for v in x]], margin="0", certified="exact", dtype="float32", domain="binary")
    small, _ = shrink(cx, enc, domain=parse_domain("binary"), max_checks=80)
    assert small.nonzeros < cx.nonzeros
    assert set(small.vector("x")) <= {0, 1}
    assert check_zero(enc, small.vector("x")).violates is True


def test_write_report_and_rerender(tmp_path) -> None:
    enc = Encoder.random([20, 5], "sigmoid", seed=1)
    res = falsify(enc, "p2", budget=5, seed=0, min_rounds=1)
    paths = write_report(res, tmp_path, command="latentcheck falsify ...")
    data = load_report(paths["json"])
    assert data["schema"] == "latentcheck.falsify/1"
    for key in ("property", "encoder", "domain", "dtype", "seed", "versions", "device", "stats", "counterexamples"):
        assert key in data, key
    assert {"evaluations", "restarts", "rounds"} <= set(data["stats"])
    assert paths["markdown"].read_text() == render_markdown(data)
    assert (tmp_path / "flip_margins.png").exists()
    cx = data["counterexamples"][0]
    assert cx["certified"] in ("exact", "interval") and cx["real"] is True
    assert all(isinstance(v, str) for v in cx["witness"]["x"])
    assert "timing" not in strip_timings(data)["stats"]


def test_markdown_never_calls_float_only_real(tmp_path) -> None:
    enc = Encoder.random([24, 6], "sigmoid", seed=2)
    res = falsify(enc, "p3", dtype="float16", budget=5, seed=0)
    text = render_markdown(res.to_json())
    assert "Certified counterexamples" not in text
    assert "NOT a counterexample over the reals" in text
    assert "not counterexamples to P3" in text


runner = CliRunner()


def test_cli_exit_codes_and_json(tmp_path) -> None:
    r = runner.invoke(app, ["falsify", "--property", "p3", "--layers", "16,4", "--activation", "relu", "--budget", "5",
                            "--json", "--no-shrink"])
    assert r.exit_code == 1, r.output
    data = json.loads(r.output)
    assert data["status"] == "counterexample"
    r = runner.invoke(app, ["falsify", "--property", "p3", "--layers", "16,4", "--activation", "sigmoid", "--budget", "1",
                            "--dtype", "float64", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "report.md").exists()
    r = runner.invoke(app, ["report", str(tmp_path / "o" / "report.json")])
    assert r.exit_code == 0 and "latentcheck falsify: P3" in r.output


def test_cli_bad_input_exits_2(tmp_path) -> None:
    from checkers.cli import main

    cases = [
        ["falsify", "--property", "p5", "--layers", "4,2", "--activation", "relu"],
        ["falsify", "--property", "p3", "--layers", "4,x", "--activation", "relu"],
        ["falsify", "--property", "p3", "--layers", "4,2"],
        ["falsify", "--property", "p3", "--weights", str(tmp_path / "missing.npz")],
        ["falsify", "--property", "p3", "--layers", "4,2", "--activation", "relu", "--domain", "torus"],
        ["falsify", "--property", "p3", "--layers", "4,2", "--activation", "__import__('os')"],
        ["report", str(tmp_path / "nope.json")],
    ]
    for argv in cases:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv


def test_cli_weights_file_and_same_seed_same_json(tmp_path) -> None:
    enc = Encoder.random([16, 4], "tanh", seed=3)
    path = tmp_path / "w.npz"
    enc.save(path)
    argv = ["falsify", "--property", "p2", "--weights", str(path), "--budget", "10", "--seed", "7", "--json"]
    a, b = runner.invoke(app, argv), runner.invoke(app, argv)
    assert a.exit_code == b.exit_code == 1
    assert strip_timings(json.loads(a.output)) == strip_timings(json.loads(b.output))
