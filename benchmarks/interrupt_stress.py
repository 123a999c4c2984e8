"""Ctrl-C at random times in ``latentcheck falsify`` and ``latentcheck study``: exit 130, no segfault, partial output readable.

Issue 17's bar: 50 interrupts at random times in each command, no segfault
(exit 139 / -11 before the fix: ``libjax_common.so`` torn down at interpreter
exit), exit 130 every time, and whatever was written readable: ``falsify
--out``'s report.json (when written) is JSON marked ``"interrupted": true``,
and ``study --out`` stores finished runs as JSON and says how to ``--resume``.
A run that finishes before its signal arrives is counted apart (it is not an
interrupt). A Ctrl-C that was swallowed (exit 0 or 1 after the signal) is a
failure.

Usage: python benchmarks/interrupt_stress.py [--runs 50] [--only falsify|study] [--seed 0] [--window LO,HI]
(prints the counts, writes benchmarks/results/interrupt_stress.json; exit 0 when the bar is met)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The console script's own entry (its Ctrl-C handler goes in before the imports).
CLI = [sys.executable, str(ROOT / "benchmarks" / "_latentcheck_entry.py")]
#: (arguments after ``--out DIR``, the window of random delays in seconds after start)
COMMANDS = {
    # 200 -> 400 tanh: no zero to find, and rounds slow enough (about 50 ms) that the search runs its whole budget
    "falsify": (["falsify", "-p", "p3", "--layers", "200,400", "--activation", "tanh", "--restarts", "1024", "--budget", "60"],
                (0.3, 20.0)),
    "study": (["study", "--seeds", "1", "--split-seeds", "1", "--activations", "relu,tanh", "--max-steps", "300",
               "--falsify-budget", "0"], (0.3, 30.0)),
}


def _readable(kind: str, out: Path, stderr: str) -> tuple[bool, str]:
    """Whether the partial output of an interrupted run is readable (and why not)."""
    if kind == "falsify":
        path = out / "report.json"
        if not path.exists():
            return True, "no report (interrupted before the search)"
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            return False, f"report.json unreadable: {exc}"
        if data.get("interrupted") is True:
            return True, "report marked interrupted"
        return data.get("status") in ("none-found", "counterexample", "float-only", "none-exists", "undecided"), \
            "complete report (the Ctrl-C came after the search)"
    runs = sorted((out / "runs").glob("*.json")) if (out / "runs").is_dir() else []
    for p in runs:
        try:
            json.loads(p.read_text())
        except ValueError as exc:
            return False, f"{p.name} unreadable: {exc}"
    said = "--resume" in stderr or "before" in stderr or "not stored" in stderr or not runs
    return said, f"{len(runs)} stored run(s)" + ("" if said else ", no --resume hint")


def one(kind: str, delay: float, env: dict) -> dict:
    """Start ``kind`` in a fresh folder, send SIGINT after ``delay`` s, and judge the outcome."""
    args, _ = COMMANDS[kind]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        proc = subprocess.Popen(CLI + args + ["--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=tmp)
        time.sleep(delay)
        finished_first = proc.poll() is not None
        if not finished_first:
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            return {"kind": kind, "delay": delay, "rc": None, "outcome": "hung", "detail": "no exit 180 s after SIGINT"}
        rc = proc.returncode
        if finished_first:
            outcome = "finished-before-signal"
            detail = ""
        elif rc in (139, -11, -6, 134, -7, 135):
            outcome, detail = "crash", err[-4000:]
        elif rc == -signal.SIGINT:  # killed by SIGINT (a shell shows 130): Python's default, before our handler
            outcome, detail = "sigint-default", err[-200:]
        elif rc != 130:
            outcome, detail = "wrong-exit", err[-300:]
        else:
            ok, detail = _readable(kind, out, err)
            outcome = "ok" if ok else "unreadable"
        return {"kind": kind, "delay": round(delay, 2), "rc": rc, "outcome": outcome, "detail": detail}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--only", choices=sorted(COMMANDS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window", help="LO,HI: the random delays in seconds (default: per command, see COMMANDS)")
    ap.add_argument("--faulthandler", action="store_true", help="PYTHONFAULTHANDLER=1: a crash prints its stacks")
    ap.add_argument("--write", default=str(ROOT / "benchmarks" / "results" / "interrupt_stress.json"))
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not a.faulthandler:
        env.pop("PYTHONFAULTHANDLER", None)
    else:
        env["PYTHONFAULTHANDLER"] = "1"
    rows = []
    for kind in [a.only] if a.only else list(COMMANDS):
        lo, hi = COMMANDS[kind][1] if not a.window else (float(v) for v in a.window.split(","))
        for i in range(a.runs):
            row = one(kind, rng.uniform(lo, hi), env)
            rows.append(row)
            print(f"{kind} {i + 1}/{a.runs} delay {row['delay']:.2f} s: exit {row['rc']} {row['outcome']} {row['detail'][:80]}",
                  flush=True)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["kind"], {}).setdefault(r["outcome"], 0)
        counts[r["kind"]][r["outcome"]] += 1
    bad = [r for r in rows if r["outcome"] not in ("ok", "finished-before-signal", "sigint-default")]
    summary = {"counts": counts, "failures": bad, "runs": rows, "machine": {"cpus": os.cpu_count(), "load": os.getloadavg(),
               "python": platform.python_version()}, "bar_met": not bad}
    Path(a.write).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(counts), "bar met" if not bad else f"{len(bad)} failure(s)")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
