"""The command line: exit codes, one-line errors, JSON fields."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "latentcheck.checkers.cli"]


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


def test_classify_json() -> None:
    out = run("classify", "Max(0, 2*t - 3)", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["class"] == "relu-like"
    assert data["certificate"]
    assert set(data["float_vanishing"]) == {"float16", "bfloat16", "float32", "float64"}
    assert data["float_vanishing"]["float32"] >= 1.5 - 1e-6


@pytest.mark.parametrize("expr", ["__import__('os').system('touch PWNED')", "t.__class__", "(lambda: 1)()", "t**99999"])
def test_unsafe_expression_exit_2_and_no_effect(expr: str, tmp_path) -> None:
    out = run("classify", expr, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error:") and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "PWNED").exists()


def test_unknown_activation_exit_2() -> None:
    out = run("classify", "swishy")
    assert out.returncode == 2 and "catalog" in out.stderr


def test_prove_only_json(tmp_path) -> None:
    path = tmp_path / "v.json"
    md = tmp_path / "v.md"
    out = run("prove", "--only", "P3-relu,T5-as-stated", "--json", str(path), "--markdown", str(md))
    assert out.returncode == 0, out.stdout + out.stderr
    rows = json.loads(path.read_text())
    assert [r["id"] for r in rows] == ["P3-relu", "T5-as-stated"]
    for r in rows:
        assert r["verdict"] == r["expected"] == "refuted"
        assert r["certified"] == "exact" and r["counterexample"]
    assert "| P3-relu |" in md.read_text()


def test_prove_unknown_claim_exit_2() -> None:
    out = run("prove", "--only", "T99")
    assert out.returncode == 2 and "T99" in out.stderr
