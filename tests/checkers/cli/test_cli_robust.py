"""The command line: foreign data refused by audit, tables readable in CI logs, reports written atomically."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentcheck.checkers.cli.app import main

ROOT = Path(__file__).resolve().parents[3]


def _encoder_with_ids(tmp: Path, ids: np.ndarray) -> Path:
    from latentcheck.checkers.study.audit import save_encoder
    from latentcheck.theorems.encoder import Encoder

    enc = Encoder.random([ids.size, 3], "tanh", seed=0)
    path = tmp / "enc.npz"
    save_encoder(path, enc, normalise="l2", rows="users", values="binary", input_ids=ids)
    return path


@pytest.mark.parametrize("foreign", [0.5, 0.02])
def test_audit_refuses_foreign_data_unless_min_match_lowered(tmp_path, capsys, foreign: float) -> None:
    from latentcheck.checkers.study.data import synthetic_ratings

    data_ids = np.unique(synthetic_ratings().items)
    n_foreign = int(round(foreign * data_ids.size))
    ids = np.concatenate([data_ids[: data_ids.size - n_foreign], 10**9 + np.arange(n_foreign)])  # ids the data lacks
    path = _encoder_with_ids(tmp_path, ids)
    with pytest.raises(SystemExit) as info:
        main(["audit", "--weights", str(path), "--falsify-budget", "0", "--triples", "50", "--json"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2
    assert err.startswith("error:") and len(err.splitlines()) == 1 and "--min-match" in err
    share = (ids.size - n_foreign) / ids.size
    assert f"{share:.2%}" in err  # the fraction is named
    with pytest.raises(SystemExit) as info:
        main(["audit", "--weights", str(path), "--falsify-budget", "0", "--triples", "50", "--json", "--min-match", str(share * 0.9)])
    assert info.value.code == 0
    payload = json.loads(capsys.readouterr().out)
    assert abs(payload["inputs"]["matched_fraction"] - share) < 1e-12


def test_audit_min_match_bounds(tmp_path, capsys) -> None:
    from latentcheck.checkers.study.data import synthetic_ratings

    path = _encoder_with_ids(tmp_path, np.unique(synthetic_ratings().items))
    for bad in ("0", "1.5", "-0.1", "nan"):
        with pytest.raises(SystemExit) as info:
            main(["audit", "--weights", str(path), "--min-match", bad])
        assert info.value.code == 2
        assert capsys.readouterr().err.startswith("error: --min-match")


def test_prove_table_not_wrapped_when_piped() -> None:
    """Output captured (not a terminal): no word of the table is split across lines."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("COLUMNS", None)
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "prove", "--only", "P3-relu,T5-as-stated"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    from latentcheck.checkers.prove.checks import prove_all

    words = set()
    for v in prove_all(["P3-relu", "T5-as-stated"]):
        for cell in (v.method, v.scope, v.expected, v.verdict):
            words.update(w for w in re.split(r"[\s|│]+", cell) if len(w) >= 4)
    flat = " ".join(re.split(r"[\s│┃|]+", text))
    missing = sorted(w for w in words if w not in flat)
    assert not missing, f"words split across lines: {missing[:5]}"
    assert "expecte d" not in text and max(len(line) for line in text.splitlines()) > 80


def test_report_write_is_atomic(tmp_path, monkeypatch) -> None:
    """A failing write leaves the old report whole and no temporary file behind."""
    from latentcheck.checkers._io import atomic_write_text

    target = tmp_path / "report.json"
    target.write_text("old")

    class Boom(Exception):
        pass

    def broken_fsync(fd: int) -> None:
        raise Boom()

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(Boom):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    monkeypatch.undo()
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
