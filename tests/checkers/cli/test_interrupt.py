"""Ctrl-C stops cleanly: exit 130, what was finished is kept (falsify's partial report, study's stored runs).

The certified counterexamples of a partial report are re-checked by the independent re-checker
(tests/_indep.py, no latentcheck code); a planted wrong witness must be rejected by it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from _indep import encode, layers_of
from latentcheck.checkers.cli.app import main
from latentcheck import load_encoder, save_encoder

ROOT = Path(__file__).resolve().parents[3]


def _interrupt_at(prefix: str):
    calls: list[str] = []

    def progress(frac: float, msg: str) -> None:
        calls.append(msg)
        if msg.startswith(prefix):
            raise KeyboardInterrupt

    return progress, calls


def _zero_exactly(encoder, witness: list[str]) -> bool:
    x = [Fraction(v) for v in witness]
    return any(x) and all(z == 0 for z in encode(layers_of(encoder, ["relu"] * len(encoder.layers)), x))


def test_engine_keeps_finished_rounds_and_certified_counterexamples() -> None:
    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems.encoder import Encoder

    enc = Encoder.random([12, 3], "relu", seed=0)
    progress, calls = _interrupt_at("round 3")
    with pytest.raises(KeyboardInterrupt) as info:
        falsify(enc, "p3", budget=30, max_counterexamples=50, min_rounds=5, progress=progress)
    partial = info.value.partial
    assert calls[-1] == "round 3"
    assert partial.stats.rounds == 2  # rounds 1 and 2 finished before the Ctrl-C
    assert partial.info["interrupted"] is True and "interrupted (Ctrl-C)" in partial.info["message"]
    assert partial.status == "counterexample" and partial.counterexamples
    for cx in partial.counterexamples:
        assert cx.certified == "exact"
        assert _zero_exactly(enc, cx.to_json()["witness"]["x"])


def test_engine_interrupted_before_anything_certified() -> None:
    from latentcheck.checkers.falsify import falsify
    from latentcheck.theorems.encoder import Encoder

    enc = Encoder.random([3, 6], "tanh", seed=0)  # m > n: no zero to find
    progress, _ = _interrupt_at("round 1")
    with pytest.raises(KeyboardInterrupt) as info:
        falsify(enc, "p3", budget=30, progress=progress)
    partial = info.value.partial
    assert partial.status == "interrupted" and not partial.counterexamples and partial.info["interrupted"] is True


def test_cli_falsify_writes_partial_report_and_exits_130(tmp_path, capsys, monkeypatch) -> None:
    from latentcheck.checkers import _exit
    from latentcheck.theorems.encoder import Encoder

    enc = Encoder.random([12, 3], "relu", seed=0)
    weights = tmp_path / "enc.npz"
    save_encoder(enc, weights)
    seen = {"n": 0}

    def poll() -> None:  # the progress hook's poll: Ctrl-C at the second call (after the constructions)
        seen["n"] += 1
        if seen["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(_exit, "poll_interrupt", poll)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["falsify", "-p", "p3", "--weights", str(weights), "--budget", "30", "--max-counterexamples", "50",
              "--out", str(out), "--no-plots"])
    assert info.value.code == 130
    err = capsys.readouterr().err
    assert "partial report" in err
    data = json.loads((out / "report.json").read_text())
    assert data["interrupted"] is True and data["status"] == "counterexample"
    assert "Interrupted (Ctrl-C)" in (out / "report.md").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md"]  # no temporary file left
    loaded = load_encoder(weights)
    for cx in data["counterexamples"]:
        assert _zero_exactly(loaded, cx["witness"]["x"])
    # a wrong witness is caught by the re-checker: x + 1000 * W[0] makes the first pre-activation positive
    x = [Fraction(v) for v in data["counterexamples"][0]["witness"]["x"]]
    row = [Fraction(float(w)) for w in loaded.layers[0].W[0]]
    planted = [str(a + 1000 * w) for a, w in zip(x, row)]
    assert not _zero_exactly(loaded, planted)


def test_cli_study_says_how_to_resume(tmp_path, capsys, monkeypatch) -> None:
    import latentcheck.checkers.study.experiment as study

    out = tmp_path / "study"

    def one_run_then_ctrl_c(cfg, progress):
        (out / "runs").mkdir(parents=True)
        (out / "runs" / "relu-0123.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_study", one_run_then_ctrl_c)
    with pytest.raises(SystemExit) as info:
        main(["study", "--out", str(out)])
    assert info.value.code == 130
    err = capsys.readouterr().err
    assert "1 finished run(s)" in err and "--resume" in err and str(out / "runs") in err


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    entry = ROOT / "benchmarks" / "_latentcheck_entry.py"  # run as a file, as the console script is
    return subprocess.Popen([sys.executable, str(entry), *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("delay", [1.0, 4.0, 8.0])
def test_real_ctrl_c_in_falsify(delay: float, tmp_path) -> None:
    """A real SIGINT at three moments (start-up, JAX start, search): exit 130, no crash, a readable report."""
    out = tmp_path / "out"
    proc = _start(["falsify", "-p", "p3", "--layers", "200,400", "--activation", "tanh", "--restarts", "1024", "--budget", "120",
                   "--out", str(out)], tmp_path)
    time.sleep(delay)
    assert proc.poll() is None  # the budget is far away: the signal interrupts the run
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # 130: our handler; -SIGINT: killed by Python's default handler in the first instants (the shell shows 130)
    assert proc.returncode in (130, -signal.SIGINT), err
    if (out / "report.json").exists():
        data = json.loads((out / "report.json").read_text())
        assert data["interrupted"] is True and data["status"] == "interrupted"


@pytest.mark.slow
def test_fifty_interrupts_each_in_falsify_and_study(tmp_path) -> None:
    """Issue 17's bar (benchmarks/interrupt_stress.py): 50 Ctrl-C at random times in each: no crash, 130, readable output."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import interrupt_stress
    finally:
        sys.path.pop(0)
    assert interrupt_stress.main(["--runs", "50", "--write", str(tmp_path / "stress.json")]) == 0
